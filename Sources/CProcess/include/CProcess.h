#ifndef RADIXSERVE_CPROCESS_H
#define RADIXSERVE_CPROCESS_H

#include <sys/types.h>

// Linux process calls Swift's Glibc module does not export.

/// A file descriptor that becomes readable when process `pid` exits (pidfd_open(2), Linux 5.3+),
/// or -1 with errno set.
int radixserve_pidfd_open(pid_t pid);

#endif
