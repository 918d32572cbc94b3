#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,fma")))

AVX512 void radixserve_weighted_values64_avx512(
    const float *head_base, long page_stride, const int32_t *pages, long page_size, long count,
    const float *pa, const float *pb, float *oa, float *ob) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    long page_index = 0;
    for (long start = 0; start < count; start += page_size, page_index++) {
        long end = start + page_size < count ? start + page_size : count;
        const float *v = head_base + (long)pages[page_index] * page_stride;
        if (end < count) {
            const char *next = (const char *)(head_base + (long)pages[page_index + 1] * page_stride);
            long used = count - end < page_size ? count - end : page_size;
            for (long line = 0; line < used * 4; line++) __builtin_prefetch(next + line * 64, 0, 3);
        }
        for (long t = start; t < end; t++, v += 64) {
            __m512 v0 = _mm512_loadu_ps(v), v1 = _mm512_loadu_ps(v + 16);
            __m512 v2 = _mm512_loadu_ps(v + 32), v3 = _mm512_loadu_ps(v + 48);
            __m512 wa = _mm512_set1_ps(pa[t]);
            a0 = _mm512_fmadd_ps(v0, wa, a0);
            a1 = _mm512_fmadd_ps(v1, wa, a1);
            a2 = _mm512_fmadd_ps(v2, wa, a2);
            a3 = _mm512_fmadd_ps(v3, wa, a3);
            if (pb) {
                __m512 wb = _mm512_set1_ps(pb[t]);
                b0 = _mm512_fmadd_ps(v0, wb, b0);
                b1 = _mm512_fmadd_ps(v1, wb, b1);
                b2 = _mm512_fmadd_ps(v2, wb, b2);
                b3 = _mm512_fmadd_ps(v3, wb, b3);
            }
        }
    }
    _mm512_storeu_ps(oa, a0);
    _mm512_storeu_ps(oa + 16, a1);
    _mm512_storeu_ps(oa + 32, a2);
    _mm512_storeu_ps(oa + 48, a3);
    if (pb) {
        _mm512_storeu_ps(ob, b0);
        _mm512_storeu_ps(ob + 16, b1);
        _mm512_storeu_ps(ob + 32, b2);
        _mm512_storeu_ps(ob + 48, b3);
    }
}

#else

void radixserve_weighted_values64_avx512(
    const float *head_base, long page_stride, const int32_t *pages, long page_size, long count,
    const float *pa, const float *pb, float *oa, float *ob) {
    (void)head_base; (void)page_stride; (void)pages; (void)page_size; (void)count;
    (void)pa; (void)pb; (void)oa; (void)ob;
}

#endif
