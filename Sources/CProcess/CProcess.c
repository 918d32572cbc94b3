#include "CProcess.h"

#include <sys/syscall.h>
#include <unistd.h>

int radixserve_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    return -1;
#endif
}
