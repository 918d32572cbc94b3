#ifndef RADIXSERVE_CINTRINSICS_H
#define RADIXSERVE_CINTRINSICS_H

#include <stdint.h>

// Compiler intrinsics Swift has no spelling for. Each is an inline function that compiles to one
// or two instructions inside the Swift caller.

/// Hints the CPU to bring the cache line at `address` into the caches for reading (`prefetcht0`).
static inline __attribute__((always_inline)) void radixserve_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Loads a 64-bit value with acquire ordering (memory shared between processes).
static inline __attribute__((always_inline)) uint64_t radixserve_load_acquire(const uint64_t *address) {
    return __atomic_load_n(address, __ATOMIC_ACQUIRE);
}

/// Stores a 64-bit value with release ordering (memory shared between processes).
static inline __attribute__((always_inline)) void radixserve_store_release(uint64_t *address, uint64_t value) {
    __atomic_store_n(address, value, __ATOMIC_RELEASE);
}

/// Tells the CPU this is a spin-wait loop (`pause` on x86).
static inline __attribute__((always_inline)) void radixserve_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#endif
