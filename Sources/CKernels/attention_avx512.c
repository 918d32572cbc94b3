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

/* The same sums over bf16 values: 16 values load as 32 bytes and widen to f32 with a zero
   extension and a 16-bit shift, then the arithmetic is the f32 kernel's. */
static inline __attribute__((always_inline, target("avx512f"))) __m512 widen_bf16x16(const uint16_t *v) {
    __m512i words = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)v));
    return _mm512_castsi512_ps(_mm512_slli_epi32(words, 16));
}

AVX512 void radixserve_weighted_values64_bf16_avx512(
    const uint16_t *head_base, long page_stride, const int32_t *pages, long page_size, long count,
    const float *pa, const float *pb, float *oa, float *ob) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    long page_index = 0;
    for (long start = 0; start < count; start += page_size, page_index++) {
        long end = start + page_size < count ? start + page_size : count;
        const uint16_t *v = head_base + (long)pages[page_index] * page_stride;
        if (end < count) {
            const char *next = (const char *)(head_base + (long)pages[page_index + 1] * page_stride);
            long used = count - end < page_size ? count - end : page_size;
            for (long line = 0; line < used * 2; line++) __builtin_prefetch(next + line * 64, 0, 3);
        }
        for (long t = start; t < end; t++, v += 64) {
            __m512 v0 = widen_bf16x16(v), v1 = widen_bf16x16(v + 16);
            __m512 v2 = widen_bf16x16(v + 32), v3 = widen_bf16x16(v + 48);
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

void radixserve_weighted_values64_bf16_avx512(
    const uint16_t *head_base, long page_stride, const int32_t *pages, long page_size, long count,
    const float *pa, const float *pb, float *oa, float *ob) {
    (void)head_base; (void)page_stride; (void)pages; (void)page_size; (void)count;
    (void)pa; (void)pb; (void)oa; (void)ob;
}

#endif
