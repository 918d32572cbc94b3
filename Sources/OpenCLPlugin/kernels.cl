/*
 * kernels.cl: the OpenCL C kernels of the "opencl" RadixServe plugin (OpenCL C 1.2).
 *
 * This file is the source of truth; kernels.c holds it as a C string (scripts/embed-opencl-kernels.sh
 * regenerates kernels.c; the plugin is built from kernels.c alone).
 *
 * Conventions. Every tensor argument is a buffer, an element offset (ulong) and a row stride in
 * elements (int). Weight operands come in three dtypes, one kernel each (suffix _f32, _f16, _bf16):
 * f16 is read with vload_half (core OpenCL 1.2, no cl_khr_fp16 needed), bf16 is the high half of an
 * f32. Sums accumulate in f32 with explicit fma, in a fixed order that does not depend on how many
 * rows a call has, so a row's result is the same bits alone or in a batch (see matmul and
 * attention). No fast-math: NaN and infinity behave as IEEE says.
 *
 * Step inputs live in one int buffer per backend (`step`), uploaded by begin_step; kernels get the
 * offsets of the arrays they read.
 */

#define T_f32 float
#define T_f16 half
#define T_bf16 ushort

#define LD_f32(p, i) ((p)[i])
#define LD_f16(p, i) vload_half((i), (p))
#define LD_bf16(p, i) as_float(((uint)(p)[i]) << 16)

/* Round to nearest even; NaN stays a quiet NaN. */
inline ushort bf16_from_f32(float f) {
    uint bits = as_uint(f);
    if (isnan(f)) return (ushort)((bits >> 16) | 0x40u);
    return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

#define ST_f32(p, i, v) ((p)[i] = (v))
#define ST_f16(p, i, v) vstore_half_rte((v), (i), (p))
#define ST_bf16(p, i, v) ((p)[i] = bf16_from_f32(v))

/* ---- embedding: out[i, :] = table[token_ids[i], :] ------------------------------------------ */
/* global (columns, tokens) */
#define EMBEDDING(DT) \
__kernel void embedding_##DT(__global const T_##DT *table, ulong toff, int tstride, int columns, \
    __global float *out, ulong ooff, int ostride, __global const int *step, int token_off) { \
    int c = get_global_id(0), i = get_global_id(1); \
    if (c >= columns) return; \
    int token = step[token_off + i]; \
    out[ooff + (ulong)i * ostride + c] = LD_##DT(table, toff + (ulong)token * tstride + c); \
}
EMBEDDING(f32)
EMBEDDING(f16)
EMBEDDING(bf16)

/* ---- matmul: out[m, n] = Σ_k x[m, k] · W[n, k] (+ bias[n]) ---------------------------------- */
/* W[n, k] sits at woff + n · wsn + k · wsk: (row_stride, 1) as uploaded, (1, N) once prepared
 * (transposed, so that neighbouring work-items read neighbouring addresses). Every output is
 * acc = fma(x[m,k], W[n,k], acc) for k = 0, 1, … K-1 from 0, then + bias: both paths below compute
 * exactly that, so the choice between them (by row count) never changes a row's bits. */

#define MM_ROWS 4   /* rows per work-item in the decode path */
#define MM_KC 256   /* k values of x staged in local memory at a time (decode path) */
#define MM_WG 64    /* work-group of the decode path */

/* Decode path (few rows): one work-item per output column and MM_ROWS rows; x staged in local
 * memory. global (roundup(N, MM_WG), ceil(M / MM_ROWS)), local (MM_WG, 1). */
#define MATMUL_ROWS(DT) \
__kernel __attribute__((reqd_work_group_size(MM_WG, 1, 1))) \
void matmul_rows_##DT(__global const float *x, ulong xoff, int xstride, int M, int K, \
    __global const T_##DT *w, ulong woff, ulong wsn, ulong wsk, int N, \
    __global const float *bias, ulong boff, int has_bias, __global float *out, ulong ooff, int ostride) { \
    __local float xs[MM_ROWS * MM_KC]; \
    int n = get_global_id(0), m0 = get_global_id(1) * MM_ROWS, lid = get_local_id(0); \
    float acc0 = 0.0f, acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f; \
    ulong wrow = woff + (ulong)(n < N ? n : 0) * wsn; \
    for (int k0 = 0; k0 < K; k0 += MM_KC) { \
        int kc = min(MM_KC, K - k0); \
        barrier(CLK_LOCAL_MEM_FENCE); \
        for (int e = lid; e < MM_ROWS * MM_KC; e += MM_WG) { \
            int r = e / MM_KC, kk = e % MM_KC; \
            xs[e] = (m0 + r < M && kk < kc) ? x[xoff + (ulong)(m0 + r) * xstride + k0 + kk] : 0.0f; \
        } \
        barrier(CLK_LOCAL_MEM_FENCE); \
        if (n < N) { \
            for (int kk = 0; kk < kc; kk++) { \
                float wv = LD_##DT(w, wrow + (ulong)(k0 + kk) * wsk); \
                acc0 = fma(xs[kk], wv, acc0); \
                acc1 = fma(xs[MM_KC + kk], wv, acc1); \
                acc2 = fma(xs[2 * MM_KC + kk], wv, acc2); \
                acc3 = fma(xs[3 * MM_KC + kk], wv, acc3); \
            } \
        } \
    } \
    if (n >= N) return; \
    float b = has_bias ? bias[boff + n] : 0.0f; \
    float accs[MM_ROWS] = { acc0, acc1, acc2, acc3 }; \
    for (int r = 0; r < MM_ROWS; r++) \
        if (m0 + r < M) out[ooff + (ulong)(m0 + r) * ostride + n] = has_bias ? accs[r] + b : accs[r]; \
}
MATMUL_ROWS(f32)
MATMUL_ROWS(f16)
MATMUL_ROWS(bf16)

/* Prefill path: 64×64 output tiles, each of 16×16 work-items computing 4×4 outputs, k in local
 * tiles of 16. global (roundup(N, 64) / 4, roundup(M, 64) / 4), local (16, 16). */
#define TT 64
#define TK 16
#define MATMUL_TILED(DT) \
__kernel __attribute__((reqd_work_group_size(16, 16, 1))) \
void matmul_tiled_##DT(__global const float *x, ulong xoff, int xstride, int M, int K, \
    __global const T_##DT *w, ulong woff, ulong wsn, ulong wsk, int N, \
    __global const float *bias, ulong boff, int has_bias, __global float *out, ulong ooff, int ostride) { \
    __local float as[TT * (TK + 1)]; \
    __local float bs[TK * TT]; \
    int tx = get_local_id(0), ty = get_local_id(1), lid = ty * 16 + tx; \
    int nb = get_group_id(0) * TT, mb = get_group_id(1) * TT; \
    float acc[4][4]; \
    for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) acc[i][j] = 0.0f; \
    for (int k0 = 0; k0 < K; k0 += TK) { \
        barrier(CLK_LOCAL_MEM_FENCE); \
        for (int e = lid; e < TT * TK; e += 256) { \
            int r = e / TK, kk = e % TK, m = mb + r, k = k0 + kk; \
            as[r * (TK + 1) + kk] = (m < M && k < K) ? x[xoff + (ulong)m * xstride + k] : 0.0f; \
        } \
        if (wsn == 1) { \
            for (int e = lid; e < TT * TK; e += 256) { \
                int kk = e / TT, c = e % TT, n = nb + c, k = k0 + kk; \
                bs[kk * TT + c] = (n < N && k < K) ? LD_##DT(w, woff + (ulong)n * wsn + (ulong)k * wsk) : 0.0f; \
            } \
        } else { \
            for (int e = lid; e < TT * TK; e += 256) { \
                int c = e / TK, kk = e % TK, n = nb + c, k = k0 + kk; \
                bs[kk * TT + c] = (n < N && k < K) ? LD_##DT(w, woff + (ulong)n * wsn + (ulong)k * wsk) : 0.0f; \
            } \
        } \
        barrier(CLK_LOCAL_MEM_FENCE); \
        int kc = min(TK, K - k0); \
        for (int kk = 0; kk < kc; kk++) { \
            float a[4], bv[4]; \
            for (int i = 0; i < 4; i++) a[i] = as[(ty + 16 * i) * (TK + 1) + kk]; \
            for (int j = 0; j < 4; j++) bv[j] = bs[kk * TT + tx + 16 * j]; \
            for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) acc[i][j] = fma(a[i], bv[j], acc[i][j]); \
        } \
    } \
    for (int i = 0; i < 4; i++) { \
        int m = mb + ty + 16 * i; \
        if (m >= M) continue; \
        for (int j = 0; j < 4; j++) { \
            int n = nb + tx + 16 * j; \
            if (n < N) out[ooff + (ulong)m * ostride + n] = has_bias ? acc[i][j] + bias[boff + n] : acc[i][j]; \
        } \
    } \
}
MATMUL_TILED(f32)
MATMUL_TILED(f16)
MATMUL_TILED(bf16)

/* ---- transpose for prepare_matmul_weight: dst[k · N + n] = src[off + n · stride + k] -------- */
/* global (K, N), by element size. */
__kernel void transpose_u32(__global const uint *src, ulong off, int stride, int N, int K, __global uint *dst) {
    int k = get_global_id(0), n = get_global_id(1);
    if (k < K && n < N) dst[(ulong)k * N + n] = src[off + (ulong)n * stride + k];
}
__kernel void transpose_u16(__global const ushort *src, ulong off, int stride, int N, int K, __global ushort *dst) {
    int k = get_global_id(0), n = get_global_id(1);
    if (k < K && n < N) dst[(ulong)k * N + n] = src[off + (ulong)n * stride + k];
}

/* ---- rms_norm: per row and group of `group` columns, g / sqrt(mean(g²) + ε) · weight -------- */
/* One work-group per (group, row). global (NORM_WG · groups, rows), local (NORM_WG, 1). out may
 * alias x: each element is read (for the sum and for the output) by the work-item that writes it,
 * and every read of the sum happens before the barrier. */
#define NORM_WG 128
#define RMS_NORM(DT) \
__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1))) \
void rms_norm_##DT(__global const float *x, ulong xoff, int xstride, \
    __global const T_##DT *w, ulong woff, int group, float epsilon, __global float *out, ulong ooff, int ostride) { \
    __local float red[NORM_WG]; \
    int g = get_group_id(0), r = get_global_id(1), lid = get_local_id(0); \
    ulong xb = xoff + (ulong)r * xstride + (ulong)g * group, ob = ooff + (ulong)r * ostride + (ulong)g * group; \
    float s = 0.0f; \
    for (int c = lid; c < group; c += NORM_WG) { float v = x[xb + c]; s = fma(v, v, s); } \
    red[lid] = s; \
    barrier(CLK_LOCAL_MEM_FENCE); \
    for (int half_ = NORM_WG / 2; half_ > 0; half_ >>= 1) { \
        if (lid < half_) red[lid] += red[lid + half_]; \
        barrier(CLK_LOCAL_MEM_FENCE); \
    } \
    float inverse = 1.0f / sqrt(red[0] / (float)group + epsilon); \
    for (int c = lid; c < group; c += NORM_WG) out[ob + c] = LD_##DT(w, woff + c) * (x[xb + c] * inverse); \
}
RMS_NORM(f32)
RMS_NORM(f16)
RMS_NORM(bf16)

/* ---- rope_table: row i = [cos(p·f_j) …, sin(p·f_j) …] · scale, p = positions[i] ------------- */
/* global (count, tokens) */
__kernel void rope_table(__global const int *step, int pos_off, __global const float *freqs, int count, float scale,
    __global float *out, ulong ooff, int ostride) {
    int j = get_global_id(0), i = get_global_id(1);
    if (j >= count) return;
    float angle = (float)step[pos_off + i] * freqs[j];
    out[ooff + (ulong)i * ostride + j] = cos(angle) * scale;
    out[ooff + (ulong)i * ostride + count + j] = sin(angle) * scale;
}

/* ---- rope: rotate-half on every head of each row, in place ---------------------------------- */
/* global (head_dim / 2, heads, rows) */
__kernel void rope(__global float *x, ulong xoff, int xstride, __global const float *table, ulong toff, int tstride,
    int head_dim) {
    int j = get_global_id(0), h = get_global_id(1), r = get_global_id(2), half_ = head_dim / 2;
    if (j >= half_) return;
    float c = table[toff + (ulong)r * tstride + j], s = table[toff + (ulong)r * tstride + half_ + j];
    ulong base = xoff + (ulong)r * xstride + (ulong)h * head_dim;
    float a = x[base + j], b = x[base + half_ + j];
    x[base + j] = a * c - b * s;
    x[base + half_ + j] = b * c + a * s;
}

/* ---- KV cache layout: per layer, keys[page][kv_head][offset][head_dim], values alike -------- */
inline ulong kv_index(int page, int kv_heads, int kv_head, int page_size, int offset, int head_dim) {
    return (((ulong)page * kv_heads + kv_head) * page_size + offset) * head_dim;
}

/* store_kv: row i of key and value to slot slot_mapping[i]. global (kv_heads · head_dim, tokens) */
#define STORE_KV(DT) \
__kernel void store_kv_##DT(__global const int *step, int slot_off, \
    __global const float *key, ulong koff, int kstride, __global const float *value, ulong voff, int vstride, \
    __global T_##DT *kc, __global T_##DT *vc, int kv_heads, int head_dim, int page_size) { \
    int c = get_global_id(0), i = get_global_id(1); \
    if (c >= kv_heads * head_dim) return; \
    int slot = step[slot_off + i], h = c / head_dim, d = c % head_dim; \
    ulong idx = kv_index(slot / page_size, kv_heads, h, page_size, slot % page_size, head_dim) + d; \
    ST_##DT(kc, idx, key[koff + (ulong)i * kstride + c]); \
    ST_##DT(vc, idx, value[voff + (ulong)i * vstride + c]); \
}
STORE_KV(f32)
STORE_KV(f16)
STORE_KV(bf16)

/* ---- paged attention (flash-decoding): one kernel for prefill and decode rows --------------- */
/* A row at position p attends to tokens 0 … p of its sequence, cut into splits of ATT_SPLIT
 * tokens. attention_partial: one work-group per (split, head, row) writes, for its split, the
 * max score m, the sum l of exp(score - m) and the unnormalised Σ exp(score - m) · v into
 * partial[row][head][split][0 … head_dim + 1]. attention_combine merges a row's splits in order.
 * A row's splits, and every reduction in them, depend on its position alone, never on the other
 * rows of the step, so a sequence's rows come out the same bits alone or in a batch.
 * global (ATT_WG · max_splits, heads, rows), local (ATT_WG, 1, 1); the rows are row_base + i, or
 * step[list_off + row_base + i] when list_off ≥ 0; partial results are indexed by i. */
#define ATT_SPLIT 256
#define ATT_WG 64
#define ATTENTION(DT) \
__kernel __attribute__((reqd_work_group_size(ATT_WG, 1, 1))) \
void attention_partial_##DT(__global const int *step, int row_seq_off, int qstart_off, int ctx_off, int pts_off, \
    int pid_off, int list_off, int row_base, __global const float *q, ulong qoff, int qstride, \
    __global const T_##DT *kc, __global const T_##DT *vc, int group, int kv_heads, int head_dim, int page_size, \
    float scale, int max_splits, __global float *partial, __local float *qs) { \
    __local float sc[ATT_SPLIT]; \
    __local float red[ATT_WG]; \
    int split = get_group_id(0), h = get_group_id(1), rl = get_group_id(2); \
    int r = list_off < 0 ? row_base + rl : step[list_off + row_base + rl]; \
    int lid = get_local_id(0), heads = get_num_groups(1); \
    int s = step[row_seq_off + r], first = step[qstart_off + s]; \
    int count = step[qstart_off + s + 1] - first, context = step[ctx_off + s]; \
    int tokens = context - count + (r - first) + 1; \
    int start = split * ATT_SPLIT; \
    if (start >= tokens) return; \
    int n = min(tokens - start, ATT_SPLIT), kvh = h / group; \
    __global const int *pages = step + pid_off + step[pts_off + s]; \
    for (int d = lid; d < head_dim; d += ATT_WG) qs[d] = q[qoff + (ulong)r * qstride + (ulong)h * head_dim + d]; \
    barrier(CLK_LOCAL_MEM_FENCE); \
    float m = -INFINITY; \
    for (int t = lid; t < n; t += ATT_WG) { \
        int token = start + t; \
        ulong base = kv_index(pages[token / page_size], kv_heads, kvh, page_size, token % page_size, head_dim); \
        float dot = 0.0f; \
        for (int d = 0; d < head_dim; d++) dot = fma(qs[d], LD_##DT(kc, base + d), dot); \
        sc[t] = dot * scale; \
        m = fmax(m, sc[t]); \
    } \
    red[lid] = m; \
    barrier(CLK_LOCAL_MEM_FENCE); \
    for (int half_ = ATT_WG / 2; half_ > 0; half_ >>= 1) { \
        if (lid < half_) red[lid] = fmax(red[lid], red[lid + half_]); \
        barrier(CLK_LOCAL_MEM_FENCE); \
    } \
    m = red[0]; \
    barrier(CLK_LOCAL_MEM_FENCE); \
    float l = 0.0f; \
    for (int t = lid; t < n; t += ATT_WG) { float p = exp(sc[t] - m); sc[t] = p; l += p; } \
    red[lid] = l; \
    barrier(CLK_LOCAL_MEM_FENCE); \
    for (int half_ = ATT_WG / 2; half_ > 0; half_ >>= 1) { \
        if (lid < half_) red[lid] += red[lid + half_]; \
        barrier(CLK_LOCAL_MEM_FENCE); \
    } \
    __global float *o = partial + (((ulong)rl * heads + h) * max_splits + split) * (head_dim + 2); \
    for (int d = lid; d < head_dim; d += ATT_WG) { \
        float acc = 0.0f; \
        for (int t = 0; t < n; t++) { \
            int token = start + t; \
            ulong base = kv_index(pages[token / page_size], kv_heads, kvh, page_size, token % page_size, head_dim); \
            acc = fma(sc[t], LD_##DT(vc, base + d), acc); \
        } \
        o[d] = acc; \
    } \
    if (lid == 0) { o[head_dim] = m; o[head_dim + 1] = red[0]; } \
}
ATTENTION(f32)
ATTENTION(f16)
ATTENTION(bf16)

/* ---- attention over prefill tiles ----------------------------------------------------------- */
/* The same partial results as attention_partial, bit for bit, for up to PRE_QT consecutive rows of
 * one sequence at once (a tile): the work-group loads each block of ATT_WG keys, then of values,
 * into local memory once for all its rows instead of once per row. Each row repeats
 * attention_partial's arithmetic in its order (lane t mod ATT_WG takes score t, the same trees
 * for the max and the sum, values accumulated in key order from zero), so a row's result does not
 * depend on which kernel ran it: prefill, chunked prefill and decode of one position agree.
 * global (ATT_WG · max_splits, PRE_QT · heads, tiles), local (ATT_WG, PRE_QT, 1); tile i's rows are
 * step[list_off + (tile_base + i) · PRE_QT + j] (negative: padding); partial results are indexed by
 * i · PRE_QT + j. Needs head_dim ≤ PRE_DMAX and (PRE_QT + ATT_WG) · head_dim floats of local
 * memory (qs, kv). */
#define PRE_QT 4
#define PRE_DMAX (4 * ATT_WG)
/* Loads keys (or values) start + t0 … start + t0 + keys - 1 of KV head kvh into kv[key][head_dim],
 * every work-item of the (ATT_WG, PRE_QT) group taking a share. */
#define LOAD_BLOCK(DT) \
inline void load_block_##DT(__local float *kv, __global const T_##DT *cache, __global const int *pages, int start, \
    int keys, int kv_heads, int kvh, int page_size, int head_dim) { \
    int i = get_local_id(1), lane = get_local_id(0); \
    for (int e = i * ATT_WG + lane; e < keys * head_dim; e += ATT_WG * PRE_QT) { \
        int tt = e / head_dim, d = e - tt * head_dim, token = start + tt; \
        kv[e] = LD_##DT(cache, kv_index(pages[token / page_size], kv_heads, kvh, page_size, token % page_size, \
            head_dim) + d); \
    } \
}
LOAD_BLOCK(f32)
LOAD_BLOCK(f16)
LOAD_BLOCK(bf16)

#define ATTENTION_PREFILL(DT) \
__kernel __attribute__((reqd_work_group_size(ATT_WG, PRE_QT, 1))) \
void attention_prefill_##DT(__global const int *step, int row_seq_off, int qstart_off, int ctx_off, int pts_off, \
    int pid_off, int list_off, int tile_base, __global const float *q, ulong qoff, int qstride, \
    __global const T_##DT *kc, __global const T_##DT *vc, int group, int kv_heads, int head_dim, int page_size, \
    float scale, int max_splits, __global float *partial, __local float *qs, __local float *kv) { \
    __local float sc[PRE_QT][ATT_SPLIT]; \
    __local float red[PRE_QT][ATT_WG]; \
    int split = get_group_id(0), h = get_group_id(1), tl = get_group_id(2); \
    int lane = get_local_id(0), i = get_local_id(1), heads = get_num_groups(1); \
    __global const int *tile = step + list_off + (tile_base + tl) * PRE_QT; \
    int r = tile[i], last = tile[0]; \
    for (int j = 1; j < PRE_QT; j++) last = max(last, tile[j]); \
    int s = step[row_seq_off + tile[0]], first = step[qstart_off + s]; \
    int past = step[ctx_off + s] - (step[qstart_off + s + 1] - first), start = split * ATT_SPLIT; \
    int nmax = min(past + (last - first) + 1 - start, ATT_SPLIT); \
    if (nmax <= 0) return; \
    int n = r < 0 ? 0 : clamp(past + (r - first) + 1 - start, 0, ATT_SPLIT); \
    int kvh = h / group; \
    __global const int *pages = step + pid_off + step[pts_off + s]; \
    for (int d = lane; d < head_dim; d += ATT_WG) \
        qs[i * head_dim + d] = r < 0 ? 0.0f : q[qoff + (ulong)r * qstride + (ulong)h * head_dim + d]; \
    float m = -INFINITY; \
    for (int t0 = 0; t0 < nmax; t0 += ATT_WG) { \
        barrier(CLK_LOCAL_MEM_FENCE); \
        int keys = min(ATT_WG, nmax - t0); \
        load_block_##DT(kv, kc, pages, start + t0, keys, kv_heads, kvh, page_size, head_dim); \
        barrier(CLK_LOCAL_MEM_FENCE); \
        int t = t0 + lane; \
        if (t < n) { \
            float dot = 0.0f; \
            for (int d = 0; d < head_dim; d++) dot = fma(qs[i * head_dim + d], kv[lane * head_dim + d], dot); \
            sc[i][t] = dot * scale; \
            m = fmax(m, sc[i][t]); \
        } \
    } \
    red[i][lane] = m; \
    barrier(CLK_LOCAL_MEM_FENCE); \
    for (int half_ = ATT_WG / 2; half_ > 0; half_ >>= 1) { \
        if (lane < half_) red[i][lane] = fmax(red[i][lane], red[i][lane + half_]); \
        barrier(CLK_LOCAL_MEM_FENCE); \
    } \
    m = red[i][0]; \
    barrier(CLK_LOCAL_MEM_FENCE); \
    float l = 0.0f; \
    for (int t = lane; t < n; t += ATT_WG) { float p = exp(sc[i][t] - m); sc[i][t] = p; l += p; } \
    red[i][lane] = l; \
    barrier(CLK_LOCAL_MEM_FENCE); \
    for (int half_ = ATT_WG / 2; half_ > 0; half_ >>= 1) { \
        if (lane < half_) red[i][lane] += red[i][lane + half_]; \
        barrier(CLK_LOCAL_MEM_FENCE); \
    } \
    float acc[PRE_DMAX / ATT_WG] = { 0.0f }; \
    for (int t0 = 0; t0 < nmax; t0 += ATT_WG) { \
        barrier(CLK_LOCAL_MEM_FENCE); \
        int keys = min(ATT_WG, nmax - t0); \
        load_block_##DT(kv, vc, pages, start + t0, keys, kv_heads, kvh, page_size, head_dim); \
        barrier(CLK_LOCAL_MEM_FENCE); \
        int upto = min(keys, n - t0); \
        for (int j = 0; j < PRE_DMAX / ATT_WG; j++) { \
            int d = lane + j * ATT_WG; \
            if (d >= head_dim) break; \
            float a = acc[j]; \
            for (int tt = 0; tt < upto; tt++) a = fma(sc[i][t0 + tt], kv[tt * head_dim + d], a); \
            acc[j] = a; \
        } \
    } \
    if (n <= 0) return; \
    __global float *o = partial + (((ulong)(tl * PRE_QT + i) * heads + h) * max_splits + split) * (head_dim + 2); \
    for (int j = 0; j < PRE_DMAX / ATT_WG; j++) { \
        int d = lane + j * ATT_WG; \
        if (d < head_dim) o[d] = acc[j]; \
    } \
    if (lane == 0) { o[head_dim] = m; o[head_dim + 1] = red[i][0]; } \
}
ATTENTION_PREFILL(f32)
ATTENTION_PREFILL(f16)
ATTENTION_PREFILL(bf16)

/* global (head_dim, heads, slots): slot i is row slot_base + i, or step[list_off + slot_base + i]
 * when list_off ≥ 0 (a negative entry pads a prefill tile and is skipped). */
__kernel void attention_combine(__global const int *step, int row_seq_off, int qstart_off, int ctx_off, int list_off,
    int slot_base, int head_dim, int max_splits, __global const float *partial, __global float *out, ulong ooff,
    int ostride) {
    int d = get_global_id(0), h = get_global_id(1), rl = get_global_id(2);
    int r = list_off < 0 ? slot_base + rl : step[list_off + slot_base + rl];
    int heads = get_global_size(1);
    if (d >= head_dim || r < 0) return;
    int s = step[row_seq_off + r], first = step[qstart_off + s];
    int count = step[qstart_off + s + 1] - first, context = step[ctx_off + s];
    int tokens = context - count + (r - first) + 1, splits = (tokens + ATT_SPLIT - 1) / ATT_SPLIT;
    __global const float *p = partial + ((ulong)rl * heads + h) * max_splits * (head_dim + 2);
    float m = -INFINITY;
    for (int i = 0; i < splits; i++) m = fmax(m, p[i * (head_dim + 2) + head_dim]);
    float l = 0.0f, acc = 0.0f;
    for (int i = 0; i < splits; i++) {
        __global const float *ps = p + i * (head_dim + 2);
        float f = exp(ps[head_dim] - m);
        l = fma(ps[head_dim + 1], f, l);
        acc = fma(ps[d], f, acc);
    }
    out[ooff + (ulong)r * ostride + (ulong)h * head_dim + d] = acc / l;
}

/* ---- elementwise ---------------------------------------------------------------------------- */
/* silu_mul: out[i, j] = silu(x[i, j]) · x[i, j + columns]. global (columns, rows) */
__kernel void silu_mul(__global const float *x, ulong xoff, int xstride, __global float *out, ulong ooff, int ostride,
    int columns) {
    int c = get_global_id(0), r = get_global_id(1);
    if (c >= columns) return;
    float gate = x[xoff + (ulong)r * xstride + c], up = x[xoff + (ulong)r * xstride + columns + c];
    out[ooff + (ulong)r * ostride + c] = gate / (1.0f + exp(-gate)) * up;
}

/* add: out = x + y (out may alias either). global (columns, rows) */
__kernel void add(__global const float *x, ulong xoff, int xstride, __global const float *y, ulong yoff, int ystride,
    __global float *out, ulong ooff, int ostride, int columns) {
    int c = get_global_id(0), r = get_global_id(1);
    if (c >= columns) return;
    out[ooff + (ulong)r * ostride + c] = x[xoff + (ulong)r * xstride + c] + y[yoff + (ulong)r * ystride + c];
}

/* gather_rows: out[i, :] = x[logit_rows[i], :]. global (columns, logit rows) */
__kernel void gather_rows(__global const int *step, int rows_off, __global const float *x, ulong xoff, int xstride,
    __global float *out, ulong ooff, int ostride, int columns) {
    int c = get_global_id(0), i = get_global_id(1);
    if (c >= columns) return;
    out[ooff + (ulong)i * ostride + c] = x[xoff + (ulong)step[rows_off + i] * xstride + c];
}

/* ---- sampling ------------------------------------------------------------------------------- */
/* argmax: the first column holding the row's maximum; 0 when nothing exceeds -inf (NaN never
 * does). One work-group per row: global (ARGMAX_WG, rows), local (ARGMAX_WG, 1). */
#define ARGMAX_WG 256
__kernel __attribute__((reqd_work_group_size(ARGMAX_WG, 1, 1)))
void argmax(__global const float *logits, ulong off, int stride, int columns, __global int *ids) {
    __local float vals[ARGMAX_WG];
    __local int idx[ARGMAX_WG];
    int r = get_global_id(1), lid = get_local_id(0);
    float best = -INFINITY;
    int at = INT_MAX;
    for (int c = lid; c < columns; c += ARGMAX_WG) {
        float v = logits[off + (ulong)r * stride + c];
        if (v > best) { best = v; at = c; }
    }
    vals[lid] = best;
    idx[lid] = at;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int half_ = ARGMAX_WG / 2; half_ > 0; half_ >>= 1) {
        if (lid < half_) {
            float v = vals[lid + half_];
            int i = idx[lid + half_];
            if (v > vals[lid] || (v == vals[lid] && i < idx[lid])) { vals[lid] = v; idx[lid] = i; }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) ids[r] = idx[0] == INT_MAX ? 0 : idx[0];
}

/* Whether (a at column ia) ranks before (b at column ib): larger first, NaN after every number,
 * equal values (and NaNs among themselves) by lower column. */
inline int ranks_before(float a, int ia, float b, int ib) {
    if (isnan(a) || isnan(b)) return (isnan(a) && isnan(b)) ? ia < ib : !isnan(a);
    return a > b || (a == b && ia < ib);
}

/* top_k (k ≤ TOPK_MAX): each work-item keeps a sorted list of the best k of its columns, then k
 * rounds pick the best list head across the work-group. global (TOPK_WG, rows), local (TOPK_WG, 1). */
#define TOPK_WG 32
#define TOPK_MAX 64
__kernel __attribute__((reqd_work_group_size(TOPK_WG, 1, 1)))
void top_k(__global const float *logits, ulong off, int stride, int columns, int k, __global int *ids,
    __global float *values) {
    __local float hv[TOPK_WG];
    __local int hi[TOPK_WG];
    __local int hl[TOPK_WG];
    float best[TOPK_MAX];
    int best_ids[TOPK_MAX];
    int r = get_global_id(1), lid = get_local_id(0), kept = 0;
    for (int c = lid; c < columns; c += TOPK_WG) {
        float v = logits[off + (ulong)r * stride + c];
        if (kept == k && !ranks_before(v, c, best[k - 1], best_ids[k - 1])) continue;
        int i = kept < k ? kept++ : k - 1;
        for (; i > 0 && ranks_before(v, c, best[i - 1], best_ids[i - 1]); i--) {
            best[i] = best[i - 1];
            best_ids[i] = best_ids[i - 1];
        }
        best[i] = v;
        best_ids[i] = c;
    }
    int head = 0;
    for (int j = 0; j < k; j++) {
        hv[lid] = head < kept ? best[head] : 0.0f;
        hi[lid] = head < kept ? best_ids[head] : -1;
        hl[lid] = lid;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int half_ = TOPK_WG / 2; half_ > 0; half_ >>= 1) {
            if (lid < half_) {
                int bi = hi[lid + half_];
                if (bi >= 0 && (hi[lid] < 0 || ranks_before(hv[lid + half_], bi, hv[lid], hi[lid]))) {
                    hv[lid] = hv[lid + half_];
                    hi[lid] = bi;
                    hl[lid] = hl[lid + half_];
                }
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        if (lid == 0) {
            ids[(ulong)r * k + j] = hi[0];
            values[(ulong)r * k + j] = hv[0];
        }
        if (hl[0] == lid) head++;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}
