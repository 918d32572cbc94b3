#include "CKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>

int radixserve_cpu_has_avx512(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & bit_OSXSAVE)) return 0;
    unsigned xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    // SSE, AVX, opmask, ZMM0-15 upper halves and ZMM16-31 state all enabled by the OS.
    if ((xcr0_low & 0xE6) != 0xE6) return 0;
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
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & bit_OSXSAVE)) return 0;
    unsigned xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    if ((xcr0_low & 0x6) != 0x6) return 0;  // SSE and AVX state
    if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return 0;
    return (eax & bit_AVXVNNI) != 0;
}

#else

int radixserve_cpu_has_avx512(void) { return 0; }
int radixserve_cpu_has_avx512_vnni(void) { return 0; }
int radixserve_cpu_has_avx_vnni(void) { return 0; }

#endif
