#ifndef RADIXSERVE_CPREFETCH_H
#define RADIXSERVE_CPREFETCH_H

/// Hints the CPU to bring the cache line at `address` into the caches for reading. Swift has no
/// prefetch intrinsic; this inline function compiles to one `prefetcht0` inside the caller's loop.
static inline __attribute__((always_inline)) void radixserve_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
