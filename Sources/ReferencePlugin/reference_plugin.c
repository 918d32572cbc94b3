/*
 * reference_plugin.c: the reference RadixServe accelerator plugin, "reference-c".
 *
 * A complete implementation of include/radixserve/backend.h for a pretend device, written as the
 * template a chip vendor starts from. Its math mirrors the Swift reference backend
 * (Sources/BackendReference) bit for bit: f64 accumulation in matmul, rms_norm and attention, f32
 * everywhere else, the same libm calls, bf16/f16 rounded to nearest even.
 *
 * The pretend device:
 *   - Device memory is heap memory the server never sees (host_address is NULL), with a capacity
 *     of RADIXSERVE_REFERENCE_PLUGIN_MEMORY_MB MiB (default 16384), so that running out of it
 *     can be tested.
 *   - Each rs_backend is one in-order queue run by one worker thread, as a GPU stream runs
 *     kernels: an op validates its arguments on the calling thread, is queued, and returns; the
 *     worker runs the queue in order. A failure at run time is kept and reported by the next
 *     end_step, synchronize, download, argmax or top_k.
 *   - Collectives (RS_HOOK_DEVICE_COMMUNICATOR) go through a POSIX shared-memory segment that
 *     every rank of a communicator maps, so ranks may be processes on one host (or backends on
 *     threads of one process). They are queued like ops; every wait on the peers has a timeout
 *     (RADIXSERVE_REFERENCE_PLUGIN_COMM_TIMEOUT_MS, default 30000), so a missing rank makes the
 *     collective fail rather than hang.
 *   - Step capture (RS_HOOK_STEP_CAPTURE) records the checked commands of a step in a list
 *     instead of queueing them; replay queues copies of them.
 *
 * Comments starting "A real device" say what a vendor's plugin would do instead.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

/* Swift never fuses a*b+c into one rounding; neither may we, to match it bit for bit (GCC in ISO
 * C mode does not contract either). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include "radixserve/backend.h"
#include "radixserve/backend_checks.h"
#include "include/reference_plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__GNUC__)
#define RS_EXPORT __attribute__((visibility("default")))
#define RS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RS_EXPORT
#define RS_PRINTF(f, a)
#endif

#define MEMORY_ENV "RADIXSERVE_REFERENCE_PLUGIN_MEMORY_MB"
#define DEFAULT_MEMORY_MB 16384u
#define TIMEOUT_ENV "RADIXSERVE_REFERENCE_PLUGIN_COMM_TIMEOUT_MS"
#define DEFAULT_TIMEOUT_MS 30000u
#define MAX_TOP_K 64
#define ERROR_CAPACITY 512
#define ANY RS_CHECK_ANY /* a shape check's "any number of rows (columns)" */

#define F32_ONLY (1u << RS_DTYPE_F32)
#define ALL_DTYPES ((1u << RS_DTYPE_F32) | (1u << RS_DTYPE_F16) | (1u << RS_DTYPE_BF16))

/* ==== Global state: the pretend device's memory and each thread's plugin-level error ========= */

/* A real device would ask its SDK for free and total memory instead of counting. */
static struct {
    _Atomic uint64_t capacity; /* bytes; set by init from MEMORY_ENV */
    _Atomic uint64_t used;     /* bytes held by live buffers and KV caches */
} device_memory = { (uint64_t)DEFAULT_MEMORY_MB << 20, 0 };

/* How long a rank waits for its peers (creating a communicator, or in a collective), in ms. */
static _Atomic uint64_t comm_timeout_ms = DEFAULT_TIMEOUT_MS;

/* last_error(NULL): this thread's last failed plugin-level call (or call without a backend). */
static _Thread_local char thread_error[ERROR_CAPACITY];

/* ==== Handles ================================================================================ */

/* Device memory. A real device would hold its SDK's allocation (a device pointer) here. */
struct rs_buffer {
    void *data;
    uint64_t size;
    rs_buffer_usage usage;
};

/* A paged KV cache laid out like the Swift reference's, token-major per layer:
 * keys[layer][slot][kv_head][head_dim] and values likewise, in exactly spec.dtype. */
struct rs_kv_cache {
    rs_kv_cache_spec spec;
    int64_t slot_count; /* page_count * page_size */
    uint64_t bytes;     /* keys and values together, as charged to device memory */
    void *keys;
    void *values;
};

/* A private copy of one step's inputs (rs_step_inputs), in one allocation. query_starts and
 * page_table_starts always hold sequence_count + 1 entries ([0] when there are no sequences). */
typedef struct step_data {
    int32_t token_count, sequence_count, logit_row_count;
    int32_t *token_ids, *positions, *slot_mapping;
    int32_t *query_starts, *context_lengths, *page_table_starts, *page_ids;
    int32_t *logit_rows;
} step_data;

typedef enum command_kind {
    CMD_BEGIN_STEP, CMD_UPLOAD, CMD_DOWNLOAD, CMD_COPY_WEIGHT, CMD_RELEASE_BUFFER, CMD_RELEASE_KV_CACHE,
    CMD_EMBEDDING, CMD_MATMUL, CMD_RMS_NORM, CMD_ROPE_TABLE, CMD_ROPE, CMD_STORE_KV, CMD_ATTENTION,
    CMD_SILU_MUL, CMD_ADD, CMD_GATHER_ROWS, CMD_ARGMAX, CMD_TOP_K,
    CMD_ALL_REDUCE_SUM, CMD_ALL_GATHER, CMD_RELEASE_COMMUNICATOR, CMD_RMS_NORM_MATMUL
} command_kind;

/* One queued op. Tensor structs are copied: the caller's may be gone by the time it runs. */
typedef struct command {
    struct command *next;
    command_kind kind;
    rs_tensor t[5];         /* tensor operands in the op's parameter order; absent: buffer NULL */
    rs_buffer *buffer;      /* upload, download, release_buffer; copy_weight's destination */
    rs_kv_cache *cache;     /* store_kv, attention, release_kv_cache */
    int32_t layer;          /* store_kv, attention */
    int32_t count;          /* rope_table: frequencies; rope: head_dim; top_k: k */
    float scalar;           /* rms_norm: epsilon; rope_table, attention: scale */
    uint64_t offset, bytes; /* upload, download */
    void *owned;            /* upload: staged bytes; rope_table: frequencies (freed with the command) */
    size_t owned_bytes;     /* the size of `owned`, so that replay can copy it */
    void *host;             /* download: destination; argmax, top_k: ids */
    float *host_values;     /* top_k: values */
    step_data *step;        /* begin_step: the step, handed to the worker when it runs */
    rs_communicator *communicator; /* all_reduce_sum, all_gather, release_communicator */
} command;

/* A captured step: checked copies of the commands its ops made, in order, never run themselves
 * (replay queues copies), and the shape of the step they were checked against. Recorded commands
 * read the step inputs the worker holds when a replayed copy runs, never the capture step's. A
 * real device would hold its SDK's executable graph here (cudaGraphExec_t, hipGraphExec_t). */
struct rs_graph {
    command *head, *tail;
    int32_t token_count, sequence_count, logit_row_count;
};

struct rs_backend {
    pthread_mutex_t lock;
    pthread_cond_t has_work; /* signalled when a command is queued or the worker should stop */
    pthread_cond_t drained;  /* broadcast when the queue is empty and the worker idle */
    pthread_t worker;
    /* Under lock: */
    command *head, *tail;
    int running;  /* the worker is running a command it took off the queue */
    int stopping; /* destroy_backend asks the worker to exit */
    rs_status failure; /* first failure of a queued command not yet reported, and its message: */
    char failure_message[ERROR_CAPACITY];
    /* Worker thread only: the step queued ops read (installed by CMD_BEGIN_STEP). */
    step_data *device_step;
    /* Calling thread only: the latest begin_step's inputs, to validate ops against, the graph
     * being recorded between capture_begin and capture_end (NULL: ops are queued), and the
     * message of last_error(backend). */
    step_data *host_step;
    rs_graph *capture;
    char error[ERROR_CAPACITY];
};

/* ==== Errors ================================================================================= */

/* Where a failed call's message goes (ERROR_CAPACITY bytes): last_error(b), or this thread's. */
static char *error_slot(rs_backend *b) { return b ? b->error : thread_error; }

RS_PRINTF(3, 4)
static rs_status fail(rs_backend *b, rs_status status, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(error_slot(b), ERROR_CAPACITY, format, args);
    va_end(args);
    return status;
}

#define TRY(expression) \
    do { \
        rs_status try_status_ = (expression); \
        if (try_status_ != RS_OK) return try_status_; \
    } while (0)

/* Every call on a backend starts so: it names itself for messages and refuses a NULL backend. */
#define BEGIN_OP(name) \
    const char *op = (name); \
    if (!b) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "%s: backend is NULL", op)

/* Calls that run work now or hand results to the host cannot be part of a captured step. */
#define REFUSE_DURING_CAPTURE() \
    do { \
        if (b->capture) \
            return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s during step capture: ops are being recorded, not " \
                "run (capture_end first)", op); \
    } while (0)

/* ==== Numbers: dtypes, bf16 and f16 ========================================================== */

/* rs_dtype_size and rs_dtype_name: radixserve/backend_checks.h. */

static uint32_t float_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bits_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* bf16 is the high half of an f32. */
static float f32_from_bf16(uint16_t h) { return bits_float((uint32_t)h << 16); }

/* Round to nearest even; NaN stays a quiet NaN (HalfPrecision.swift's bf16FromFloat). */
static uint16_t bf16_from_f32(float f) {
    uint32_t bits = float_bits(f);
    if (isnan(f)) return (uint16_t)((bits >> 16) | 0x40);
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

/* Exact for every number; NaN comes out quiet, as the hardware conversion Swift uses does. */
static float f32_from_f16(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
    if (exponent == 0x1F) return bits_float(sign | 0x7F800000u | (mantissa ? 0x400000u | (mantissa << 13) : 0));
    if (exponent != 0) return bits_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
    float magnitude = (float)mantissa * 0x1p-24f; /* zero or subnormal: mantissa · 2^-24, exact */
    return sign ? -magnitude : magnitude;
}

/* Round to nearest even, overflow to infinity, NaN stays a quiet NaN (Swift's Float16(_:)). */
static uint16_t f16_from_f32(float f) {
    uint32_t bits = float_bits(f);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    uint32_t magnitude = bits & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((magnitude >> 13) & 0x3FFu));
    if (magnitude >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* >= 65520 rounds to inf */
    if (magnitude >= 0x38800000u) {                                   /* a normal f16: >= 2^-14 */
        uint32_t rounded = magnitude + 0xFFFu + ((magnitude >> 13) & 1u);
        return (uint16_t)(sign | ((rounded - (112u << 23)) >> 13));
    }
    if (magnitude <= 0x33000000u) return sign; /* <= 2^-25 rounds (to even) to zero */
    /* A subnormal f16: value / 2^-24 rounded, i.e. the mantissa shifted right by 126 - exponent. */
    uint32_t exponent = magnitude >> 23, mantissa = (magnitude & 0x7FFFFFu) | 0x800000u;
    uint32_t shift = 126u - exponent, half = 1u << (shift - 1);
    uint32_t quotient = mantissa >> shift, remainder = mantissa & ((1u << shift) - 1);
    if (remainder > half || (remainder == half && (quotient & 1u))) quotient += 1;
    return (uint16_t)(sign | quotient);
}

static float load_element(const void *address, rs_dtype dtype) {
    switch (dtype) {
    case RS_DTYPE_F32: return *(const float *)address;
    case RS_DTYPE_F16: return f32_from_f16(*(const uint16_t *)address);
    case RS_DTYPE_BF16: return f32_from_bf16(*(const uint16_t *)address);
    }
    return 0;
}

static void store_element(void *address, rs_dtype dtype, float value) {
    switch (dtype) {
    case RS_DTYPE_F32: *(float *)address = value; break;
    case RS_DTYPE_F16: *(uint16_t *)address = f16_from_f32(value); break;
    case RS_DTYPE_BF16: *(uint16_t *)address = bf16_from_f32(value); break;
    }
}

/* Element (row, column) of a validated view (element-aligned: check_tensor). */
static void *element_at(const rs_tensor *t, int64_t row, int64_t column) {
    uint64_t index = (uint64_t)row * (uint64_t)t->row_stride + (uint64_t)column;
    return (uint8_t *)t->buffer->data + t->byte_offset + index * rs_dtype_size(t->dtype);
}

static float get(const rs_tensor *t, int64_t row, int64_t column) {
    return load_element(element_at(t, row, column), t->dtype);
}

static float *f32_at(const rs_tensor *t, int64_t row, int64_t column) { return element_at(t, row, column); }

/* Address of element `d` of `head` at absolute `slot` of `layer` in keys or values. */
static void *kv_at(const rs_kv_cache *k, void *base, int32_t layer, int64_t slot, int32_t head, int32_t d) {
    uint64_t index = (((uint64_t)layer * (uint64_t)k->slot_count + (uint64_t)slot) * (uint64_t)k->spec.kv_head_count
                         + (uint64_t)head) * (uint64_t)k->spec.head_dim + (uint64_t)d;
    return (uint8_t *)base + index * rs_dtype_size(k->spec.dtype);
}

/* ==== Device memory ========================================================================== */

/* Charges `bytes` to device memory, or fails naming what was asked and what is free. */
static rs_status reserve_memory(rs_backend *b, const char *op, uint64_t bytes) {
    uint64_t capacity = atomic_load(&device_memory.capacity), used = atomic_load(&device_memory.used);
    do {
        uint64_t free_bytes = used < capacity ? capacity - used : 0;
        if (bytes > free_bytes || bytes > SIZE_MAX)
            return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: %" PRIu64 " bytes requested, but only %" PRIu64 " of the "
                "device's %" PRIu64 " bytes are free (" MEMORY_ENV " sets the capacity in MiB)", op, bytes,
                free_bytes, capacity);
    } while (!atomic_compare_exchange_weak(&device_memory.used, &used, used + bytes));
    return RS_OK;
}

static void unreserve_memory(uint64_t bytes) { atomic_fetch_sub(&device_memory.used, bytes); }

/* A zeroed buffer. A real device would call its SDK's allocator (and a memset) here. */
static rs_status buffer_create(rs_backend *b, const char *op, uint64_t bytes, rs_buffer_usage usage, rs_buffer **out) {
    TRY(reserve_memory(b, op, bytes));
    rs_buffer *buffer = malloc(sizeof *buffer);
    void *data = calloc(1, bytes ? (size_t)bytes : 1);
    if (!buffer || !data) {
        free(buffer);
        free(data);
        unreserve_memory(bytes);
        return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: the host heap cannot hold %" PRIu64 " more bytes", op, bytes);
    }
    *buffer = (rs_buffer){ .data = data, .size = bytes, .usage = usage };
    *out = buffer;
    return RS_OK;
}

static void buffer_free(rs_buffer *buffer) {
    unreserve_memory(buffer->size);
    free(buffer->data);
    free(buffer);
}

static void kv_cache_free(rs_kv_cache *cache) {
    unreserve_memory(cache->bytes);
    free(cache->keys); /* values share the allocation */
    free(cache);
}

/* ==== Step inputs ============================================================================ */

/* What begin_step can check alone (rs_check_step_inputs). Ranges that depend on an op's operands
 * are checked by that op. */
static rs_status check_step(rs_backend *b, const rs_step_inputs *in) {
    return rs_check_step_inputs("begin_step", in, error_slot(b), ERROR_CAPACITY);
}

/* A private copy of checked inputs (of an empty step when `in` is NULL); NULL when out of memory. */
static step_data *step_copy(const rs_step_inputs *in) {
    rs_step_inputs none = { 0 };
    if (!in) in = &none;
    step_data *s = malloc(sizeof *s + rs_step_copy_entries(in) * sizeof(int32_t));
    if (!s) return NULL;
    s->token_count = in->token_count;
    s->sequence_count = in->sequence_count;
    s->logit_row_count = in->logit_row_count;
    /* the arrays follow the struct (pointer-aligned size) */
    rs_step_copy_arrays(in, (int32_t *)(s + 1), &s->token_ids, &s->positions, &s->slot_mapping, &s->query_starts,
        &s->context_lengths, &s->page_table_starts, &s->page_ids, &s->logit_rows);
    return s;
}

/* ==== Argument checks ======================================================================== */

/* The checks of radixserve/backend_checks.h, given what they need of this plugin's handles and
 * writing their messages where fail() does. */

/* A usable [rows, columns] view (ANY: any count): non-NULL, of an allowed dtype, a valid shape,
 * element-aligned and inside its buffer. */
static rs_status check_tensor(rs_backend *b, const char *op, const char *name, const rs_tensor *t, uint32_t dtypes,
    int64_t rows, int64_t columns) {
    uint64_t size = t && t->buffer ? t->buffer->size : 0;
    return rs_check_tensor(op, name, t, size, 0, dtypes, rows, columns, error_slot(b), ERROR_CAPACITY);
}

static rs_status check_cache(rs_backend *b, const char *op, const rs_kv_cache *cache, int32_t layer) {
    int32_t layers = cache ? cache->spec.layer_count : 0;
    return rs_check_cache_layer(op, cache, layers, layer, error_slot(b), ERROR_CAPACITY);
}

/* Positive fields (page_count only when `need_pages`) and a dtype this device holds (ALL_DTYPES). */
static rs_status check_spec(rs_backend *b, const char *op, const rs_kv_cache_spec *spec, int need_pages) {
    return rs_check_kv_cache_spec(op, spec, need_pages, ALL_DTYPES, error_slot(b), ERROR_CAPACITY);
}

/* The step values an op reads, checked against its operands: by the op when it is called, and
 * again by replay against the step the recorded op will then read. */

static rs_status check_token_ids(rs_backend *b, const char *op, const step_data *s, int32_t table_rows) {
    return rs_check_token_ids(op, s->token_ids, s->token_count, table_rows, error_slot(b), ERROR_CAPACITY);
}

static rs_status check_slots(rs_backend *b, const char *op, const step_data *s, const rs_kv_cache *cache) {
    return rs_check_slots(op, s->slot_mapping, s->token_count, cache->slot_count, error_slot(b), ERROR_CAPACITY);
}

static rs_status check_pages(rs_backend *b, const char *op, const step_data *s, const rs_kv_cache_spec *spec) {
    return rs_check_pages(op, s->sequence_count, s->query_starts, s->context_lengths, s->page_table_starts,
        s->page_ids, spec, error_slot(b), ERROR_CAPACITY);
}

static rs_status check_logit_rows(rs_backend *b, const char *op, const step_data *s, int32_t x_rows) {
    return rs_check_logit_rows(op, s->logit_rows, s->logit_row_count, x_rows, error_slot(b), ERROR_CAPACITY);
}

/* ==== The queue ============================================================================== */

/* A command for `kind` with copies of the given tensors; NULL (error set) when out of memory. */
static command *new_command(rs_backend *b, const char *op, command_kind kind, const rs_tensor *t0,
    const rs_tensor *t1, const rs_tensor *t2, const rs_tensor *t3) {
    command *c = calloc(1, sizeof *c);
    if (!c) {
        fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory to queue the op", op);
        return NULL;
    }
    c->kind = kind;
    const rs_tensor *operands[4] = { t0, t1, t2, t3 };
    for (int i = 0; i < 4; i++)
        if (operands[i]) c->t[i] = *operands[i];
    return c;
}

static void command_free(command *c) {
    free(c->owned);
    free(c->step);
    free(c);
}

/* Appends the linked commands first ... last to the queue at once. */
static void submit_list(rs_backend *b, command *first, command *last) {
    pthread_mutex_lock(&b->lock);
    if (b->tail) b->tail->next = first;
    else b->head = first;
    b->tail = last;
    pthread_cond_signal(&b->has_work);
    pthread_mutex_unlock(&b->lock);
}

/* Appends `c` (NULL: new_command failed) to the queue. A real device would launch the op's
 * kernel on its stream here instead. */
static rs_status submit(rs_backend *b, command *c) {
    if (!c) return RS_ERROR_OUT_OF_MEMORY;
    submit_list(b, c, c);
    return RS_OK;
}

/* How an op's checked command goes out: appended to the graph being captured, if any (a real
 * device: its kernel launch lands in the stream capture, as with cudaStreamBeginCapture), else
 * queued. */
static rs_status issue(rs_backend *b, command *c) {
    if (!c || !b->capture) return submit(b, c);
    rs_graph *g = b->capture;
    if (g->tail) g->tail->next = c;
    else g->head = c;
    g->tail = c;
    return RS_OK;
}

/* A copy of a recorded command to queue (with its own copy of `owned`); NULL when out of memory. */
static command *command_clone(const command *c) {
    command *copy = malloc(sizeof *copy);
    if (!copy) return NULL;
    *copy = *c;
    copy->next = NULL;
    if (c->owned) {
        if (!(copy->owned = malloc(c->owned_bytes))) {
            free(copy);
            return NULL;
        }
        memcpy(copy->owned, c->owned, c->owned_bytes);
    }
    return copy;
}

/* Frees a graph's recorded commands (copies of them may still be queued: they own their memory). */
static void graph_free(rs_graph *g) {
    for (command *c = g->head, *next; c; c = next) {
        next = c->next;
        command_free(c);
    }
    free(g);
}

/* Waits until every queued command has run (a real device: synchronizes its stream), then, when
 * `report`, returns and clears the first failure among them. */
static rs_status wait_idle(rs_backend *b, int report) {
    pthread_mutex_lock(&b->lock);
    while (b->head || b->running) pthread_cond_wait(&b->drained, &b->lock);
    rs_status status = report ? b->failure : RS_OK;
    if (status != RS_OK) {
        memcpy(b->error, b->failure_message, ERROR_CAPACITY);
        b->failure = RS_OK;
    }
    pthread_mutex_unlock(&b->lock);
    return status;
}

static rs_status run_command(rs_backend *b, command *c, char *message);

static void *worker_main(void *argument) {
    rs_backend *b = argument;
    char message[ERROR_CAPACITY];
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->head && !b->stopping) pthread_cond_wait(&b->has_work, &b->lock);
        if (!b->head) break; /* stopping, and nothing is left */
        command *c = b->head;
        b->head = c->next;
        if (!b->head) b->tail = NULL;
        b->running = 1;
        pthread_mutex_unlock(&b->lock);

        message[0] = '\0';
        rs_status status = run_command(b, c, message);
        command_free(c);

        pthread_mutex_lock(&b->lock);
        b->running = 0;
        if (status != RS_OK && b->failure == RS_OK) {
            b->failure = status;
            memcpy(b->failure_message, message, ERROR_CAPACITY);
        }
        if (!b->head) pthread_cond_broadcast(&b->drained);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

/* ==== Communicators: collectives through shared memory ======================================= */

/* A real device would wrap its collective library here: communicator_id is ncclGetUniqueId (RCCL:
 * the same), create_communicator is ncclCommInitRank, all_reduce_sum and all_gather are
 * ncclAllReduce and ncclAllGather launched on the backend's stream, release_communicator is
 * ncclCommDestroy. This device moves the data through a POSIX shared-memory segment, one per
 * communicator, that every rank maps:
 *
 *   [0, COMM_HEADER_BYTES)   comm_shared: the barrier counter and each rank's bookkeeping
 *   then world_size slots    slot r: rank r's current chunk, COMM_SLOT_FLOATS floats
 *
 * A collective goes chunk by chunk: every rank copies its chunk into its slot, waits at a barrier,
 * reads every slot, and waits at a second barrier before the slots are reused. */

#define COMM_MAGIC 0x52534343u /* "RSCC": marks ids and ready segments */
#define COMM_VERSION 1u
#define COMM_MAX_RANKS 64
#define COMM_NAME_PREFIX "/rsref-"
#define COMM_NAME_BYTES 32 /* a segment name and its NUL; macOS allows names of up to 31 characters */
#define COMM_HEADER_BYTES 4096u
#define COMM_SLOT_BYTES (1u << 20)
#define COMM_SLOT_FLOATS ((uint64_t)COMM_SLOT_BYTES / sizeof(float))

/* Processes share the segment's atomics, so they must work without a lock (address-free). */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
    "communicators need lock-free atomics in shared memory");

/* The segment's header. The plain fields are written before a release (of `ready`, or an arrival
 * at a barrier) and read after the matching acquire, which orders them between ranks. */
typedef struct comm_shared {
    _Atomic unsigned int ready; /* COMM_MAGIC once rank 0 has sized the segment and set world_size */
    int32_t world_size;
    _Atomic unsigned long long arrivals;          /* arrivals at barriers so far (comm_barrier) */
    _Atomic unsigned int claimed[COMM_MAX_RANKS]; /* 1 once rank r's end exists */
    struct {
        uint32_t kind;     /* command_kind of the rank's current collective */
        uint64_t elements; /* of its x */
    } calls[COMM_MAX_RANKS];
} comm_shared;

_Static_assert(sizeof(comm_shared) <= COMM_HEADER_BYTES, "the segment's header must fit before the slots");

/* The bytes of a communicator id: magic, version, the segment's name (NUL-terminated), then zeros. */
typedef struct comm_id {
    uint32_t magic, version;
    char name[COMM_NAME_BYTES];
} comm_id;

_Static_assert(sizeof(comm_id) <= RS_COMMUNICATOR_ID_BYTES, "a communicator id must fit its bytes");

/* This process's mapping of a segment. Ranks in one process (backends on threads) share one
 * mapping, found by name, so they use the same addresses (and a thread sanitizer sees them
 * synchronize). */
typedef struct comm_mapping {
    struct comm_mapping *next;
    char name[COMM_NAME_BYTES];
    comm_shared *shared;
    size_t bytes;
    int users; /* communicators using it */
} comm_mapping;

static pthread_mutex_t mappings_lock = PTHREAD_MUTEX_INITIALIZER;
static comm_mapping *mappings; /* under mappings_lock */

/* One rank's end. Once create_communicator has returned, only the backend's worker uses it. */
struct rs_communicator {
    rs_backend *backend; /* the backend it was created on: its collectives run in that queue */
    comm_mapping *mapping;
    int32_t rank, world_size;
    unsigned long long barriers; /* barriers this rank has passed */
    int failed;                  /* a wait timed out: the ranks are out of step for good */
};

static size_t comm_segment_bytes(int32_t world_size) {
    return COMM_HEADER_BYTES + (size_t)world_size * COMM_SLOT_BYTES;
}

static float *comm_slot(const rs_communicator *cm, int32_t rank) {
    return (float *)((uint8_t *)cm->mapping->shared + COMM_HEADER_BYTES + (size_t)rank * COMM_SLOT_BYTES);
}

static int64_t monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static int64_t comm_deadline(void) { return monotonic_ns() + (int64_t)atomic_load(&comm_timeout_ms) * 1000000; }
static double comm_timeout_seconds(void) { return (double)atomic_load(&comm_timeout_ms) / 1000; }

/* Waiting for a condition another rank will make true: call backoff_wait after each failed
 * check. It spins at first (the peers are usually just behind), then yields the core, then
 * sleeps 50 µs at a time, and returns 0 once the deadline has passed. A real device waits on the
 * device instead: its collective kernels poll flags in device memory. */
typedef struct backoff {
    unsigned rounds;
    int64_t deadline;
} backoff;

static int backoff_wait(backoff *w) {
    if (++w->rounds < 64) return 1;
    if (monotonic_ns() > w->deadline) return 0;
    if (w->rounds < 1024) sched_yield();
    else nanosleep(&(struct timespec){ .tv_nsec = 50000 }, NULL);
    return 1;
}

/* Waits until every rank has arrived at this rank's next barrier. `arrivals` only grows and every
 * rank arrives at every barrier, so barrier n (counting from 1) is passed once arrivals reaches
 * n · world_size; a rank already at barrier n + 1 cannot hold back one still at barrier n. A
 * timeout leaves the ranks out of step, so the communicator fails from then on. */
static rs_status comm_barrier(rs_communicator *cm, const char *op, int64_t deadline, char *message) {
    comm_shared *shared = cm->mapping->shared;
    unsigned long long world = (unsigned long long)cm->world_size, target = (cm->barriers + 1) * world;
    /* Release: this rank's writes before the barrier; the acquire below: the peers' writes. */
    atomic_fetch_add_explicit(&shared->arrivals, 1, memory_order_acq_rel);
    cm->barriers++;
    backoff w = { 0, deadline };
    unsigned long long seen;
    while ((seen = atomic_load_explicit(&shared->arrivals, memory_order_acquire)) < target)
        if (!backoff_wait(&w)) {
            cm->failed = 1;
            snprintf(message, ERROR_CAPACITY, "%s: rank %d waited %g s for its peers (%llu of %d ranks arrived%s)", op,
                cm->rank, comm_timeout_seconds(), seen - (target - world), cm->world_size, cm->barriers == 1 ? ""
                : "; every rank must make the same collective calls in the same order");
            return RS_ERROR_DEVICE;
        }
    return RS_OK;
}

/* Rank 0 makes the segment: O_EXCL, as an id makes one communicator; sized, then marked ready. */
static rs_status segment_create(rs_backend *b, const char *op, const char *name, int32_t world_size,
    comm_shared **out, size_t *out_bytes) {
    size_t bytes = comm_segment_bytes(world_size);
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600), error = fd < 0 ? errno : 0;
    if (fd < 0)
        return fail(b, RS_ERROR_DEVICE, "%s: shm_open(%s) failed: %s%s", op, name, strerror(error),
            error == EEXIST ? " (each id makes one communicator: call communicator_id again)" : "");
    error = ftruncate(fd, (off_t)bytes) != 0 ? errno : 0;
#if defined(__linux__)
    /* Take the pages now, so that a full /dev/shm (64 MiB in a default Docker container) fails
     * here rather than with SIGBUS in the middle of a collective. */
    if (!error) {
        int reserved = posix_fallocate(fd, 0, (off_t)bytes);
        if (reserved != 0 && reserved != EINVAL && reserved != EOPNOTSUPP) error = reserved;
    }
#endif
    void *address = error ? MAP_FAILED : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (!error && address == MAP_FAILED) error = errno;
    close(fd);
    if (error) {
        shm_unlink(name);
        return fail(b, RS_ERROR_DEVICE, "%s: cannot make %zu bytes of shared memory %s: %s", op, bytes, name,
            strerror(error));
    }
    comm_shared *shared = address; /* zero-filled */
    shared->world_size = world_size;
    atomic_store_explicit(&shared->ready, COMM_MAGIC, memory_order_release);
    *out = shared;
    *out_bytes = bytes;
    return RS_OK;
}

/* The other ranks wait until `deadline` for rank 0's segment to exist and be ready, read its world
 * size from the header, and map all of it. */
static rs_status segment_open(rs_backend *b, const char *op, const char *name, int32_t rank, int64_t deadline,
    comm_shared **out, size_t *out_bytes) {
    backoff w = { 0, deadline };
    int fd;
    while ((fd = shm_open(name, O_RDWR, 0)) < 0) {
        if (errno != ENOENT) return fail(b, RS_ERROR_DEVICE, "%s: shm_open(%s) failed: %s", op, name, strerror(errno));
        if (!backoff_wait(&w))
            return fail(b, RS_ERROR_DEVICE, "%s: rank %d waited %g s for rank 0 to create the communicator (shared "
                "memory %s)", op, rank, comm_timeout_seconds(), name);
    }
    rs_status status = RS_OK;
    comm_shared *header = MAP_FAILED;
    struct stat info;
    for (;;) { /* rank 0 sizes the segment just after creating it */
        if (fstat(fd, &info) != 0) {
            status = fail(b, RS_ERROR_DEVICE, "%s: fstat of shared memory %s failed: %s", op, name, strerror(errno));
            break;
        }
        if (info.st_size >= (off_t)COMM_HEADER_BYTES) {
            header = mmap(NULL, COMM_HEADER_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (header == MAP_FAILED)
                status = fail(b, RS_ERROR_DEVICE, "%s: mmap of shared memory %s failed: %s", op, name, strerror(errno));
            break;
        }
        if (!backoff_wait(&w)) {
            status = fail(b, RS_ERROR_DEVICE, "%s: rank %d waited %g s for rank 0 to size shared memory %s", op, rank,
                comm_timeout_seconds(), name);
            break;
        }
    }
    while (status == RS_OK && atomic_load_explicit(&header->ready, memory_order_acquire) != COMM_MAGIC)
        if (!backoff_wait(&w))
            status = fail(b, RS_ERROR_DEVICE, "%s: rank %d waited %g s for rank 0 to set up shared memory %s", op,
                rank, comm_timeout_seconds(), name);
    int32_t world_size = status == RS_OK ? header->world_size : 0;
    if (header != MAP_FAILED) munmap(header, COMM_HEADER_BYTES);
    if (status == RS_OK && (world_size < 1 || world_size > COMM_MAX_RANKS))
        status = fail(b, RS_ERROR_DEVICE, "%s: shared memory %s holds world size %d; it is not a communicator's",
            op, name, world_size);
    void *address = MAP_FAILED;
    if (status == RS_OK) {
        address = mmap(NULL, comm_segment_bytes(world_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (address == MAP_FAILED)
            status = fail(b, RS_ERROR_DEVICE, "%s: mmap of %zu bytes of shared memory %s failed: %s", op,
                comm_segment_bytes(world_size), name, strerror(errno));
    }
    close(fd);
    if (status != RS_OK) return status;
    *out = address;
    *out_bytes = comm_segment_bytes(world_size);
    return RS_OK;
}

/* This process's mapping of segment `name`, now with one more user, or NULL. */
static comm_mapping *mapping_find(const char *name) {
    pthread_mutex_lock(&mappings_lock);
    comm_mapping *m = mappings;
    while (m && strcmp(m->name, name) != 0) m = m->next;
    if (m) m->users++;
    pthread_mutex_unlock(&mappings_lock);
    return m;
}

/* Registers a fresh mapping of `name`, unless another rank of this process registered one
 * meanwhile: then that one is used and the fresh one unmapped. NULL (unmapped) when out of memory. */
static comm_mapping *mapping_adopt(const char *name, comm_shared *shared, size_t bytes) {
    comm_mapping *fresh = calloc(1, sizeof *fresh);
    pthread_mutex_lock(&mappings_lock);
    comm_mapping *m = mappings;
    while (m && strcmp(m->name, name) != 0) m = m->next;
    if (m) m->users++;
    else if (fresh) {
        *fresh = (comm_mapping){ .next = mappings, .shared = shared, .bytes = bytes, .users = 1 };
        snprintf(fresh->name, sizeof fresh->name, "%s", name);
        mappings = m = fresh;
        fresh = NULL;
    }
    pthread_mutex_unlock(&mappings_lock);
    if (m == NULL || m->shared != shared) munmap(shared, bytes);
    free(fresh);
    return m;
}

static void mapping_release(comm_mapping *m) {
    pthread_mutex_lock(&mappings_lock);
    int last = --m->users == 0;
    if (last) {
        comm_mapping **link = &mappings;
        while (*link != m) link = &(*link)->next;
        *link = m->next;
    }
    pthread_mutex_unlock(&mappings_lock);
    if (last) {
        munmap(m->shared, m->bytes);
        free(m);
    }
}

static void communicator_free(rs_communicator *cm) {
    mapping_release(cm->mapping);
    free(cm);
}

static const char *collective_name(uint32_t kind) {
    return kind == CMD_ALL_REDUCE_SUM ? "all_reduce_sum" : kind == CMD_ALL_GATHER ? "all_gather" : "?";
}

/* all_reduce_sum (into x) or all_gather (into out) of checked contiguous f32 tensors, on the
 * worker. Every rank adds the slots in rank order (((rank 0 + rank 1) + rank 2) + …, in f32), so
 * every rank gets the same bits, run after run. The first round also checks that every rank is
 * making the same call; all ranks read the same calls, so all take the same way out. */
static rs_status run_collective(rs_communicator *cm, command_kind kind, const rs_tensor *x, const rs_tensor *out,
    char *message) {
    const char *op = collective_name(kind);
    if (cm->failed) {
        snprintf(message, ERROR_CAPACITY, "%s: rank %d: an earlier collective on this communicator timed out, so "
            "its ranks are out of step (release it and create another)", op, cm->rank);
        return RS_ERROR_DEVICE;
    }
    comm_shared *shared = cm->mapping->shared;
    int32_t world = cm->world_size;
    uint64_t n = (uint64_t)x->rows * (uint64_t)x->columns;
    float *data = n > 0 ? f32_at(x, 0, 0) : NULL, *mine = comm_slot(cm, cm->rank);
    uint64_t rounds = n == 0 ? 1 : (n + COMM_SLOT_FLOATS - 1) / COMM_SLOT_FLOATS; /* always one: the check */
    for (uint64_t round = 0; round < rounds; round++) {
        uint64_t start = round * COMM_SLOT_FLOATS, count = n - start < COMM_SLOT_FLOATS ? n - start : COMM_SLOT_FLOATS;
        if (count > 0) memcpy(mine, data + start, (size_t)count * sizeof(float));
        if (round == 0) {
            shared->calls[cm->rank].kind = (uint32_t)kind;
            shared->calls[cm->rank].elements = n;
        }
        TRY(comm_barrier(cm, op, comm_deadline(), message));
        int32_t differing = -1;
        for (int32_t r = 1; round == 0 && r < world && differing < 0; r++)
            if (shared->calls[r].kind != shared->calls[0].kind || shared->calls[r].elements != shared->calls[0].elements)
                differing = r;
        if (differing >= 0)
            snprintf(message, ERROR_CAPACITY, "%s: the ranks' calls differ: rank 0 called %s on %" PRIu64 " elements, "
                "rank %d %s on %" PRIu64 " (every rank must make the same collective calls, with the same shapes, in "
                "the same order)", op, collective_name(shared->calls[0].kind), shared->calls[0].elements, differing,
                collective_name(shared->calls[differing].kind), shared->calls[differing].elements);
        else if (count > 0 && kind == CMD_ALL_REDUCE_SUM) {
            float *target = data + start;
            memcpy(target, comm_slot(cm, 0), (size_t)count * sizeof(float));
            for (int32_t r = 1; r < world; r++) {
                const float *slot = comm_slot(cm, r);
                for (uint64_t i = 0; i < count; i++) target[i] += slot[i];
            }
        } else if (count > 0)
            for (int32_t r = 0; r < world; r++)
                memcpy(f32_at(out, 0, 0) + (uint64_t)r * n + start, comm_slot(cm, r), (size_t)count * sizeof(float));
        TRY(comm_barrier(cm, op, comm_deadline(), message)); /* nobody refills a slot still being read */
        if (differing >= 0) return RS_ERROR_INVALID_ARGUMENT;
    }
    return RS_OK;
}

/* ==== The ops as the device runs them (worker thread; arguments already checked) ============= */

static void run_embedding(const step_data *s, const rs_tensor *table, const rs_tensor *out) {
    for (int32_t i = 0; i < s->token_count; i++)
        for (int32_t c = 0; c < table->columns; c++) *f32_at(out, i, c) = get(table, s->token_ids[i], c);
}

static void run_matmul(const rs_tensor *x, const rs_tensor *w, const rs_tensor *bias, const rs_tensor *out) {
    for (int32_t m = 0; m < x->rows; m++)
        for (int32_t n = 0; n < w->rows; n++) {
            double sum = bias ? (double)get(bias, 0, n) : 0;
            for (int32_t k = 0; k < x->columns; k++) sum += (double)get(x, m, k) * (double)get(w, n, k);
            *f32_at(out, m, n) = (float)sum;
        }
}

/* The fused op: each row normalised into a scratch row, then multiplied, so the result has the
 * bits of rms_norm followed by matmul. A real device would keep the normalised row in registers or
 * shared memory and save the round trip of the whole activation through device memory. */
static rs_status run_rms_norm_matmul(const rs_tensor *x, const rs_tensor *norm, float epsilon, const rs_tensor *w,
    const rs_tensor *bias, const rs_tensor *out, char *message) {
    float *row = malloc(sizeof(float) * (size_t)(x->columns > 0 ? x->columns : 1));
    if (!row) {
        snprintf(message, ERROR_CAPACITY, "rms_norm_matmul: no memory for a scratch row of %d floats", x->columns);
        return RS_ERROR_OUT_OF_MEMORY;
    }
    int32_t group = norm->columns;
    for (int32_t m = 0; m < x->rows; m++) {
        for (int32_t g = 0; g < x->columns; g += group) {
            double sum_squares = 0;
            for (int32_t c = 0; c < group; c++) sum_squares += (double)get(x, m, g + c) * (double)get(x, m, g + c);
            float inverse = 1.0f / sqrtf((float)(sum_squares / (double)group + (double)epsilon));
            for (int32_t c = 0; c < group; c++) row[g + c] = get(norm, 0, c) * (get(x, m, g + c) * inverse);
        }
        for (int32_t n = 0; n < w->rows; n++) {
            double sum = bias ? (double)get(bias, 0, n) : 0;
            for (int32_t k = 0; k < x->columns; k++) sum += (double)row[k] * (double)get(w, n, k);
            *f32_at(out, m, n) = (float)sum;
        }
    }
    free(row);
    return RS_OK;
}

/* Each element is read before it is written, so `out` may alias `x`. */
static void run_rms_norm(const rs_tensor *x, const rs_tensor *w, float epsilon, const rs_tensor *out) {
    int32_t group = w->columns;
    for (int32_t r = 0; r < x->rows; r++)
        for (int32_t g = 0; g < x->columns; g += group) {
            double sum_squares = 0;
            for (int32_t c = 0; c < group; c++) sum_squares += (double)get(x, r, g + c) * (double)get(x, r, g + c);
            /* f32 rsqrt of the f32 mean, as the transformers implementation computes it. */
            float inverse = 1.0f / sqrtf((float)(sum_squares / (double)group + (double)epsilon));
            for (int32_t c = 0; c < group; c++) *f32_at(out, r, g + c) = get(w, 0, c) * (get(x, r, g + c) * inverse);
        }
}

static void run_rope_table(const step_data *s, const float *frequencies, int32_t half, float scale,
    const rs_tensor *out) {
    for (int32_t i = 0; i < s->token_count; i++)
        for (int32_t j = 0; j < half; j++) {
            float angle = (float)s->positions[i] * frequencies[j];
            *f32_at(out, i, j) = cosf(angle) * scale;
            *f32_at(out, i, half + j) = sinf(angle) * scale;
        }
}

static void run_rope(const rs_tensor *x, const rs_tensor *table, int32_t head_dim) {
    int32_t half = head_dim / 2;
    for (int32_t r = 0; r < x->rows; r++)
        for (int32_t head = 0; head < x->columns; head += head_dim)
            for (int32_t j = 0; j < half; j++) {
                float cosine = get(table, r, j), sine = get(table, r, half + j);
                float *first = f32_at(x, r, head + j), *second = f32_at(x, r, head + half + j);
                float a = *first, b = *second;
                *first = a * cosine - b * sine;
                *second = b * cosine + a * sine;
            }
}

static void run_store_kv(const step_data *s, const rs_tensor *key, const rs_tensor *value, rs_kv_cache *k,
    int32_t layer) {
    int32_t head_dim = k->spec.head_dim;
    for (int32_t i = 0; i < s->token_count; i++)
        for (int32_t h = 0; h < k->spec.kv_head_count; h++)
            for (int32_t d = 0; d < head_dim; d++) {
                int64_t slot = s->slot_mapping[i];
                store_element(kv_at(k, k->keys, layer, slot, h, d), k->spec.dtype, get(key, i, h * head_dim + d));
                store_element(kv_at(k, k->values, layer, slot, h, d), k->spec.dtype, get(value, i, h * head_dim + d));
            }
}

/* Causal attention per sequence, as the Swift reference: f64 scores, max-subtracted softmax. */
static rs_status run_attention(const step_data *s, const rs_tensor *query, const rs_kv_cache *k, int32_t layer,
    float scale, const rs_tensor *out, char *message) {
    int32_t head_dim = k->spec.head_dim, page_size = k->spec.page_size;
    int32_t heads = query->columns / head_dim, group = heads / k->spec.kv_head_count, longest = 0;
    for (int32_t q = 0; q < s->sequence_count; q++)
        if (s->context_lengths[q] > longest) longest = s->context_lengths[q];
    /* A real device keeps scores in on-chip memory. Here a failed malloc shows how a failure after
     * the op returned reaches the server: through the next end_step, synchronize or download. */
    double *weights = malloc(((size_t)longest + 1) * sizeof(double));
    if (!weights) {
        snprintf(message, ERROR_CAPACITY, "attention: no host memory for the scores of %d positions", longest);
        return RS_ERROR_OUT_OF_MEMORY;
    }
    for (int32_t q = 0; q < s->sequence_count; q++) {
        int32_t row_start = s->query_starts[q], query_count = s->query_starts[q + 1] - row_start;
        int32_t context = s->context_lengths[q];
        const int32_t *pages = s->page_ids + s->page_table_starts[q];
        for (int32_t j = 0; j < query_count; j++) {
            int32_t position = context - query_count + j; /* this row's place in its sequence */
            for (int32_t h = 0; h < heads; h++) {
                int32_t kv_head = h / group;
                double maximum = -INFINITY, total = 0;
                for (int32_t t = 0; t <= position; t++) {
                    int64_t slot = (int64_t)pages[t / page_size] * page_size + t % page_size;
                    double dot = 0;
                    for (int32_t d = 0; d < head_dim; d++)
                        dot += (double)get(query, row_start + j, h * head_dim + d)
                            * (double)load_element(kv_at(k, k->keys, layer, slot, kv_head, d), k->spec.dtype);
                    weights[t] = dot * (double)scale;
                    if (t == 0 || weights[t] > maximum) maximum = weights[t];
                }
                for (int32_t t = 0; t <= position; t++) {
                    weights[t] = exp(weights[t] - maximum);
                    total += weights[t];
                }
                for (int32_t d = 0; d < head_dim; d++) {
                    double sum = 0;
                    for (int32_t t = 0; t <= position; t++) {
                        int64_t slot = (int64_t)pages[t / page_size] * page_size + t % page_size;
                        sum += weights[t] * (double)load_element(kv_at(k, k->values, layer, slot, kv_head, d),
                            k->spec.dtype);
                    }
                    *f32_at(out, row_start + j, h * head_dim + d) = (float)(sum / total);
                }
            }
        }
    }
    free(weights);
    return RS_OK;
}

static void run_silu_mul(const rs_tensor *x, const rs_tensor *out) {
    for (int32_t r = 0; r < x->rows; r++)
        for (int32_t c = 0; c < out->columns; c++) {
            float gate = get(x, r, c);
            *f32_at(out, r, c) = gate / (1.0f + expf(-gate)) * get(x, r, c + out->columns);
        }
}

/* Element by element, so `out` may alias either input. */
static void run_add(const rs_tensor *x, const rs_tensor *y, const rs_tensor *out) {
    for (int32_t r = 0; r < x->rows; r++)
        for (int32_t c = 0; c < x->columns; c++) *f32_at(out, r, c) = get(x, r, c) + get(y, r, c);
}

static void run_gather_rows(const step_data *s, const rs_tensor *x, const rs_tensor *out) {
    for (int32_t i = 0; i < s->logit_row_count; i++)
        memmove(f32_at(out, i, 0), f32_at(x, s->logit_rows[i], 0), (size_t)x->columns * sizeof(float));
}

/* The first column holding the row's maximum; 0 when no value exceeds -inf (NaN never does),
 * as the server's host sampler (Sampler.argmax). */
static void run_argmax(const rs_tensor *logits, int32_t *ids) {
    for (int32_t r = 0; r < logits->rows; r++) {
        int32_t best = 0;
        float maximum = -INFINITY;
        for (int32_t c = 0; c < logits->columns; c++)
            if (*f32_at(logits, r, c) > maximum) {
                maximum = *f32_at(logits, r, c);
                best = c;
            }
        ids[r] = best;
    }
}

/* Whether (a at column ia) ranks before (b at column ib): larger first, NaN after every number,
 * equal values (and NaNs among themselves) by lower column. */
static int ranks_before(float a, int32_t ia, float b, int32_t ib) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? ia < ib : !isnan(a);
    return a > b || (a == b && ia < ib);
}

/* Partial selection: a sorted list of the best k so far; each column is inserted where it ranks. */
static void run_top_k(const rs_tensor *logits, int32_t k, int32_t *ids, float *values) {
    int32_t best_ids[MAX_TOP_K];
    float best[MAX_TOP_K];
    for (int32_t r = 0; r < logits->rows; r++) {
        int32_t kept = 0;
        for (int32_t c = 0; c < logits->columns; c++) {
            float v = *f32_at(logits, r, c);
            if (kept == k && !ranks_before(v, c, best[k - 1], best_ids[k - 1])) continue;
            int32_t i = kept < k ? kept++ : k - 1; /* the free place, or the last one's */
            for (; i > 0 && ranks_before(v, c, best[i - 1], best_ids[i - 1]); i--) {
                best[i] = best[i - 1];
                best_ids[i] = best_ids[i - 1];
            }
            best[i] = v;
            best_ids[i] = c;
        }
        memcpy(ids + (size_t)r * k, best_ids, (size_t)k * sizeof(int32_t));
        memcpy(values + (size_t)r * k, best, (size_t)k * sizeof(float));
    }
}

/* Runs one command; a failure leaves its message in `message` (ERROR_CAPACITY bytes). */
static rs_status run_command(rs_backend *b, command *c, char *message) {
    const step_data *s = b->device_step;
    const rs_tensor *t = c->t;
    switch (c->kind) {
    case CMD_BEGIN_STEP:
        free(b->device_step);
        b->device_step = c->step;
        c->step = NULL; /* the backend's now */
        break;
    case CMD_UPLOAD: memcpy((uint8_t *)c->buffer->data + c->offset, c->owned, (size_t)c->bytes); break;
    case CMD_DOWNLOAD: memcpy(c->host, (const uint8_t *)c->buffer->data + c->offset, (size_t)c->bytes); break;
    case CMD_COPY_WEIGHT: { /* A real device would repack into its matmul's preferred tiling here. */
        size_t row_bytes = (size_t)t[0].columns * rs_dtype_size(t[0].dtype);
        for (int32_t r = 0; r < t[0].rows; r++)
            memcpy((uint8_t *)c->buffer->data + (size_t)r * row_bytes, element_at(&t[0], r, 0), row_bytes);
        break;
    }
    case CMD_RELEASE_BUFFER: buffer_free(c->buffer); break;
    case CMD_RELEASE_KV_CACHE: kv_cache_free(c->cache); break;
    case CMD_EMBEDDING: run_embedding(s, &t[0], &t[1]); break;
    case CMD_MATMUL: run_matmul(&t[0], &t[1], t[2].buffer ? &t[2] : NULL, &t[3]); break;
    case CMD_RMS_NORM: run_rms_norm(&t[0], &t[1], c->scalar, &t[2]); break;
    case CMD_ROPE_TABLE: run_rope_table(s, c->owned, c->count, c->scalar, &t[0]); break;
    case CMD_ROPE: run_rope(&t[0], &t[1], c->count); break;
    case CMD_STORE_KV: run_store_kv(s, &t[0], &t[1], c->cache, c->layer); break;
    case CMD_ATTENTION: return run_attention(s, &t[0], c->cache, c->layer, c->scalar, &t[1], message);
    case CMD_SILU_MUL: run_silu_mul(&t[0], &t[1]); break;
    case CMD_ADD: run_add(&t[0], &t[1], &t[2]); break;
    case CMD_GATHER_ROWS: run_gather_rows(s, &t[0], &t[1]); break;
    case CMD_ARGMAX: run_argmax(&t[0], c->host); break;
    case CMD_TOP_K: run_top_k(&t[0], c->count, c->host, c->host_values); break;
    case CMD_ALL_REDUCE_SUM:
    case CMD_ALL_GATHER: return run_collective(c->communicator, c->kind, &t[0], &t[1], message);
    case CMD_RELEASE_COMMUNICATOR: communicator_free(c->communicator); break;
    case CMD_RMS_NORM_MATMUL:
        return run_rms_norm_matmul(&t[0], &t[1], c->scalar, &t[2], t[3].buffer ? &t[3] : NULL, &t[4], message);
    }
    return RS_OK;
}

/* ==== Plugin level =========================================================================== */

/* Environment variable `name` as a positive whole number up to `maximum` (`fallback` when unset). */
static rs_status read_env_number(const char *name, const char *unit, uint64_t fallback, uint64_t maximum,
    uint64_t *out) {
    const char *text = getenv(name);
    *out = fallback;
    if (!text) return RS_OK;
    char *end = NULL;
    unsigned long long parsed = 0;
    int digit_first = text[0] >= '0' && text[0] <= '9'; /* strtoull alone takes "-1" and " 5" */
    if (digit_first) parsed = strtoull(text, &end, 10);
    if (!digit_first || *end != '\0' || parsed == 0 || parsed > maximum)
        return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "init: %s is \"%s\"; expected a positive whole number of %s",
            name, text, unit);
    *out = parsed;
    return RS_OK;
}

/* Reads the device memory capacity and the communicators' timeout. A real device would load its
 * driver and find its chips. */
static rs_status plugin_init(void) {
    uint64_t megabytes, milliseconds;
    TRY(read_env_number(MEMORY_ENV, "MiB of device memory", DEFAULT_MEMORY_MB, UINT64_MAX >> 20, &megabytes));
    TRY(read_env_number(TIMEOUT_ENV, "milliseconds a rank waits for its peers", DEFAULT_TIMEOUT_MS, INT32_MAX,
        &milliseconds));
    atomic_store(&device_memory.capacity, megabytes << 20);
    atomic_store(&comm_timeout_ms, milliseconds);
    return RS_OK;
}

static const char *plugin_last_error(rs_backend *b) { return b ? b->error : thread_error; }

static rs_status plugin_get_capabilities(rs_capabilities *out) {
    if (!out) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "get_capabilities: out is NULL");
    *out = (rs_capabilities){
        .kind = RS_DEVICE_ACCELERATOR,
        .weight_dtypes = ALL_DTYPES,
        .kv_cache_dtypes = ALL_DTYPES,
        .page_size_multiple = 1,
        .shares_host_memory = 0,   /* weights are always uploaded */
        .host_visible_buffers = 0, /* the server reads device memory only through download */
        .max_threads = 1,          /* one worker thread per backend */
        .max_rows_per_step = 0,    /* no limit but memory */
        .hooks = RS_HOOK_DEVICE_ARGMAX | RS_HOOK_DEVICE_TOP_K | RS_HOOK_DEVICE_COMMUNICATOR | RS_HOOK_STEP_CAPTURE
            | RS_HOOK_FUSED_NORM_MATMUL,
        .max_top_k = MAX_TOP_K,
    };
    return RS_OK;
}

static rs_status plugin_memory_info(uint64_t *free_bytes, uint64_t *total_bytes) {
    if (!free_bytes || !total_bytes) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "memory_info: an output is NULL");
    uint64_t total = atomic_load(&device_memory.capacity), used = atomic_load(&device_memory.used);
    *total_bytes = total;
    *free_bytes = used < total ? total - used : 0;
    return RS_OK;
}

static void backend_free(rs_backend *b) {
    pthread_cond_destroy(&b->drained);
    pthread_cond_destroy(&b->has_work);
    pthread_mutex_destroy(&b->lock);
    free(b->host_step);
    free(b->device_step);
    if (b->capture) graph_free(b->capture); /* a capture never ended */
    free(b);
}

/* A real device would create a stream (and its context) here. `threads` is an upper bound; this
 * device always computes on its one worker thread. */
static rs_status plugin_create_backend(int32_t threads, rs_backend **out) {
    const char *op = "create_backend";
    if (!out) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "%s: out is NULL", op);
    *out = NULL;
    if (threads < 0) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "%s: threads is %d; expected 0 or more", op, threads);
    rs_backend *b = calloc(1, sizeof *b);
    if (!b) return fail(NULL, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory for the backend", op);
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->has_work, NULL);
    pthread_cond_init(&b->drained, NULL);
    b->host_step = step_copy(NULL); /* ops before the first begin_step see an empty step */
    b->device_step = step_copy(NULL);
    int error = b->host_step && b->device_step ? pthread_create(&b->worker, NULL, worker_main, b) : -1;
    if (error != 0) {
        backend_free(b);
        return fail(NULL, error < 0 ? RS_ERROR_OUT_OF_MEMORY : RS_ERROR_DEVICE, "%s: %s (error %d)", op,
            error < 0 ? "no host memory for the backend" : "pthread_create failed", error);
    }
    *out = b;
    return RS_OK;
}

/* Drains the queue (running the releases in it), stops the worker and frees the backend. A
 * failure nobody collected goes with it. */
static void plugin_destroy_backend(rs_backend *b) {
    if (!b) return;
    wait_idle(b, 0);
    pthread_mutex_lock(&b->lock);
    b->stopping = 1;
    pthread_cond_signal(&b->has_work);
    pthread_mutex_unlock(&b->lock);
    pthread_join(b->worker, NULL);
    backend_free(b);
}

/* ==== Memory ================================================================================= */

static rs_status plugin_allocate(rs_backend *b, uint64_t byte_count, rs_buffer_usage usage, rs_buffer **out) {
    BEGIN_OP("allocate");
    if (!out) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: out is NULL", op);
    *out = NULL;
    if ((unsigned)usage > (unsigned)RS_USAGE_COMPUTE)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: unknown usage %d", op, (int)usage);
    /* A real device might place weights, KV caches and activations in different memories. */
    return buffer_create(b, op, byte_count, usage, out);
}

/* Queues the free of a buffer, cache or communicator, so ops already queued on it still run (a
 * real device: a stream-ordered free). It is queued even during a step capture: a release is not
 * part of a step. With no backend to queue on, or no memory to queue, it waits and frees. */
static void release_later(rs_backend *b, command_kind kind, rs_buffer *buffer, rs_kv_cache *cache,
    rs_communicator *communicator) {
    command *c = b ? new_command(b, "release", kind, NULL, NULL, NULL, NULL) : NULL;
    if (c) {
        c->buffer = buffer;
        c->cache = cache;
        c->communicator = communicator;
        submit(b, c);
        return;
    }
    if (b) wait_idle(b, 0);
    if (buffer) buffer_free(buffer);
    if (cache) kv_cache_free(cache);
    if (communicator) communicator_free(communicator);
}

static void plugin_release_buffer(rs_backend *b, rs_buffer *buffer) {
    if (buffer) release_later(b, CMD_RELEASE_BUFFER, buffer, NULL, NULL);
}

/* Bytes [offset, offset + count) lie inside the buffer, and the host side exists. */
static rs_status check_range(rs_backend *b, const char *op, const rs_buffer *buffer, uint64_t offset, uint64_t count,
    const void *host) {
    uint64_t size = buffer ? buffer->size : 0;
    return rs_check_range(op, buffer, size, offset, count, host, error_slot(b), ERROR_CAPACITY);
}

/* The source is staged at once, so the caller may reuse it on return. A real device would copy
 * it into pinned memory and queue a DMA. */
static rs_status plugin_upload(rs_backend *b, rs_buffer *buffer, uint64_t byte_offset, const void *source,
    uint64_t byte_count) {
    BEGIN_OP("upload");
    REFUSE_DURING_CAPTURE();
    TRY(check_range(b, op, buffer, byte_offset, byte_count, source));
    if (byte_count == 0) return RS_OK;
    command *c = new_command(b, op, CMD_UPLOAD, NULL, NULL, NULL, NULL);
    if (!c) return RS_ERROR_OUT_OF_MEMORY;
    c->owned_bytes = (size_t)byte_count;
    if (!(c->owned = malloc(c->owned_bytes))) {
        command_free(c);
        return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory to stage %" PRIu64 " bytes", op, byte_count);
    }
    memcpy(c->owned, source, (size_t)byte_count);
    c->buffer = buffer;
    c->offset = byte_offset;
    c->bytes = byte_count;
    return submit(b, c);
}

/* Queued behind every earlier op, then waited for; reports any failure of the queued work. */
static rs_status plugin_download(rs_backend *b, rs_buffer *buffer, uint64_t byte_offset, void *destination,
    uint64_t byte_count) {
    BEGIN_OP("download");
    REFUSE_DURING_CAPTURE();
    TRY(check_range(b, op, buffer, byte_offset, byte_count, destination));
    if (byte_count > 0) {
        command *c = new_command(b, op, CMD_DOWNLOAD, NULL, NULL, NULL, NULL);
        if (c) {
            c->buffer = buffer;
            c->offset = byte_offset;
            c->bytes = byte_count;
            c->host = destination;
        }
        TRY(submit(b, c));
    }
    return wait_idle(b, 1);
}

/* A new contiguous copy of `weight` (byte offset 0, row stride = columns, as the server then
 * describes it); the server passes it only as matmul's weight, and releases the original. */
static rs_status plugin_prepare_matmul_weight(rs_backend *b, const rs_tensor *weight, rs_buffer **out) {
    BEGIN_OP("prepare_matmul_weight");
    REFUSE_DURING_CAPTURE();
    if (!out) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: out is NULL", op);
    *out = NULL;
    TRY(check_tensor(b, op, "weight", weight, ALL_DTYPES, ANY, ANY));
    uint64_t bytes = (uint64_t)weight->rows * (uint64_t)weight->columns * rs_dtype_size(weight->dtype);
    command *c = new_command(b, op, CMD_COPY_WEIGHT, weight, NULL, NULL, NULL);
    if (!c) return RS_ERROR_OUT_OF_MEMORY;
    rs_status status = buffer_create(b, op, bytes, RS_USAGE_WEIGHTS, &c->buffer);
    if (status != RS_OK) {
        command_free(c);
        return status;
    }
    *out = c->buffer;
    return submit(b, c);
}

/* ==== KV cache =============================================================================== */

/* Elements of keys (or of values) in one page of every layer; 0 when that overflows. */
static uint64_t elements_per_page(const rs_kv_cache_spec *spec) {
    uint64_t n = (uint64_t)spec->layer_count * (uint64_t)spec->kv_head_count; /* each < 2^62 */
    uint64_t m = (uint64_t)spec->page_size * (uint64_t)spec->head_dim;
    return m > UINT64_MAX / 8 / n ? 0 : n * m;
}

static rs_status plugin_kv_cache_bytes_per_page(rs_backend *b, const rs_kv_cache_spec *spec, uint64_t *out) {
    BEGIN_OP("kv_cache_bytes_per_page");
    if (!out) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: out is NULL", op);
    TRY(check_spec(b, op, spec, 0));
    uint64_t elements = elements_per_page(spec);
    if (elements == 0) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: a page of this spec overflows 64 bits", op);
    *out = 2 * elements * rs_dtype_size(spec->dtype);
    return RS_OK;
}

/* Zeroed keys and values. A real device would allocate them in its memory in its own layout. */
static rs_status plugin_create_kv_cache(rs_backend *b, const rs_kv_cache_spec *spec, rs_kv_cache **out) {
    BEGIN_OP("create_kv_cache");
    if (!out) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: out is NULL", op);
    *out = NULL;
    TRY(check_spec(b, op, spec, 1));
    uint64_t page_bytes = elements_per_page(spec) * rs_dtype_size(spec->dtype);
    if (page_bytes == 0 || (uint64_t)spec->page_count > UINT64_MAX / 2 / page_bytes)
        return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: %d pages of this spec overflow 64 bits", op, spec->page_count);
    uint64_t half = page_bytes * (uint64_t)spec->page_count; /* the keys, or the values */
    TRY(reserve_memory(b, op, 2 * half));
    rs_kv_cache *cache = malloc(sizeof *cache);
    uint8_t *memory = calloc(1, (size_t)(2 * half)); /* the keys, then the values */
    if (!cache || !memory) {
        free(cache);
        free(memory);
        unreserve_memory(2 * half);
        return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: the host heap cannot hold %" PRIu64 " more bytes", op, 2 * half);
    }
    *cache = (rs_kv_cache){ .spec = *spec, .slot_count = (int64_t)spec->page_count * spec->page_size,
        .bytes = 2 * half, .keys = memory, .values = memory + half };
    *out = cache;
    return RS_OK;
}

static void plugin_release_kv_cache(rs_backend *b, rs_kv_cache *cache) {
    if (cache) release_later(b, CMD_RELEASE_KV_CACHE, NULL, cache, NULL);
}

/* ==== One step =============================================================================== */

/* Two copies of the inputs: one for this thread to check later ops against, and one queued for
 * the worker, so ops queued before this call keep reading the previous step's. A real device
 * would upload the arrays (they are small) here. */
static rs_status plugin_begin_step(rs_backend *b, const rs_step_inputs *inputs) {
    BEGIN_OP("begin_step");
    REFUSE_DURING_CAPTURE();
    TRY(check_step(b, inputs));
    command *c = new_command(b, op, CMD_BEGIN_STEP, NULL, NULL, NULL, NULL);
    if (!c) return RS_ERROR_OUT_OF_MEMORY;
    step_data *host = step_copy(inputs);
    c->step = step_copy(inputs);
    if (!host || !c->step) {
        free(host);
        command_free(c);
        return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory to copy the step's inputs", op);
    }
    free(b->host_step);
    b->host_step = host;
    return submit(b, c);
}

/* This device waits for the step; one that overlaps steps could return at once, reporting the
 * step's failures at the next synchronize or download instead. */
static rs_status plugin_end_step(rs_backend *b) {
    BEGIN_OP("end_step");
    REFUSE_DURING_CAPTURE();
    return wait_idle(b, 1);
}

static rs_status plugin_synchronize(rs_backend *b) {
    BEGIN_OP("synchronize");
    REFUSE_DURING_CAPTURE();
    return wait_idle(b, 1);
}

static rs_status plugin_embedding(rs_backend *b, const rs_tensor *table, const rs_tensor *out) {
    BEGIN_OP("embedding");
    const step_data *s = b->host_step;
    TRY(check_tensor(b, op, "table", table, ALL_DTYPES, ANY, ANY));
    TRY(check_tensor(b, op, "out", out, F32_ONLY, s->token_count, table->columns));
    TRY(check_token_ids(b, op, s, table->rows));
    return issue(b, new_command(b, op, CMD_EMBEDDING, table, out, NULL, NULL));
}

static rs_status plugin_matmul(rs_backend *b, const rs_tensor *x, const rs_tensor *weight, const rs_tensor *bias,
    const rs_tensor *out) {
    BEGIN_OP("matmul");
    TRY(check_tensor(b, op, "x", x, F32_ONLY, ANY, ANY));
    TRY(check_tensor(b, op, "weight", weight, ALL_DTYPES, ANY, x->columns));
    TRY(check_tensor(b, op, "out", out, F32_ONLY, x->rows, weight->rows));
    if (bias) TRY(check_tensor(b, op, "bias", bias, F32_ONLY, 1, weight->rows));
    return issue(b, new_command(b, op, CMD_MATMUL, x, weight, bias, out));
}

static rs_status plugin_rms_norm(rs_backend *b, const rs_tensor *x, const rs_tensor *weight, float epsilon,
    const rs_tensor *out) {
    BEGIN_OP("rms_norm");
    TRY(check_tensor(b, op, "x", x, F32_ONLY, ANY, ANY));
    TRY(check_tensor(b, op, "weight", weight, ALL_DTYPES, 1, ANY));
    TRY(check_tensor(b, op, "out", out, F32_ONLY, x->rows, x->columns));
    if (weight->columns == 0 || x->columns % weight->columns != 0)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: x's %d columns are not whole groups of weight's %d", op,
            x->columns, weight->columns);
    command *c = new_command(b, op, CMD_RMS_NORM, x, weight, out, NULL);
    if (c) c->scalar = epsilon;
    return issue(b, c);
}

static rs_status plugin_rms_norm_matmul(rs_backend *b, const rs_tensor *x, const rs_tensor *norm_weight, float epsilon,
    const rs_tensor *weight, const rs_tensor *bias, const rs_tensor *out) {
    BEGIN_OP("rms_norm_matmul");
    TRY(check_tensor(b, op, "x", x, F32_ONLY, ANY, ANY));
    TRY(check_tensor(b, op, "norm_weight", norm_weight, ALL_DTYPES, 1, ANY));
    TRY(check_tensor(b, op, "weight", weight, ALL_DTYPES, ANY, x->columns));
    TRY(check_tensor(b, op, "out", out, F32_ONLY, x->rows, weight->rows));
    if (bias) TRY(check_tensor(b, op, "bias", bias, F32_ONLY, 1, weight->rows));
    if (norm_weight->columns == 0 || x->columns % norm_weight->columns != 0)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: x's %d columns are not whole groups of norm_weight's %d", op,
            x->columns, norm_weight->columns);
    command *c = new_command(b, op, CMD_RMS_NORM_MATMUL, x, norm_weight, weight, bias);
    if (c) {
        c->t[4] = *out;
        c->scalar = epsilon;
    }
    return issue(b, c);
}

static rs_status plugin_rope_table(rs_backend *b, const float *inverse_frequencies, int32_t count, float scale,
    const rs_tensor *out) {
    BEGIN_OP("rope_table");
    if (count < 0 || (count > 0 && !inverse_frequencies))
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: %d inverse frequencies at %p", op, count,
            (const void *)inverse_frequencies);
    TRY(check_tensor(b, op, "out", out, F32_ONLY, b->host_step->token_count, 2 * (int64_t)count));
    command *c = new_command(b, op, CMD_ROPE_TABLE, out, NULL, NULL, NULL);
    if (!c) return RS_ERROR_OUT_OF_MEMORY;
    /* The array is valid only during this call: copy it (a real device would upload it once). */
    c->owned_bytes = (size_t)count * sizeof(float) + 1; /* + 1: never malloc(0) */
    if (!(c->owned = malloc(c->owned_bytes))) {
        command_free(c);
        return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory to copy %d frequencies", op, count);
    }
    if (count > 0) memcpy(c->owned, inverse_frequencies, (size_t)count * sizeof(float));
    c->count = count;
    c->scalar = scale;
    return issue(b, c);
}

static rs_status plugin_rope(rs_backend *b, const rs_tensor *x, const rs_tensor *table, int32_t head_dim) {
    BEGIN_OP("rope");
    TRY(check_tensor(b, op, "x", x, F32_ONLY, ANY, ANY));
    if (head_dim <= 0 || head_dim % 2 != 0 || x->columns % head_dim != 0)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: head_dim %d must be positive, even and divide x's %d "
            "columns", op, head_dim, x->columns);
    TRY(check_tensor(b, op, "table", table, F32_ONLY, x->rows, head_dim));
    command *c = new_command(b, op, CMD_ROPE, x, table, NULL, NULL);
    if (c) c->count = head_dim;
    return issue(b, c);
}

static rs_status plugin_store_kv(rs_backend *b, const rs_tensor *key, const rs_tensor *value, rs_kv_cache *cache,
    int32_t layer) {
    BEGIN_OP("store_kv");
    const step_data *s = b->host_step;
    TRY(check_cache(b, op, cache, layer));
    int64_t width = (int64_t)cache->spec.kv_head_count * cache->spec.head_dim;
    TRY(check_tensor(b, op, "key", key, F32_ONLY, s->token_count, width));
    TRY(check_tensor(b, op, "value", value, F32_ONLY, s->token_count, width));
    TRY(check_slots(b, op, s, cache));
    command *c = new_command(b, op, CMD_STORE_KV, key, value, NULL, NULL);
    if (c) {
        c->cache = cache;
        c->layer = layer;
    }
    return issue(b, c);
}

static rs_status plugin_attention(rs_backend *b, const rs_tensor *query, rs_kv_cache *cache, int32_t layer, float scale,
    const rs_tensor *out) {
    BEGIN_OP("attention");
    const step_data *s = b->host_step;
    TRY(check_cache(b, op, cache, layer));
    const rs_kv_cache_spec *spec = &cache->spec;
    /* The step's rows are its sequences' new tokens. */
    TRY(check_tensor(b, op, "query", query, F32_ONLY, s->query_starts[s->sequence_count], ANY));
    TRY(check_tensor(b, op, "out", out, F32_ONLY, query->rows, query->columns));
    int32_t heads = query->columns / spec->head_dim;
    if (query->columns % spec->head_dim != 0 || heads == 0 || heads % spec->kv_head_count != 0)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: query's %d columns are not a positive multiple of the "
            "cache's %d KV heads × head_dim %d", op, query->columns, spec->kv_head_count, spec->head_dim);
    TRY(check_pages(b, op, s, spec));
    command *c = new_command(b, op, CMD_ATTENTION, query, out, NULL, NULL);
    if (c) {
        c->cache = cache;
        c->layer = layer;
        c->scalar = scale;
    }
    return issue(b, c);
}

static rs_status plugin_silu_mul(rs_backend *b, const rs_tensor *x, const rs_tensor *out) {
    BEGIN_OP("silu_mul");
    TRY(check_tensor(b, op, "out", out, F32_ONLY, ANY, ANY));
    TRY(check_tensor(b, op, "x", x, F32_ONLY, out->rows, 2 * (int64_t)out->columns));
    return issue(b, new_command(b, op, CMD_SILU_MUL, x, out, NULL, NULL));
}

static rs_status plugin_add(rs_backend *b, const rs_tensor *x, const rs_tensor *y, const rs_tensor *out) {
    BEGIN_OP("add");
    TRY(check_tensor(b, op, "x", x, F32_ONLY, ANY, ANY));
    TRY(check_tensor(b, op, "y", y, F32_ONLY, x->rows, x->columns));
    TRY(check_tensor(b, op, "out", out, F32_ONLY, x->rows, x->columns));
    return issue(b, new_command(b, op, CMD_ADD, x, y, out, NULL));
}

static rs_status plugin_gather_rows(rs_backend *b, const rs_tensor *x, const rs_tensor *out) {
    BEGIN_OP("gather_rows");
    const step_data *s = b->host_step;
    TRY(check_tensor(b, op, "x", x, F32_ONLY, ANY, ANY));
    TRY(check_tensor(b, op, "out", out, F32_ONLY, s->logit_row_count, x->columns));
    TRY(check_logit_rows(b, op, s, x->rows));
    return issue(b, new_command(b, op, CMD_GATHER_ROWS, x, out, NULL, NULL));
}

/* ==== Optional hooks ========================================================================= */

/* Queued behind the step, then waited for. A real device would reduce on the device and copy
 * back only the ids. A failure of earlier queued work is reported here too: the ids would come
 * from bad logits. */
static rs_status plugin_argmax(rs_backend *b, const rs_tensor *logits, int32_t *ids) {
    BEGIN_OP("argmax");
    REFUSE_DURING_CAPTURE();
    TRY(check_tensor(b, op, "logits", logits, F32_ONLY, ANY, ANY));
    if (logits->rows > 0 && !ids) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: ids is NULL", op);
    command *c = new_command(b, op, CMD_ARGMAX, logits, NULL, NULL, NULL);
    if (c) c->host = ids;
    TRY(submit(b, c));
    return wait_idle(b, 1);
}

static rs_status plugin_top_k(rs_backend *b, const rs_tensor *logits, int32_t k, int32_t *ids, float *values) {
    BEGIN_OP("top_k");
    REFUSE_DURING_CAPTURE();
    TRY(check_tensor(b, op, "logits", logits, F32_ONLY, ANY, ANY));
    if (k < 1 || k > MAX_TOP_K)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: k is %d; expected 1 ... %d", op, k, MAX_TOP_K);
    if (logits->rows > 0 && k > logits->columns)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: k (%d) exceeds the rows' %d columns", op, k, logits->columns);
    if (logits->rows > 0 && (!ids || !values))
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: ids or values is NULL", op);
    command *c = new_command(b, op, CMD_TOP_K, logits, NULL, NULL, NULL);
    if (c) {
        c->count = k;
        c->host = ids;
        c->host_values = values;
    }
    TRY(submit(b, c));
    return wait_idle(b, 1);
}

/* ---- RS_HOOK_DEVICE_COMMUNICATOR (see "Communicators" above for how the data moves) ---------- */

/* 48 bits that differ between calls and processes (the name also holds the pid, and O_EXCL in
 * segment_create catches the unlikely clash): the clocks and a counter, mixed (splitmix64). */
static uint64_t comm_random(void) {
    static _Atomic uint64_t counter;
    struct timespec wall, steady;
    clock_gettime(CLOCK_REALTIME, &wall);
    clock_gettime(CLOCK_MONOTONIC, &steady);
    uint64_t z = ((uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec)
        ^ ((uint64_t)steady.tv_nsec << 32) ^ (atomic_fetch_add(&counter, 1) * 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return (z ^ (z >> 31)) & 0xFFFFFFFFFFFFu;
}

/* A new id naming a shared-memory segment that does not exist yet ("/rsref-<pid>-<random>"; rank
 * 0's create_communicator makes it). A real device: ncclGetUniqueId. */
static rs_status plugin_communicator_id(rs_backend *b, uint8_t id[RS_COMMUNICATOR_ID_BYTES]) {
    BEGIN_OP("communicator_id");
    if (!id) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: id is NULL", op);
    comm_id made = { .magic = COMM_MAGIC, .version = COMM_VERSION };
    snprintf(made.name, sizeof made.name, COMM_NAME_PREFIX "%x-%012" PRIx64, (unsigned)getpid(), comm_random());
    memset(id, 0, RS_COMMUNICATOR_ID_BYTES);
    memcpy(id, &made, sizeof made);
    return RS_OK;
}

/* Maps the id's segment (rank 0 creates it; the others wait for it) and waits until every rank
 * has, all within the timeout. Then the segment's name is removed: the mappings keep it alive,
 * and nothing is left in /dev/shm however the processes end. Runs on the calling thread, so the
 * ranks must call it from different threads or processes at once. A real device:
 * ncclCommInitRank (which also waits for every rank). */
static rs_status plugin_create_communicator(rs_backend *b, const uint8_t id[RS_COMMUNICATOR_ID_BYTES], int32_t rank,
    int32_t world_size, rs_communicator **out) {
    BEGIN_OP("create_communicator");
    if (!out) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: out is NULL", op);
    *out = NULL;
    if (!id) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: id is NULL", op);
    if (world_size < 1 || world_size > COMM_MAX_RANKS || rank < 0 || rank >= world_size)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: rank %d of world size %d; expected 1 <= world size <= %d and "
            "0 <= rank < world size", op, rank, world_size, COMM_MAX_RANKS);
    comm_id given;
    memcpy(&given, id, sizeof given);
    if (given.magic != COMM_MAGIC || given.version != COMM_VERSION || !memchr(given.name, '\0', sizeof given.name)
        || strncmp(given.name, COMM_NAME_PREFIX, strlen(COMM_NAME_PREFIX)) != 0)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: the id was not made by this plugin's communicator_id "
            "(version %u)", op, COMM_VERSION);
    const char *name = given.name;
    int64_t deadline = comm_deadline();

    comm_mapping *m = mapping_find(name); /* another rank in this process got there first */
    if (!m) {
        comm_shared *shared = NULL;
        size_t bytes = 0;
        TRY(rank == 0 ? segment_create(b, op, name, world_size, &shared, &bytes)
                      : segment_open(b, op, name, rank, deadline, &shared, &bytes));
        if (!(m = mapping_adopt(name, shared, bytes))) {
            if (rank == 0) shm_unlink(name);
            return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory for the communicator", op);
        }
    }
    rs_status status = RS_OK;
    rs_communicator *cm = NULL;
    unsigned int unclaimed = 0;
    if (m->shared->world_size != world_size)
        status = fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: rank %d was given world size %d, but rank 0 created the "
            "communicator for %d", op, rank, world_size, m->shared->world_size);
    else if (!atomic_compare_exchange_strong(&m->shared->claimed[rank], &unclaimed, 1u))
        status = fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: rank %d of this communicator already exists", op, rank);
    else if (!(cm = calloc(1, sizeof *cm)))
        status = fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory for the communicator", op);
    if (status == RS_OK) {
        *cm = (rs_communicator){ .backend = b, .mapping = m, .rank = rank, .world_size = world_size };
        char message[ERROR_CAPACITY];
        if (comm_barrier(cm, op, deadline, message) != RS_OK) status = fail(b, RS_ERROR_DEVICE, "%s", message);
    }
    if (status != RS_OK) {
        if (rank == 0) shm_unlink(name); /* ranks still to come find nothing and time out */
        free(cm);
        mapping_release(m);
        return status;
    }
    shm_unlink(name); /* every rank has mapped it; a faster rank may have removed the name already */
    *out = cm;
    return RS_OK;
}

/* Queued on the backend the communicator was created on, behind its collectives (so it must be
 * released before that backend is destroyed). A real device: ncclCommDestroy after the stream. */
static void plugin_release_communicator(rs_backend *b, rs_communicator *communicator) {
    (void)b;
    if (communicator) release_later(communicator->backend, CMD_RELEASE_COMMUNICATOR, NULL, NULL, communicator);
}

static rs_status check_communicator(rs_backend *b, const char *op, const rs_communicator *communicator) {
    if (!communicator) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: communicator is NULL", op);
    if (communicator->backend != b)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: the communicator was created on another backend", op);
    return RS_OK;
}

static rs_status check_contiguous(rs_backend *b, const char *op, const char *name, const rs_tensor *t) {
    if (t->rows > 1 && t->row_stride != t->columns)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: %s must be contiguous, but its row stride is %d for %d "
            "columns", op, name, t->row_stride, t->columns);
    return RS_OK;
}

/* Checked here, run in the queue (run_collective): it sums x as the earlier queued ops left it. */
static rs_status plugin_all_reduce_sum(rs_backend *b, rs_communicator *communicator, const rs_tensor *x) {
    BEGIN_OP("all_reduce_sum");
    TRY(check_communicator(b, op, communicator));
    TRY(check_tensor(b, op, "x", x, F32_ONLY, ANY, ANY));
    TRY(check_contiguous(b, op, "x", x));
    command *c = new_command(b, op, CMD_ALL_REDUCE_SUM, x, NULL, NULL, NULL);
    if (c) c->communicator = communicator;
    return issue(b, c);
}

/* x may be this rank's part of out (in place, as NCCL allows), but may not overlap out otherwise. */
static rs_status plugin_all_gather(rs_backend *b, rs_communicator *communicator, const rs_tensor *x,
    const rs_tensor *out) {
    BEGIN_OP("all_gather");
    TRY(check_communicator(b, op, communicator));
    TRY(check_tensor(b, op, "x", x, F32_ONLY, ANY, ANY));
    TRY(check_contiguous(b, op, "x", x));
    TRY(check_tensor(b, op, "out", out, F32_ONLY, (int64_t)communicator->world_size * x->rows, x->columns));
    TRY(check_contiguous(b, op, "out", out));
    uint64_t x_bytes = (uint64_t)x->rows * (uint64_t)x->columns * sizeof(float);
    uint64_t x_start = x->byte_offset, out_start = out->byte_offset;
    uint64_t out_end = out_start + (uint64_t)communicator->world_size * x_bytes;
    if (x_bytes > 0 && x->buffer == out->buffer && x_start < out_end && out_start < x_start + x_bytes
        && x_start != out_start + (uint64_t)communicator->rank * x_bytes)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: x overlaps out other than as rank %d's part of it", op,
            communicator->rank);
    command *c = new_command(b, op, CMD_ALL_GATHER, x, out, NULL, NULL);
    if (c) c->communicator = communicator;
    return issue(b, c);
}

/* ---- RS_HOOK_STEP_CAPTURE -------------------------------------------------------------------- */

/* A real device would start a stream capture here (cudaStreamBeginCapture, hipStreamBeginCapture):
 * its kernel launches are recorded, not run. Here the checked commands go to b->capture (issue). */
static rs_status plugin_capture_begin(rs_backend *b) {
    BEGIN_OP("capture_begin");
    if (b->capture) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: already capturing (capture_end first)", op);
    rs_graph *g = calloc(1, sizeof *g);
    if (!g) return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory for a graph", op);
    const step_data *s = b->host_step; /* the step the recorded ops are checked against */
    g->token_count = s->token_count;
    g->sequence_count = s->sequence_count;
    g->logit_row_count = s->logit_row_count;
    b->capture = g;
    return RS_OK;
}

/* A real device: cudaStreamEndCapture, then cudaGraphInstantiate. */
static rs_status plugin_capture_end(rs_backend *b, rs_graph **out) {
    BEGIN_OP("capture_end");
    if (!out) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: out is NULL", op);
    *out = NULL;
    if (!b->capture) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: not capturing (capture_begin first)", op);
    *out = b->capture;
    b->capture = NULL;
    return RS_OK;
}

/* The step values a recorded op will read must fit its operands, as the op checked at capture
 * for the capture's step; the step's counts are checked for the whole graph by replay. */
static rs_status check_replayed(rs_backend *b, const command *c, const step_data *s) {
    switch (c->kind) {
    case CMD_EMBEDDING: return check_token_ids(b, "embedding", s, c->t[0].rows);
    case CMD_STORE_KV: return check_slots(b, "store_kv", s, c->cache);
    case CMD_ATTENTION:
        if (c->t[0].rows != s->query_starts[s->sequence_count])
            return fail(b, RS_ERROR_INVALID_ARGUMENT, "attention: the step's sequences have %d new tokens, but the "
                "recorded query has %d rows", s->query_starts[s->sequence_count], c->t[0].rows);
        return check_pages(b, "attention", s, &c->cache->spec);
    case CMD_GATHER_ROWS: return check_logit_rows(b, "gather_rows", s, c->t[0].rows);
    default: return RS_OK; /* reads no step values, or only the counts the graph's shape fixes */
    }
}

/* Queues copies of the recorded commands, all at once, after checking them against the latest
 * begin_step; they read that step when they run. A real device: cudaGraphLaunch on the stream,
 * with the step's arrays uploaded to the fixed device addresses the graph's kernels read. */
static rs_status plugin_replay(rs_backend *b, rs_graph *graph) {
    BEGIN_OP("replay");
    REFUSE_DURING_CAPTURE();
    if (!graph) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: graph is NULL", op);
    const step_data *s = b->host_step;
    if (s->token_count != graph->token_count || s->sequence_count != graph->sequence_count
        || s->logit_row_count != graph->logit_row_count)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: the graph was captured for a step of %d tokens, %d sequences "
            "and %d logit rows, but this step has %d, %d and %d", op, graph->token_count, graph->sequence_count,
            graph->logit_row_count, s->token_count, s->sequence_count, s->logit_row_count);
    command *first = NULL, *last = NULL;
    int32_t index = 0;
    for (const command *c = graph->head; c; c = c->next, index++) {
        rs_status status = check_replayed(b, c, s);
        if (status != RS_OK) {
            char reason[ERROR_CAPACITY];
            memcpy(reason, b->error, ERROR_CAPACITY);
            fail(b, status, "%s: recorded op %d: %s", op, index, reason);
        }
        command *copy = status == RS_OK ? command_clone(c) : NULL;
        if (status == RS_OK && !copy)
            status = fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory to queue the graph's ops", op);
        if (status != RS_OK) {
            for (command *next; first; first = next) {
                next = first->next;
                command_free(first);
            }
            return status;
        }
        if (last) last->next = copy;
        else first = copy;
        last = copy;
    }
    if (first) submit_list(b, first, last);
    return RS_OK;
}

/* Freed at once: queued replays run copies that own their memory. A real device:
 * cudaGraphExecDestroy (which may be called while launches are in flight). */
static void plugin_release_graph(rs_backend *b, rs_graph *graph) {
    (void)b;
    if (graph) graph_free(graph);
}

/* ==== The entry point ======================================================================== */

static const rs_plugin_api plugin_api = {
    .abi_major = RS_ABI_VERSION_MAJOR,
    .abi_minor = RS_ABI_VERSION_MINOR,
    .struct_size = sizeof(rs_plugin_api),
    .name = "reference-c",
    .init = plugin_init,
    .last_error = plugin_last_error,
    .get_capabilities = plugin_get_capabilities,
    .memory_info = plugin_memory_info,
    .create_backend = plugin_create_backend,
    .destroy_backend = plugin_destroy_backend,
    .allocate = plugin_allocate,
    .release_buffer = plugin_release_buffer,
    .host_address = NULL, /* device memory is never host-visible */
    .upload = plugin_upload,
    .download = plugin_download,
    .prepare_matmul_weight = plugin_prepare_matmul_weight,
    .kv_cache_bytes_per_page = plugin_kv_cache_bytes_per_page,
    .create_kv_cache = plugin_create_kv_cache,
    .release_kv_cache = plugin_release_kv_cache,
    .begin_step = plugin_begin_step,
    .end_step = plugin_end_step,
    .embedding = plugin_embedding,
    .matmul = plugin_matmul,
    .rms_norm = plugin_rms_norm,
    .rope_table = plugin_rope_table,
    .rope = plugin_rope,
    .store_kv = plugin_store_kv,
    .attention = plugin_attention,
    .silu_mul = plugin_silu_mul,
    .add = plugin_add,
    .gather_rows = plugin_gather_rows,
    .synchronize = plugin_synchronize,
    .argmax = plugin_argmax,
    .top_k = plugin_top_k,
    .communicator_id = plugin_communicator_id,
    .create_communicator = plugin_create_communicator,
    .release_communicator = plugin_release_communicator,
    .all_reduce_sum = plugin_all_reduce_sum,
    .all_gather = plugin_all_gather,
    .capture_begin = plugin_capture_begin,
    .capture_end = plugin_capture_end,
    .replay = plugin_replay,
    .release_graph = plugin_release_graph,
    .rms_norm_matmul = plugin_rms_norm_matmul,
};

RS_EXPORT const rs_plugin_api *radixserve_backend_plugin(void) { return &plugin_api; }
