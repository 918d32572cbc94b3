#ifndef RADIXSERVE_CKERNELS_H
#define RADIXSERVE_CKERNELS_H

#include <stdint.h>

// CPU kernels for instruction sets the Swift targets are not compiled for. Each function carries
// its own target attribute and runs only after `radixserve_cpu_has_avx512()` said yes, so the
// binary still runs on any AVX2 machine. (Swift has no per-function target attribute, and a
// Swift module built for AVX-512 could hand the linker generic specializations that other modules
// share, so these kernels are in C.)

/// Whether the CPU and the operating system support AVX-512 F (ZMM state enabled in XCR0).
int radixserve_cpu_has_avx512(void);

/// Whether the CPU and the operating system support AVX512-VNNI with AVX512-VL (`vpdpbusd` on
/// 256-bit registers).
int radixserve_cpu_has_avx512_vnni(void);

/// Whether the CPU and the operating system support AVX-VNNI (VEX-encoded `vpdpbusd`).
int radixserve_cpu_has_avx_vnni(void);

/// Element formats of a weight panel (see PackedWeights.swift).
enum {
    RADIXSERVE_PANEL_F32 = 0,
    /// bf16, 32-bit word j holding feature j in its low half and feature j + 8 in its high half.
    RADIXSERVE_PANEL_BF16 = 1,
    RADIXSERVE_PANEL_F16 = 2,
};

/// Rows per group of packed matmul input (``radixserve_pack_rows16_avx512``).
#define RADIXSERVE_PANEL_AVX512_GROUP_ROWS 16
/// Rows of one AVX-512 micro-kernel call (half a packed group).
#define RADIXSERVE_PANEL_AVX512_ROWS 8

/// One micro-kernel call: `rows` (at most 8) rows of `x` times `depth` 16-feature groups of one or
/// two panel blocks (`panels`, `panel_bytes` apart), into `out`. Row `r`'s value at input feature
/// `i` is `x[i * 16 + r]` (rows interleaved in groups of 16; `x` may point into the second half
/// of a group).
typedef struct {
    const float *x;
    const void *panel;
    long panel_bytes;
    int panels;
    int rows;
    int format;
    /// Whether `out` already holds the sum of earlier depth blocks, added before `bias`.
    int accumulates;
    /// This call's share of the next blocks to prefetch, one per panel: `prefetch_lines` cache
    /// lines from each, one line each every `prefetch_every` input features.
    const void *prefetch[2];
    long prefetch_lines;
    long prefetch_every;
    long depth;
    float *out;
    long out_stride;
    /// Valid output features of the last panel (the first of two is always whole).
    long valid;
    /// Added after the sum (last depth block only), from the first panel's first feature; may be null.
    const float *bias;
} radixserve_panel_tile;

/// Runs one tile with AVX-512 F: up to 8 rows × 32 features in 16 accumulators, two weight loads
/// and 8 broadcasts per 16 fused multiply-adds. Per output element the arithmetic is the AVX2
/// Swift kernel's, in the same order (one fused multiply-add per input feature, then `+ out`,
/// then `+ bias`), so both give the same bits.
void radixserve_panel_kernel_avx512(const radixserve_panel_tile *tile);

/// Decode attention's value sums for a 64-feature head, one or two query heads (`pb` null: one):
/// `oa[f] = Σ_t pa[t] · v_t[f]` (and `ob` with `pb`) over positions `t < count` of a paged cache of
/// f32 values, or of bf16 values with `bf16` non-zero (each widened exactly, a 16-bit shift).
/// Position `t` is slot `t % page_size` of page `pages[t / page_size]`, whose slot 0 is
/// `page * page_stride` elements from `head_base`; slots are 64 elements apart. Each sum runs in
/// position order, one fused multiply-add per position, as the AVX2 Swift kernel does, so both
/// give the same bits. The next page is prefetched while one is summed (pages are scattered).
void radixserve_weighted_values64_avx512(
    const void *head_base, int bf16, long page_stride, const int32_t *pages, long page_size, long count,
    const float *pa, const float *pb, float *oa, float *ob);

/// Copies `rows` (at most 16) rows of `x`, `stride` floats apart, into the micro-kernel's layout:
/// `out[i * 16 + r] = x[r * stride + i]` for every input feature `i < columns`, and 0 for `r >= rows`.
/// 16 × 16 blocks are transposed in registers.
void radixserve_pack_rows16_avx512(const float *x, long stride, int rows, long columns, float *out);

/// Values per block of int8 weights and activations (one scale per block).
#define RADIXSERVE_Q8_BLOCK 32

/// Quantizes `rows` rows of `columns` floats (`stride` apart) to int8 blocks of 32, the last one
/// zero-padded: block `b` of row `r` is `quants[(r · blocks + b) · 32 ...]` with scale
/// `scales[r · blocks + b]` = max |v| / 127, each value round(v / scale) to nearest even, where
/// `blocks` = ⌈columns / 32⌉. Needs AVX2 and F16C (so do all the int8 functions here).
void radixserve_q8_quantize_rows(const float *x, long stride, long rows, long columns, int8_t *quants, float *scales);

/// ``radixserve_q8_quantize_rows`` for weights: each scale is max |v| / 127 rounded up to an f16
/// (at most 65504), stored as its bits, and the values are divided by that rounded scale.
void radixserve_q8_quantize_weight_rows(
    const float *x, long stride, long rows, long columns, int8_t *quants, uint16_t *scales);

/// `out[r][f] = Σ_b weight_scale[f][b] · input_scale[r][b] · Σ_i w[f][b·32 + i] · x[r][b·32 + i]`
/// (`+ bias[f]`) for output features `first ..< end` of every input row, the input quantized by
/// ``radixserve_q8_quantize_rows`` and the weights by ``radixserve_q8_quantize_weight_rows``.
/// Each block's integer dot product is exact; its scaled value is added to 8 float lanes in block
/// order, then the lanes are summed, the same for any row count, so a row's result does not
/// depend on the others.
typedef struct {
    const int8_t *input_quants;
    const float *input_scales;
    long rows;
    const int8_t *weight_quants;
    const uint16_t *weight_scales;
    long blocks;
    long first;
    long end;
    const float *bias;
    float *out;
    long out_stride;
} radixserve_q8_matmul;

/// Instruction sets of ``radixserve_q8_matmul_run``, each computing the same bits: weight rows in
/// chunks of 16, input rows in tiles of 4 per weight load, and per block the products of |w| and x
/// signed by w summed in 8 int32 lanes.
enum {
    /// `vpmaddubsw` then `vpmaddwd` (pairwise 16-bit sums, at most 2·127·127, never saturate).
    RADIXSERVE_Q8_AVX2 = 0,
    /// One VEX `vpdpbusd`.
    RADIXSERVE_Q8_AVX_VNNI = 1,
    /// One EVEX `vpdpbusd` on 256-bit registers.
    RADIXSERVE_Q8_AVX512_VNNI = 2,
};

/// The fastest of the kernels above that this CPU runs.
int radixserve_q8_best_kernel(void);

/// Runs ``radixserve_q8_matmul`` with `kernel`: AVX2, or a VNNI kernel whose check above
/// (``radixserve_cpu_has_avx_vnni``, ``radixserve_cpu_has_avx512_vnni``) said yes.
void radixserve_q8_matmul_run(const radixserve_q8_matmul *m, int kernel);

#endif
