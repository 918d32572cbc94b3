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

/// Element formats of a weight panel (see PackedWeights.swift).
enum {
    RADIXSERVE_PANEL_F32 = 0,
    /// bf16, 32-bit word j holding feature j in its low half and feature j + 8 in its high half.
    RADIXSERVE_PANEL_BF16 = 1,
    RADIXSERVE_PANEL_F16 = 2,
};

/// Rows of `x` per AVX-512 micro-kernel call.
#define RADIXSERVE_PANEL_AVX512_ROWS 16

/// One micro-kernel call: `rows` rows of `x` (interleaved: for input feature i, the rows' values at
/// `x[i * 16 ..< i * 16 + rows]`) times `depth` 16-feature groups of one panel block, into `valid`
/// features of each output row.
typedef struct {
    const float *x;
    const void *panel;
    /// This call's share of the next block to prefetch: `prefetch_lines` cache lines from
    /// `prefetch`, one every `prefetch_every` input features.
    const void *prefetch;
    long prefetch_lines;
    long prefetch_every;
    long depth;
    float *out;
    long out_stride;
    long valid;
    /// Added after the sum (last depth block only); may be null.
    const float *bias;
    /// Whether `out` already holds the sum of earlier depth blocks, added before `bias`.
    int accumulates;
    int rows;
    int format;
} radixserve_panel_tile;

/// Runs one tile with AVX-512 F. Per output element the arithmetic is the AVX2 Swift kernel's,
/// in the same order (one fused multiply-add per input feature, then `+ out`, then `+ bias`), so
/// both give the same bits.
void radixserve_panel_kernel_avx512(const radixserve_panel_tile *tile);

/// Copies `rows` (at most 16) rows of `x`, `stride` floats apart, into the micro-kernel's layout:
/// `out[i * 16 + r] = x[r * stride + i]` for every input feature `i < columns`, and 0 for `r >= rows`.
/// 16 × 16 blocks are transposed in registers.
void radixserve_pack_rows16_avx512(const float *x, long stride, int rows, long columns, float *out);

#endif
