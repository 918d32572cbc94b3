/*
 * RadixServe accelerator plugin ABI, version 1.0.
 *
 * The out-of-tree contract between the RadixServe server and a compute device. A plugin is a
 * shared library that exports one function, `radixserve_backend_plugin` (RS_PLUGIN_ENTRY_POINT),
 * returning a table of functions (rs_plugin_api). It mirrors the Swift `ComputeDevice` and
 * `ComputeBackend` protocols (Sources/Backends) one to one; docs/ACCELERATORS.md walks through
 * writing a plugin, and Sources/ReferencePlugin/reference_plugin.c is a complete one.
 *
 * Versioning. `abi_major` changes when an existing function or struct changes meaning or layout;
 * the server refuses a plugin whose major version differs from its own, naming both. `abi_minor`
 * grows when functions are appended to rs_plugin_api (never inserted): a server reads only the
 * first `struct_size` bytes of the table, so a plugin built against an older minor version keeps
 * working (the missing entries count as NULL), and a newer one's extra entries are ignored.
 *
 * Status. Every call that can fail returns rs_status. After a non-OK status, `last_error` gives a
 * message naming what failed (a plugin should say which op, which shape, which SDK call).
 *
 * Memory. Buffers, KV caches and backends are opaque handles the plugin allocates; the server
 * never dereferences them, and never reads or writes device memory except through `upload`,
 * `download` and `host_address` (when the plugin returns non-NULL). A handle is owned by the
 * server from its creation until it passes it to the matching release function; the plugin must
 * keep the memory alive until every op already queued on it has finished.
 *
 * Threads and ordering. Plugin-level functions (init, get_capabilities, memory_info,
 * create_backend) may be called from any thread. Every call on one rs_backend comes from one
 * thread at a time; different backends may run on different threads at once. Calls on a backend
 * form one in-order stream: an op may return before it runs (queue it), but it must observe the
 * effects of every earlier call and finish before any later `download`, `synchronize`, `argmax` or
 * `top_k` returns. An op that fails after it returned RS_OK reports the failure (once) at the next
 * `end_step`, `synchronize`, `download`, `argmax` or `top_k` on that backend.
 *
 * Numbers. Activations are f32, row-major with a row stride (rs_tensor). Weight operands (`table`,
 * `weight`) may be any dtype the plugin lists in `weight_dtypes`. bf16 and f16 values convert to
 * f32 exactly; f32 to bf16 or f16 rounds to nearest even.
 */
#ifndef RADIXSERVE_BACKEND_H
#define RADIXSERVE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RS_ABI_VERSION_MAJOR 1
#define RS_ABI_VERSION_MINOR 0

/* The symbol every plugin exports, of type rs_plugin_entry. */
#define RS_PLUGIN_ENTRY_POINT "radixserve_backend_plugin"

typedef enum rs_status {
    RS_OK = 0,
    RS_ERROR_INVALID_ARGUMENT = 1, /* a shape, dtype, id or handle the call cannot take */
    RS_ERROR_OUT_OF_MEMORY = 2,    /* device memory is exhausted */
    RS_ERROR_UNSUPPORTED = 3,      /* an op, dtype or hook the device does not implement */
    RS_ERROR_DEVICE = 4            /* the device or its SDK failed */
} rs_status;

/* Element types. Bit (1u << dtype) in the masks of rs_capabilities. */
typedef enum rs_dtype { RS_DTYPE_F32 = 0, RS_DTYPE_F16 = 1, RS_DTYPE_BF16 = 2 } rs_dtype;

typedef enum rs_device_kind { RS_DEVICE_CPU = 0, RS_DEVICE_GPU = 1, RS_DEVICE_ACCELERATOR = 2 } rs_device_kind;

/* What a buffer holds; a plugin may place each kind in a different memory. */
typedef enum rs_buffer_usage { RS_USAGE_WEIGHTS = 0, RS_USAGE_KV_CACHE = 1, RS_USAGE_COMPUTE = 2 } rs_buffer_usage;

/* Optional hooks (rs_capabilities.hooks). A plugin sets a bit only when it fills the entries the
 * bit names; the server uses a hook only where it is claimed. */
#define RS_HOOK_DEVICE_ARGMAX (1u << 0) /* argmax */
#define RS_HOOK_DEVICE_TOP_K (1u << 1)  /* top_k, up to max_top_k candidates per row */
#define RS_HOOK_DEVICE_COMMUNICATOR (1u << 2) /* communicator_id … all_gather */
#define RS_HOOK_STEP_CAPTURE (1u << 3)        /* capture_begin … release_graph */
#define RS_HOOK_FUSED_NORM_MATMUL (1u << 4)   /* rms_norm_matmul */
/* Batch-invariant kernels (no entry point): every op computes each row with an order of operations
 * that depends only on that row (its own values, position and context), never on the other rows
 * of the step, their number or how a prompt was chunked, so a request gets the same bits alone or
 * batched, from the prefix cache or computed. Required by deterministic mode (`--deterministic`);
 * a plugin that claims it keeps it in every step. */
#define RS_HOOK_BATCH_INVARIANT (1u << 5)

/* Bytes of a communicator id (communicator_id). */
#define RS_COMMUNICATOR_ID_BYTES 128

typedef struct rs_backend rs_backend;   /* an execution stream: one in-order queue */
typedef struct rs_buffer rs_buffer;     /* device memory */
typedef struct rs_kv_cache rs_kv_cache; /* a paged KV cache in the plugin's own layout */
typedef struct rs_communicator rs_communicator; /* one rank's end of a device communicator */
typedef struct rs_graph rs_graph;               /* a captured step */

/* What a device can do, read once before any model or cache is built for it. */
typedef struct rs_capabilities {
    rs_device_kind kind;
    uint32_t weight_dtypes;       /* mask of 1u << rs_dtype */
    uint32_t kv_cache_dtypes;     /* mask of 1u << rs_dtype */
    int32_t page_size_multiple;   /* tokens per KV page must be a positive multiple of this (1: any) */
    int32_t shares_host_memory;   /* 1: weights may be read in place from host memory */
    int32_t host_visible_buffers; /* 1: host_address returns non-NULL for every buffer */
    int32_t max_threads;          /* most host threads a backend may use (at least 1) */
    int32_t max_rows_per_step;    /* most tokens in one step; 0: no limit but memory */
    uint32_t hooks;               /* RS_HOOK_* bits */
    int32_t max_top_k;            /* largest k of top_k (with RS_HOOK_DEVICE_TOP_K) */
} rs_capabilities;

/* A view of a buffer: `rows` rows of `columns` elements of `dtype`, row r starting
 * `byte_offset + r * row_stride * element size` bytes into `buffer`. */
typedef struct rs_tensor {
    rs_buffer *buffer;
    uint64_t byte_offset;
    rs_dtype dtype;
    int32_t rows;
    int32_t columns;
    int32_t row_stride; /* in elements, >= columns */
} rs_tensor;

/* What the server needs of a KV cache; the plugin picks the layout. `dtype` is exact: a plugin
 * that cannot hold it fails with RS_ERROR_UNSUPPORTED. Slot s of a layer is token offset
 * s % page_size of page s / page_size. */
typedef struct rs_kv_cache_spec {
    int32_t layer_count;
    int32_t kv_head_count;
    int32_t head_dim;
    int32_t page_size;
    int32_t page_count;
    rs_dtype dtype;
} rs_kv_cache_spec;

/* Everything a forward step needs besides weights and activations, handed over once per step
 * (begin_step) for the step's ops to read. The arrays are valid only during begin_step: copy or
 * upload them. A step's rows are the new tokens of each sequence, concatenated; sequence s owns
 * rows query_starts[s] ..< query_starts[s + 1], has context_lengths[s] tokens in the cache
 * including its new ones (so its rows sit at the last positions of its context and attend
 * causally), and its pages are page_ids[page_table_starts[s] ..< page_table_starts[s + 1]]. */
typedef struct rs_step_inputs {
    int32_t token_count;
    const int32_t *token_ids;    /* [token_count] */
    const int32_t *positions;    /* [token_count] */
    const int32_t *slot_mapping; /* [token_count]: page * page_size + offset */
    int32_t sequence_count;
    const int32_t *query_starts;      /* [sequence_count + 1] */
    const int32_t *context_lengths;   /* [sequence_count] */
    const int32_t *page_table_starts; /* [sequence_count + 1] */
    const int32_t *page_ids;          /* [page_table_starts[sequence_count]] */
    int32_t logit_row_count;
    const int32_t *logit_rows; /* [logit_row_count]: the rows gather_rows copies */
} rs_step_inputs;

typedef struct rs_plugin_api {
    uint32_t abi_major;  /* RS_ABI_VERSION_MAJOR the plugin was built with */
    uint32_t abi_minor;  /* RS_ABI_VERSION_MINOR the plugin was built with */
    size_t struct_size;  /* sizeof(rs_plugin_api) the plugin was built with */
    const char *name;    /* short device name, [a-z0-9_-], e.g. "reference-c" */

    /* --- Plugin level ------------------------------------------------------------------- */

    /* Called once after loading, before anything else; a failure ends the server's start-up
     * with the message of last_error(NULL). */
    rs_status (*init)(void);
    /* The message of the last failed call on `backend`, or of the last failed plugin-level call
     * of this thread when `backend` is NULL. Valid until the next call on the same backend. */
    const char *(*last_error)(rs_backend *backend);
    rs_status (*get_capabilities)(rs_capabilities *out);
    rs_status (*memory_info)(uint64_t *free_bytes, uint64_t *total_bytes);
    /* A new execution stream using up to `threads` host threads (0: the device's default). */
    rs_status (*create_backend)(int32_t threads, rs_backend **out);
    /* Waits for the backend's queued work, then frees it. Its buffers, caches, communicators and
     * graphs were released, and no capture is open. */
    void (*destroy_backend)(rs_backend *backend);

    /* --- Memory --------------------------------------------------------------------------- */

    /* `byte_count` zeroed bytes. */
    rs_status (*allocate)(rs_backend *backend, uint64_t byte_count, rs_buffer_usage usage, rs_buffer **out);
    void (*release_buffer)(rs_backend *backend, rs_buffer *buffer);
    /* The buffer's address if the host may read and write it in place, else NULL. Optional
     * (NULL entry: no buffer is host-visible). */
    void *(*host_address)(rs_backend *backend, rs_buffer *buffer);
    /* Copies host bytes to `byte_count` bytes at `byte_offset` of `buffer`. The source may be
     * reused as soon as the call returns. */
    rs_status (*upload)(rs_backend *backend, rs_buffer *buffer, uint64_t byte_offset, const void *source, uint64_t byte_count);
    /* Copies `byte_count` bytes at `byte_offset` of `buffer` to host memory after all queued work. */
    rs_status (*download)(rs_backend *backend, rs_buffer *buffer, uint64_t byte_offset, void *destination, uint64_t byte_count);
    /* Optional (NULL: matmul reads weights as uploaded). A new buffer holding `weight` [N, K] in
     * the layout matmul reads fastest; the server then passes it as a tensor of the same shape
     * and dtype at byte offset 0, contiguous (row stride K), only ever as matmul's `weight`. The
     * original stays valid and may still be read by other ops (a tied embedding table). */
    rs_status (*prepare_matmul_weight)(rs_backend *backend, const rs_tensor *weight, rs_buffer **out);

    /* --- KV cache ------------------------------------------------------------------------- */

    /* Bytes one page of keys and values of every layer takes (page_count is ignored). The server
     * sizes its page pool from it. */
    rs_status (*kv_cache_bytes_per_page)(rs_backend *backend, const rs_kv_cache_spec *spec, uint64_t *out);
    rs_status (*create_kv_cache)(rs_backend *backend, const rs_kv_cache_spec *spec, rs_kv_cache **out);
    void (*release_kv_cache)(rs_backend *backend, rs_kv_cache *cache);

    /* --- One step ------------------------------------------------------------------------- */

    /* The step's inputs (rs_step_inputs); the ops below marked "step" read them until the next
     * begin_step. */
    rs_status (*begin_step)(rs_backend *backend, const rs_step_inputs *inputs);
    /* Every op of the step is submitted; returns a failure of any of them not yet reported. */
    rs_status (*end_step)(rs_backend *backend);

    /* step: out[i, :] = table[token_ids[i], :] widened to f32. */
    rs_status (*embedding)(rs_backend *backend, const rs_tensor *table, const rs_tensor *out);
    /* out = x · weightᵀ + bias; x [M, K] f32, weight [N, K], bias [1, N] f32 or NULL, out [M, N]. */
    rs_status (*matmul)(rs_backend *backend, const rs_tensor *x, const rs_tensor *weight, const rs_tensor *bias,
        const rs_tensor *out);
    /* For each row and each group g of weight->columns consecutive columns:
     * out_g = g / sqrt(mean(g²) + epsilon) · weight. `out` may alias `x`. */
    rs_status (*rms_norm)(rs_backend *backend, const rs_tensor *x, const rs_tensor *weight, float epsilon,
        const rs_tensor *out);
    /* step: row i of out [tokens, 2·count] = [cos(p·f₀) … cos(p·f_{count-1}), sin(p·f₀) …] · scale with
     * p = positions[i], f = inverse_frequencies (f32 arithmetic; the array is valid during the call). */
    rs_status (*rope_table)(rs_backend *backend, const float *inverse_frequencies, int32_t count, float scale,
        const rs_tensor *out);
    /* In place on every head_dim-wide head of each row of x, with row i of `table` (rope_table):
     * (x₁, x₂) → (x₁·cos − x₂·sin, x₂·cos + x₁·sin), x₁ the first half of the head. */
    rs_status (*rope)(rs_backend *backend, const rs_tensor *x, const rs_tensor *table, int32_t head_dim);
    /* step: writes row i of key and value ([tokens, kv_heads·head_dim] f32) to slot slot_mapping[i]
     * of `layer`, converted to the cache's dtype. */
    rs_status (*store_kv)(rs_backend *backend, const rs_tensor *key, const rs_tensor *value, rs_kv_cache *cache,
        int32_t layer);
    /* step: causal attention of query [tokens, heads·head_dim] over the cache; query head h reads
     * KV head h / (heads / kv_heads); softmax(scale · q·k) · v in f32 or wider. */
    rs_status (*attention)(rs_backend *backend, const rs_tensor *query, rs_kv_cache *cache, int32_t layer, float scale,
        const rs_tensor *out);
    /* out[i, j] = silu(x[i, j]) · x[i, j + out->columns]. */
    rs_status (*silu_mul)(rs_backend *backend, const rs_tensor *x, const rs_tensor *out);
    /* out = x + y; out may alias either. */
    rs_status (*add)(rs_backend *backend, const rs_tensor *x, const rs_tensor *y, const rs_tensor *out);
    /* step: out[i, :] = x[logit_rows[i], :]. */
    rs_status (*gather_rows)(rs_backend *backend, const rs_tensor *x, const rs_tensor *out);
    /* Waits for all queued work. */
    rs_status (*synchronize)(rs_backend *backend);

    /* --- Optional hooks (NULL unless claimed in rs_capabilities.hooks) ------------------ */

    /* RS_HOOK_DEVICE_ARGMAX: ids[r] = the first column of row r of `logits` (f32) holding the
     * row's maximum, written to host memory after all queued work. */
    rs_status (*argmax)(rs_backend *backend, const rs_tensor *logits, int32_t *ids);
    /* RS_HOOK_DEVICE_TOP_K: the k largest values of each row of `logits` (f32), largest first,
     * equal values by lower column first, NaN after every number: ids[r·k + j] and values[r·k + j]
     * (the logits as they are), written to host memory after all queued work.
     * 1 <= k <= min(max_top_k, columns). */
    rs_status (*top_k)(rs_backend *backend, const rs_tensor *logits, int32_t k, int32_t *ids, float *values);

    /* RS_HOOK_DEVICE_COMMUNICATOR: collectives between the ranks of a tensor-parallel group,
     * each rank a process with its own backend (NCCL's model). Rank 0 makes an id; the server
     * sends it to the other ranks over its own sockets; each rank then creates its end with it
     * (every rank calls create_communicator, which may block until all have: ranks in one
     * process call it from different threads). A communicator is used only with the backend that
     * created it. A collective that cannot complete (a peer gone, calls that differ between ranks)
     * fails with RS_ERROR_DEVICE after a timeout rather than blocking forever. Calls on a communicator
     * are collective: every rank makes the same calls, with the same shapes, in the same order.
     * They are ordered with the backend's other calls like ops (they may be queued). */
    rs_status (*communicator_id)(rs_backend *backend, uint8_t id[RS_COMMUNICATOR_ID_BYTES]);
    rs_status (*create_communicator)(rs_backend *backend, const uint8_t id[RS_COMMUNICATOR_ID_BYTES], int32_t rank,
        int32_t world_size, rs_communicator **out);
    void (*release_communicator)(rs_backend *backend, rs_communicator *communicator);
    /* x (contiguous f32) = the elementwise sum of every rank's x, in place, with the same bits on
     * every rank (any summation order; the conformance suite allows f32 rounding against the
     * rank-order sum). */
    rs_status (*all_reduce_sum)(rs_backend *backend, rs_communicator *communicator, const rs_tensor *x);
    /* out [world_size · x->rows, x->columns] (contiguous f32) = every rank's x (contiguous f32)
     * stacked in rank order. */
    rs_status (*all_gather)(rs_backend *backend, rs_communicator *communicator, const rs_tensor *x,
        const rs_tensor *out);

    /* RS_HOOK_STEP_CAPTURE: record a step's ops once and replay them (the CUDA-graph idea).
     * After begin_step, the server may call capture_begin; the ops it then calls (until
     * capture_end) are checked and recorded, not run. replay runs the recorded ops in order. The
     * server replays a graph only for steps of the shape it was captured for (the same token
     * count, sequence count and logit rows, with other values in the step inputs), after that
     * step's begin_step; recorded ops read the step inputs of the latest begin_step when they run.
     * Collectives called during a capture (all_reduce_sum, all_gather) are recorded like ops;
     * calls that return data to the host or change the step (download, upload, synchronize,
     * argmax, top_k, begin_step, end_step) are not made during a capture and may be refused. The
     * server discards a graph during whose capture an op failed. The
     * tensors recorded stay valid while the graph lives. */
    rs_status (*capture_begin)(rs_backend *backend);
    rs_status (*capture_end)(rs_backend *backend, rs_graph **out);
    rs_status (*replay)(rs_backend *backend, rs_graph *graph);
    void (*release_graph)(rs_backend *backend, rs_graph *graph);

    /* RS_HOOK_FUSED_NORM_MATMUL: out = rms_norm(x, norm_weight, epsilon) · weightᵀ + bias, as
     * rms_norm then matmul compute it (weight as matmul takes it, prepared or not), without
     * writing the normalised rows where the server can see them. The server uses it for every
     * norm followed by a projection (attention input, MLP input, final norm and lm_head). */
    rs_status (*rms_norm_matmul)(rs_backend *backend, const rs_tensor *x, const rs_tensor *norm_weight, float epsilon,
        const rs_tensor *weight, const rs_tensor *bias, const rs_tensor *out);
} rs_plugin_api;

/* The entry point: returns the plugin's table (static storage), or NULL. */
typedef const rs_plugin_api *(*rs_plugin_entry)(void);

#ifdef __cplusplus
}
#endif

#endif /* RADIXSERVE_BACKEND_H */
