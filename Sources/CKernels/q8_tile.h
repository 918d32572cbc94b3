// One int8 matmul kernel, instantiated once per instruction set by q8_matmul.c. Before including
// it, define Q8_TARGET (the function attribute naming the instruction set), Q8_NAME(name) (a
// suffix for this instantiation's functions) and Q8_BLOCK_SUMS(magnitude, signed_x): the 8 int32
// lane sums of |w| · (x signed by w) over one 32-byte block, byte 4i ..< 4i + 4 into lane i.
// Every instantiation does the same float operations in the same order, so they agree bit for bit.

/// Outputs `f ..< f + features` of `n` rows starting at row `row` (both constants after inlining):
/// each block of input is loaded once for all the features, each block of weights once for all
/// the rows, and the `n · features` sums are independent chains.
static inline __attribute__((always_inline)) Q8_TARGET void Q8_NAME(tile)(
    const radixserve_q8_matmul *m, long row, const int n, long f, const int features) {
    const long blocks = m->blocks, width = blocks * BLOCK;
    const int8_t *xq = m->input_quants + row * width;
    const float *xs = m->input_scales + row * blocks;
    const int8_t *wq = m->weight_quants + f * width;
    const uint16_t *ws = m->weight_scales + f * blocks;
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
            const float scale = _cvtsh_ss(ws[j * blocks + b]);
#pragma clang loop unroll(full)
            for (int r = 0; r < n; r++) {
                const __m256i sums = Q8_BLOCK_SUMS(magnitude, _mm256_sign_epi8(x[r], w));
                acc[r][j] = _mm256_fmadd_ps(
                    _mm256_set1_ps(scale * xs[r * blocks + b]), _mm256_cvtepi32_ps(sums), acc[r][j]);
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
static inline __attribute__((always_inline)) Q8_TARGET void Q8_NAME(rows_times_features)(
    const radixserve_q8_matmul *m, long row, const int n, long first, long end) {
    const int features = n == 1 ? 4 : n == 2 ? 2 : 1;
    long f = first;
    for (; f + features <= end; f += features) Q8_NAME(tile)(m, row, n, f, features);
    for (; f < end; f++) Q8_NAME(tile)(m, row, n, f, 1);
}

static Q8_TARGET void Q8_NAME(matmul)(const radixserve_q8_matmul *m) {
    // Weight rows in chunks that stay in L1/L2 while every 4-row tile of the input passes over them.
    const long chunk = m->rows > 4 ? 16 : m->end - m->first;
    for (long first = m->first; first < m->end; first += chunk) {
        const long end = first + chunk < m->end ? first + chunk : m->end;
        long row = 0;
        for (; row + 4 <= m->rows; row += 4) Q8_NAME(rows_times_features)(m, row, 4, first, end);
        switch (m->rows - row) {
        case 3: Q8_NAME(rows_times_features)(m, row, 3, first, end); break;
        case 2: Q8_NAME(rows_times_features)(m, row, 2, first, end); break;
        case 1: Q8_NAME(rows_times_features)(m, row, 1, first, end); break;
        default: break;
        }
    }
}
