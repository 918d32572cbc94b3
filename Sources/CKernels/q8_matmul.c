#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

enum { BLOCK = RADIXSERVE_Q8_BLOCK };

/// Quantizes one block of 32 values: scale = max |v| / 127 and q = round(v / scale), nearest
/// even (0 and scale 0 for an all-zero block). With `half` (a constant after inlining) the scale
/// is first rounded up to an f16, stored in `*half_bits`, and the values are divided by that, so
/// every |q| stays ≤ 127.
static inline __attribute__((always_inline)) AVX2 float quantize_block(
    const float *v, int8_t *q, const int half, uint16_t *half_bits) {
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
    float scale = peak / 127.0f;
    if (half) {
        // 65504 is the largest finite f16: larger blocks (|w| over 8.3 million) saturate at ±127.
        const __m128i bits = _mm_cvtps_ph(_mm_set_ss(fminf(scale, 65504.0f)), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
        *half_bits = (uint16_t)_mm_extract_epi16(bits, 0);
        scale = _mm_cvtss_f32(_mm_cvtph_ps(bits));
    }
    const __m256 inverse = _mm256_set1_ps(scale != 0.0f ? 1.0f / scale : 0.0f);
    __m256i n[4];
    for (int i = 0; i < 4; i++) n[i] = _mm256_cvtps_epi32(_mm256_mul_ps(a[i], inverse));
    // packs works per 128-bit lane: 0 1 | 2 3 words become bytes in lane order 0 2 1 3 (per 4 values).
    __m256i words = _mm256_packs_epi32(n[0], n[1]), words2 = _mm256_packs_epi32(n[2], n[3]);
    __m256i bytes = _mm256_packs_epi16(words, words2);
    bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    // A block scaled by 1/scale reaches 127 at most (127.0x after an f16 scale); keep -128 out.
    bytes = _mm256_max_epi8(bytes, _mm256_set1_epi8(-127));
    _mm256_storeu_si256((__m256i *)q, bytes);
    return scale;
}

/// Quantizes rows to blocks, with f32 scales into `scales` or, when `half` (a constant after
/// inlining), f16 scales into `half_scales`.
static inline __attribute__((always_inline)) AVX2 void quantize_rows(
    const float *x, long stride, long rows, long columns, int8_t *quants, float *scales, const int half,
    uint16_t *half_scales) {
    const long blocks = (columns + BLOCK - 1) / BLOCK;
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * stride;
        int8_t *q = quants + r * blocks * BLOCK;
        for (long b = 0; b < blocks; b++) {
            const float *v = row + b * BLOCK;
            float tail[BLOCK];  // the last block, zero-padded, when the row ends inside it
            if ((b + 1) * BLOCK > columns) {
                memset(tail, 0, sizeof tail);
                memcpy(tail, v, (size_t)(columns - b * BLOCK) * sizeof(float));
                v = tail;
            }
            const long index = r * blocks + b;
            if (half) quantize_block(v, q + b * BLOCK, 1, half_scales + index);
            else scales[index] = quantize_block(v, q + b * BLOCK, 0, NULL);
        }
    }
}

AVX2 void radixserve_q8_quantize_rows(
    const float *x, long stride, long rows, long columns, int8_t *quants, float *scales) {
    quantize_rows(x, stride, rows, columns, quants, scales, 0, NULL);
}

AVX2 void radixserve_q8_quantize_weight_rows(
    const float *x, long stride, long rows, long columns, int8_t *quants, uint16_t *scales) {
    quantize_rows(x, stride, rows, columns, quants, NULL, 1, scales);
}

static inline __attribute__((always_inline)) AVX2 float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// AVX2: vpmaddubsw's pairwise 16-bit sums (at most 2·127·127, so they never saturate), then
// vpmaddwd by ones.
#define Q8_TARGET AVX2
#define Q8_NAME(name) name##_avx2
#define Q8_BLOCK_SUMS(magnitude, signed_x) \
    _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, signed_x), _mm256_set1_epi16(1))
#include "q8_tile.h"
#undef Q8_TARGET
#undef Q8_NAME
#undef Q8_BLOCK_SUMS

// AVX-VNNI (VEX) and AVX512-VNNI on 256-bit registers: one vpdpbusd gives the same lane sums.
#define Q8_TARGET __attribute__((target("avx2,fma,f16c,avxvnni")))
#define Q8_NAME(name) name##_avxvnni
#define Q8_BLOCK_SUMS(magnitude, signed_x) _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), magnitude, signed_x)
#include "q8_tile.h"
#undef Q8_TARGET
#undef Q8_NAME
#undef Q8_BLOCK_SUMS

#define Q8_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))
#define Q8_NAME(name) name##_avx512vnni
#define Q8_BLOCK_SUMS(magnitude, signed_x) _mm256_dpbusd_epi32(_mm256_setzero_si256(), magnitude, signed_x)
#include "q8_tile.h"
#undef Q8_TARGET
#undef Q8_NAME
#undef Q8_BLOCK_SUMS

int radixserve_q8_best_kernel(void) {
    if (radixserve_cpu_has_avx512_vnni()) return RADIXSERVE_Q8_AVX512_VNNI;
    if (radixserve_cpu_has_avx_vnni()) return RADIXSERVE_Q8_AVX_VNNI;
    return RADIXSERVE_Q8_AVX2;
}

void radixserve_q8_matmul_run(const radixserve_q8_matmul *m, int kernel) {
    switch (kernel) {
    case RADIXSERVE_Q8_AVX512_VNNI: matmul_avx512vnni(m); break;
    case RADIXSERVE_Q8_AVX_VNNI: matmul_avxvnni(m); break;
    default: matmul_avx2(m); break;
    }
}

#else

void radixserve_q8_quantize_rows(const float *x, long stride, long rows, long columns, int8_t *quants, float *scales) {
    (void)x; (void)stride; (void)rows; (void)columns; (void)quants; (void)scales;
}

void radixserve_q8_quantize_weight_rows(
    const float *x, long stride, long rows, long columns, int8_t *quants, uint16_t *scales) {
    (void)x; (void)stride; (void)rows; (void)columns; (void)quants; (void)scales;
}

int radixserve_q8_best_kernel(void) { return RADIXSERVE_Q8_AVX2; }

void radixserve_q8_matmul_run(const radixserve_q8_matmul *m, int kernel) { (void)m; (void)kernel; }

#endif
