#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma")))

enum { BLOCK = RADIXSERVE_Q8_BLOCK };

/// Quantizes one block of 32 values: scale = max |v| / 127 and q = round(v / scale), nearest
/// even (0 and scale 0 for an all-zero block).
static inline __attribute__((always_inline)) AVX2 float quantize_block(const float *v, int8_t *q) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    __m256 a[4];
    __m256 amax = _mm256_setzero_ps();
    for (int i = 0; i < 4; i++) {
        a[i] = _mm256_loadu_ps(v + 8 * i);
        amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_bit, a[i]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float peak = _mm_cvtss_f32(m);
    const float scale = peak / 127.0f;
    const __m256 inverse = _mm256_set1_ps(scale != 0.0f ? 1.0f / scale : 0.0f);
    __m256i n[4];
    for (int i = 0; i < 4; i++) n[i] = _mm256_cvtps_epi32(_mm256_mul_ps(a[i], inverse));
    // packs works per 128-bit lane: 0 1 | 2 3 words become bytes in lane order 0 2 1 3 (per 4 values).
    __m256i words = _mm256_packs_epi32(n[0], n[1]), words2 = _mm256_packs_epi32(n[2], n[3]);
    __m256i bytes = _mm256_packs_epi16(words, words2);
    bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, bytes);
    return scale;
}

AVX2 void radixserve_q8_quantize_rows(
    const float *x, long stride, long rows, long columns, int8_t *quants, float *scales) {
    const long blocks = (columns + BLOCK - 1) / BLOCK;
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * stride;
        int8_t *q = quants + r * blocks * BLOCK;
        float *s = scales + r * blocks;
        long b = 0;
        for (; (b + 1) * BLOCK <= columns; b++) s[b] = quantize_block(row + b * BLOCK, q + b * BLOCK);
        if (b < blocks) {
            float tail[BLOCK] = {0};
            memcpy(tail, row + b * BLOCK, (size_t)(columns - b * BLOCK) * sizeof(float));
            s[b] = quantize_block(tail, q + b * BLOCK);
        }
    }
}

/// `Σ w·x` over one block as 8 int32 lane sums, converted to float. |w| ≤ 127 and |x| ≤ 127, so
/// maddubs's pairwise 16-bit sums (at most 2·127·127) never saturate.
static inline __attribute__((always_inline)) AVX2 __m256 block_dot(__m256i magnitude, __m256i w, __m256i x) {
    const __m256i signed_x = _mm256_sign_epi8(x, w);
    const __m256i pairs = _mm256_maddubs_epi16(magnitude, signed_x);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

static inline __attribute__((always_inline)) AVX2 float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Outputs `f ..< f + features` of `n` rows starting at row `row` (both constants after inlining):
/// each block of input is loaded once for all the features, each block of weights once for all
/// the rows, and the `n · features` sums are independent chains.
static inline __attribute__((always_inline)) AVX2 void tile(
    const radixserve_q8_matmul *m, long row, const int n, long f, const int features) {
    const long blocks = m->blocks, width = blocks * BLOCK;
    const int8_t *xq = m->input_quants + row * width;
    const float *xs = m->input_scales + row * blocks;
    const int8_t *wq = m->weight_quants + f * width;
    const float *ws = m->weight_scales + f * blocks;
    const int8_t *next = wq + features * width;
    __m256 acc[4][4];
#pragma clang loop unroll(full)
    for (int r = 0; r < n; r++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < features; j++) acc[r][j] = _mm256_setzero_ps();
    }
    for (long b = 0; b < blocks; b++) {
        __m256i x[4];
#pragma clang loop unroll(full)
        for (int r = 0; r < n; r++) x[r] = _mm256_loadu_si256((const __m256i *)(xq + r * width + b * BLOCK));
#pragma clang loop unroll(full)
        for (int j = 0; j < features; j++) {
            // The next tile's weights (the `features` rows after these), one 32-byte step per step
            // here: four short rows read side by side defeat the hardware prefetcher.
            _mm_prefetch((const char *)(next + (b * features + j) * BLOCK), _MM_HINT_T0);
            const __m256i w = _mm256_loadu_si256((const __m256i *)(wq + j * width + b * BLOCK));
            const __m256i magnitude = _mm256_sign_epi8(w, w);
            const float scale = ws[j * blocks + b];
#pragma clang loop unroll(full)
            for (int r = 0; r < n; r++) {
                acc[r][j] = _mm256_fmadd_ps(
                    _mm256_set1_ps(scale * xs[r * blocks + b]), block_dot(magnitude, w, x[r]), acc[r][j]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < n; r++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < features; j++) {
            float sum = horizontal_sum(acc[r][j]);
            if (m->bias) sum += m->bias[f + j];
            m->out[(row + r) * m->out_stride + f + j] = sum;
        }
    }
}

/// Outputs `first ..< end` of `n` rows from row `row`: 4 features at a time for one row, 2 for
/// two, 1 for three or four (at most 8 accumulators), then the remaining features one by one.
static inline __attribute__((always_inline)) AVX2 void rows_times_features(
    const radixserve_q8_matmul *m, long row, const int n, long first, long end) {
    const int features = n == 1 ? 4 : n == 2 ? 2 : 1;
    long f = first;
    for (; f + features <= end; f += features) tile(m, row, n, f, features);
    for (; f < end; f++) tile(m, row, n, f, 1);
}

AVX2 void radixserve_q8_matmul_avx2(const radixserve_q8_matmul *m) {
    // Weight rows in chunks that stay in L1/L2 while every 4-row tile of the input passes over them.
    const long chunk = m->rows > 4 ? 16 : m->end - m->first;
    for (long first = m->first; first < m->end; first += chunk) {
        const long end = first + chunk < m->end ? first + chunk : m->end;
        long row = 0;
        for (; row + 4 <= m->rows; row += 4) rows_times_features(m, row, 4, first, end);
        switch (m->rows - row) {
        case 3: rows_times_features(m, row, 3, first, end); break;
        case 2: rows_times_features(m, row, 2, first, end); break;
        case 1: rows_times_features(m, row, 1, first, end); break;
        default: break;
        }
    }
}

#else

void radixserve_q8_quantize_rows(const float *x, long stride, long rows, long columns, int8_t *quants, float *scales) {
    (void)x; (void)stride; (void)rows; (void)columns; (void)quants; (void)scales;
}

void radixserve_q8_matmul_avx2(const radixserve_q8_matmul *m) { (void)m; }

#endif
