#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,fma,f16c")))

/// 16 weights of input feature `i`, as f32. bf16 panels come out as features 0, 8, 1, 9, … 7, 15
/// (see `unpermute_bf16`).
static inline __attribute__((always_inline)) AVX512 __m512 load_group(const void *panel, long i, int format) {
    switch (format) {
    case RADIXSERVE_PANEL_BF16: {
        __m256i words = _mm256_loadu_si256((const __m256i *)((const char *)panel + i * 32));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(words), 16));
    }
    case RADIXSERVE_PANEL_F16:
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const char *)panel + i * 32)));
    default:
        return _mm512_loadu_ps((const float *)panel + i * 16);
    }
}

static inline __attribute__((always_inline)) AVX512 __m512 unpermute_bf16(__m512 v) {
    const __m512i order = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    return _mm512_permutexvar_ps(order, v);
}

static inline __attribute__((always_inline)) AVX512 void store_row(
    __m512 sum, float *out, const float *bias, long valid, int accumulates, int format) {
    if (format == RADIXSERVE_PANEL_BF16) sum = unpermute_bf16(sum);
    __mmask16 mask = (__mmask16)((1u << valid) - 1u);
    if (accumulates) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(mask, out));
    if (bias) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(mask, bias));
    _mm512_mask_storeu_ps(out, mask, sum);
}

/// `n` rows times `panels` panels (both constants after inlining).
static inline __attribute__((always_inline)) AVX512 void panel_rows(
    const radixserve_panel_tile *tile, const int n, const int panels, const int format) {
    __m512 a[RADIXSERVE_PANEL_AVX512_ROWS], b[RADIXSERVE_PANEL_AVX512_ROWS];
#pragma clang loop unroll(full)
    for (int r = 0; r < n; r++) {
        a[r] = _mm512_setzero_ps();
        b[r] = _mm512_setzero_ps();
    }
    const char *first = tile->panel, *second = (const char *)tile->panel + tile->panel_bytes;
    const char *prefetch0 = tile->prefetch[0], *prefetch1 = tile->prefetch[1];
    const char *prefetch_end = prefetch0 + tile->prefetch_lines * 64;
    long countdown = 0;
    const float *x = tile->x;
    for (long i = 0; i < tile->depth; i++) {
        __m512 w0 = load_group(first, i, format);
        __m512 w1 = panels > 1 ? load_group(second, i, format) : w0;
        if (countdown == 0 && prefetch0 < prefetch_end) {
            __builtin_prefetch(prefetch0, 0, 3);
            if (panels > 1) __builtin_prefetch(prefetch1, 0, 3);
            prefetch0 += 64;
            prefetch1 += 64;
            countdown = tile->prefetch_every;
        }
        countdown--;
#pragma clang loop unroll(full)
        for (int r = 0; r < n; r++) {
            __m512 xr = _mm512_set1_ps(x[r]);
            a[r] = _mm512_fmadd_ps(w0, xr, a[r]);
            if (panels > 1) b[r] = _mm512_fmadd_ps(w1, xr, b[r]);
        }
        x += RADIXSERVE_PANEL_AVX512_GROUP_ROWS;
    }
    const float *bias = tile->bias;
#pragma clang loop unroll(full)
    for (int r = 0; r < n; r++) {
        float *out = tile->out + r * tile->out_stride;
        store_row(a[r], out, bias, panels > 1 ? 16 : tile->valid, tile->accumulates, format);
        if (panels > 1) store_row(b[r], out + 16, bias ? bias + 16 : 0, tile->valid, tile->accumulates, format);
    }
}

#define ROWS_CASE(N, PANELS, FORMAT) case N: panel_rows(tile, N, PANELS, FORMAT); break;
#define ROWS_SWITCH(PANELS, FORMAT)                                                                             \
    switch (tile->rows) {                                                                                       \
        ROWS_CASE(1, PANELS, FORMAT) ROWS_CASE(2, PANELS, FORMAT) ROWS_CASE(3, PANELS, FORMAT)                  \
        ROWS_CASE(4, PANELS, FORMAT) ROWS_CASE(5, PANELS, FORMAT) ROWS_CASE(6, PANELS, FORMAT)                  \
        ROWS_CASE(7, PANELS, FORMAT) ROWS_CASE(8, PANELS, FORMAT)                                               \
        default: break;                                                                                         \
    }
#define PANELS_SWITCH(FORMAT)                     \
    if (tile->panels > 1) {                       \
        ROWS_SWITCH(2, FORMAT)                    \
    } else {                                      \
        ROWS_SWITCH(1, FORMAT)                    \
    }

AVX512 void radixserve_panel_kernel_avx512(const radixserve_panel_tile *tile) {
    switch (tile->format) {
    case RADIXSERVE_PANEL_BF16: PANELS_SWITCH(RADIXSERVE_PANEL_BF16) break;
    case RADIXSERVE_PANEL_F16: PANELS_SWITCH(RADIXSERVE_PANEL_F16) break;
    default: PANELS_SWITCH(RADIXSERVE_PANEL_F32) break;
    }
}

AVX512 void radixserve_pack_rows16_avx512(const float *x, long stride, int rows, long columns, float *out) {
    long i = 0;
    for (; i + 16 <= columns; i += 16) {
        __m512 r[16], a[16], b[16];
        for (int k = 0; k < 16; k++) r[k] = k < rows ? _mm512_loadu_ps(x + k * stride + i) : _mm512_setzero_ps();
        // Rows 2k, 2k+1 interleaved per 128-bit lane L: columns 4L, 4L+1 (a[2k]) and 4L+2, 4L+3 (a[2k+1]).
        for (int k = 0; k < 8; k++) {
            a[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
            a[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
        }
        // b[4k + m], lane L: column 4L + m of rows 4k ..< 4k + 4.
        for (int k = 0; k < 4; k++) {
            __m512d lo0 = _mm512_castps_pd(a[4 * k]), hi0 = _mm512_castps_pd(a[4 * k + 1]);
            __m512d lo1 = _mm512_castps_pd(a[4 * k + 2]), hi1 = _mm512_castps_pd(a[4 * k + 3]);
            b[4 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo0, lo1));
            b[4 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo0, lo1));
            b[4 * k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi0, hi1));
            b[4 * k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi0, hi1));
        }
        // Column 4L + m gathers lane L of b[m], b[4 + m], b[8 + m], b[12 + m].
        for (int m = 0; m < 4; m++) {
            __m512 c0 = _mm512_shuffle_f32x4(b[m], b[4 + m], _MM_SHUFFLE(2, 0, 2, 0));
            __m512 c1 = _mm512_shuffle_f32x4(b[m], b[4 + m], _MM_SHUFFLE(3, 1, 3, 1));
            __m512 c2 = _mm512_shuffle_f32x4(b[8 + m], b[12 + m], _MM_SHUFFLE(2, 0, 2, 0));
            __m512 c3 = _mm512_shuffle_f32x4(b[8 + m], b[12 + m], _MM_SHUFFLE(3, 1, 3, 1));
            _mm512_storeu_ps(out + (i + m) * 16, _mm512_shuffle_f32x4(c0, c2, _MM_SHUFFLE(2, 0, 2, 0)));
            _mm512_storeu_ps(out + (i + 4 + m) * 16, _mm512_shuffle_f32x4(c1, c3, _MM_SHUFFLE(2, 0, 2, 0)));
            _mm512_storeu_ps(out + (i + 8 + m) * 16, _mm512_shuffle_f32x4(c0, c2, _MM_SHUFFLE(3, 1, 3, 1)));
            _mm512_storeu_ps(out + (i + 12 + m) * 16, _mm512_shuffle_f32x4(c1, c3, _MM_SHUFFLE(3, 1, 3, 1)));
        }
    }
    for (; i < columns; i++) {
        for (int k = 0; k < 16; k++) out[i * 16 + k] = k < rows ? x[k * stride + i] : 0.0f;
    }
}

#else

void radixserve_panel_kernel_avx512(const radixserve_panel_tile *tile) { (void)tile; }

void radixserve_pack_rows16_avx512(const float *x, long stride, int rows, long columns, float *out) {
    (void)x; (void)stride; (void)rows; (void)columns; (void)out;
}

#endif
