// Counts heap allocations of a process when preloaded (LD_PRELOAD); see scripts/check-allocations.sh.
#pragma once

/// Allocation calls (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) so far.
long radixserve_allocation_count(void);
