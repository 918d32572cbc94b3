#ifndef RADIXSERVE_CPROCESS_H
#define RADIXSERVE_CPROCESS_H

#include <sys/types.h>

// Linux process calls Swift's Glibc module does not export.

/// A file descriptor that becomes readable when process `pid` exits (pidfd_open(2), Linux 5.3+),
/// or -1 with errno set.
int radixserve_pidfd_open(pid_t pid);

/// Starts `path` (an absolute or relative file name, not searched in PATH) with `argv` (ending in
/// NULL) and this process's environment, its standard output sent to this process's standard
/// error, as a child that gets SIGKILL when the calling thread ends (PR_SET_PDEATHSIG), so it never
/// outlives a parent killed by any signal. Returns the child's pid, or -1 with errno set when the
/// fork failed; a child that cannot exec its file exits with status 127.
pid_t radixserve_spawn_tied(const char *path, char *const argv[]);

#endif
