#include "CKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>

/// Whether the OS saves every register state in `mask` (XCR0 bits) on context switches.
static int os_saves_state(unsigned mask) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & bit_OSXSAVE)) return 0;
    unsigned xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    return (xcr0_low & mask) == mask;
}

int radixserve_cpu_has_avx512(void) {
    // SSE, AVX, opmask, ZMM0-15 upper halves and ZMM16-31 state all enabled by the OS.
    if (!os_saves_state(0xE6)) return 0;
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx & bit_AVX512F) != 0;
}

int radixserve_cpu_has_avx512_vnni(void) {
    if (!radixserve_cpu_has_avx512()) return 0;
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx & bit_AVX512VL) != 0 && (ecx & bit_AVX512VNNI) != 0;
}

int radixserve_cpu_has_avx_vnni(void) {
    if (!os_saves_state(0x6)) return 0;  // SSE and AVX state
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return 0;
    return (eax & bit_AVXVNNI) != 0;
}

#else

int radixserve_cpu_has_avx512(void) { return 0; }
int radixserve_cpu_has_avx512_vnni(void) { return 0; }
int radixserve_cpu_has_avx_vnni(void) { return 0; }

#endif
