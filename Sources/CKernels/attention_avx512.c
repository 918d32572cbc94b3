#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,fma")))

// 16 values of a slot as f32: loaded, or for bf16 loaded as 32 bytes and widened exactly (a zero
// extension and a 16-bit shift). `bf16` is a constant in each inlined copy.
static inline __attribute__((always_inline)) AVX512 __m512 load16(const char *slot, long index, int bf16) {
    if (bf16) {
        __m512i words = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(slot + index * 2)));
        return _mm512_castsi512_ps(_mm512_slli_epi32(words, 16));
    }
    return _mm512_loadu_ps((const float *)(slot + index * 4));
}

static inline __attribute__((always_inline)) AVX512 void weighted_values64(
    const char *head_base, int bf16, long page_stride, const int32_t *pages, long page_size, long count,
    const float *pa, const float *pb, float *oa, float *ob) {
    const long element = bf16 ? 2 : 4, slot_bytes = 64 * element, page_bytes = page_stride * element;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    long page_index = 0;
    for (long start = 0; start < count; start += page_size, page_index++) {
        long end = start + page_size < count ? start + page_size : count;
        const char *v = head_base + (long)pages[page_index] * page_bytes;
        if (end < count) {
            const char *next = head_base + (long)pages[page_index + 1] * page_bytes;
            long used = count - end < page_size ? count - end : page_size;
            for (long line = 0; line < used * slot_bytes / 64; line++) __builtin_prefetch(next + line * 64, 0, 3);
        }
        for (long t = start; t < end; t++, v += slot_bytes) {
            __m512 v0 = load16(v, 0, bf16), v1 = load16(v, 16, bf16);
            __m512 v2 = load16(v, 32, bf16), v3 = load16(v, 48, bf16);
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

AVX512 void radixserve_weighted_values64_avx512(
    const void *head_base, int bf16, long page_stride, const int32_t *pages, long page_size, long count,
    const float *pa, const float *pb, float *oa, float *ob) {
    if (bf16) {
        weighted_values64(head_base, 1, page_stride, pages, page_size, count, pa, pb, oa, ob);
    } else {
        weighted_values64(head_base, 0, page_stride, pages, page_size, count, pa, pb, oa, ob);
    }
}

#else

void radixserve_weighted_values64_avx512(
    const void *head_base, int bf16, long page_stride, const int32_t *pages, long page_size, long count,
    const float *pa, const float *pb, float *oa, float *ob) {
    (void)head_base; (void)bf16; (void)page_stride; (void)pages; (void)page_size; (void)count;
    (void)pa; (void)pb; (void)oa; (void)ob;
}

#endif
