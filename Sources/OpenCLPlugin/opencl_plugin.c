/*
 * opencl_plugin.c: the OpenCL RadixServe accelerator plugin, "opencl".
 *
 * include/radixserve/backend.h on OpenCL 1.2 or later (tested on PoCL's CPU device):
 *   - One platform, device and context per process, chosen by init (RADIXSERVE_OPENCL_DEVICE: "P:D"
 *     indices or a case-insensitive substring of the device or platform name or vendor; default: the first
 *     GPU, else the first device).
 *   - One program per process, built at the first create_backend from kernels.cl (embedded as
 *     kernels.c), its binary cached on disk ($XDG_CACHE_HOME or ~/.cache, radixserve/opencl/
 *     <hash of source, device and driver>.bin; RADIXSERVE_OPENCL_CACHE=0 turns the cache off).
 *   - One in-order command queue and one set of kernel objects per rs_backend. Ops check their
 *     arguments on the calling thread, enqueue a kernel and return; download, argmax and top_k are
 *     blocking reads behind the queue, synchronize is clFinish. A release is clReleaseMemObject,
 *     which OpenCL defers until the commands queued on the object have finished.
 *   - begin_step uploads the step's arrays into one int buffer per backend, which the ops' kernels
 *     read (their offsets are kernel arguments).
 *   - RADIXSERVE_OPENCL_PROFILE=1 times every kernel (queue profiling) and prints the totals per
 *     kernel when the backend is destroyed.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif

#include "radixserve/backend.h"
#include "radixserve/backend_checks.h"
#include "include/opencl_plugin.h"

#if defined(__APPLE__)
#include <OpenCL/opencl.h>
#else
#include <CL/cl.h>
#endif

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#define DEVICE_ENV "RADIXSERVE_OPENCL_DEVICE"
#define PROFILE_ENV "RADIXSERVE_OPENCL_PROFILE"
#define CACHE_ENV "RADIXSERVE_OPENCL_CACHE"
#define MATMUL_ENV "RADIXSERVE_OPENCL_MATMUL" /* "rows" or "tiled": force one matmul path (tests) */
#define ERROR_CAPACITY 4096
#define MAX_TOP_K 64 /* TOPK_MAX in kernels.cl */
#define ANY RS_CHECK_ANY

/* Work-group shapes fixed by the kernels' reqd_work_group_size (kernels.cl). */
#define MM_WG 64
#define MM_ROWS 4
#define TILED_WG 16
#define TILED_TILE 64
#define NORM_WG 128
#define ATT_SPLIT 256
#define ATT_WG 64
#define PRE_QT 4
#define PRE_DMAX (4 * ATT_WG)
#define ARGMAX_WG 256
#define TOPK_WG 32
/* Rows at or below which matmul takes the decode path (both paths give the same bits). */
#define MATMUL_DECODE_ROWS 8
/* Most bytes of attention partial results held at once (prefill rows are launched in chunks). */
#define ATTENTION_SCRATCH_BYTES ((uint64_t)64 << 20)

#define F32_ONLY (1u << RS_DTYPE_F32)
#define ALL_DTYPES ((1u << RS_DTYPE_F32) | (1u << RS_DTYPE_F16) | (1u << RS_DTYPE_BF16))

extern const char radixserve_opencl_kernel_source[]; /* kernels.c */

/* ==== Kernels ================================================================================ */

/* Kernels with a dtype suffix come in the order f32, f16, bf16 (= rs_dtype), so that the kernel of
 * dtype d is `base + d`. */
typedef enum kernel_id {
    K_EMBEDDING, K_EMBEDDING_F16, K_EMBEDDING_BF16,
    K_MATMUL_ROWS, K_MATMUL_ROWS_F16, K_MATMUL_ROWS_BF16,
    K_MATMUL_TILED, K_MATMUL_TILED_F16, K_MATMUL_TILED_BF16,
    K_TRANSPOSE_U32, K_TRANSPOSE_U16,
    K_RMS_NORM, K_RMS_NORM_F16, K_RMS_NORM_BF16,
    K_ROPE_TABLE, K_ROPE,
    K_STORE_KV, K_STORE_KV_F16, K_STORE_KV_BF16,
    K_ATTENTION_PARTIAL, K_ATTENTION_PARTIAL_F16, K_ATTENTION_PARTIAL_BF16,
    K_ATTENTION_COMBINE,
    K_ATTENTION_PREFILL, K_ATTENTION_PREFILL_F16, K_ATTENTION_PREFILL_BF16,
    K_SILU_MUL, K_ADD, K_GATHER_ROWS, K_ARGMAX, K_TOP_K,
    K_COUNT
} kernel_id;

static const char *const kernel_names[K_COUNT] = {
    "embedding_f32", "embedding_f16", "embedding_bf16",
    "matmul_rows_f32", "matmul_rows_f16", "matmul_rows_bf16",
    "matmul_tiled_f32", "matmul_tiled_f16", "matmul_tiled_bf16",
    "transpose_u32", "transpose_u16",
    "rms_norm_f32", "rms_norm_f16", "rms_norm_bf16",
    "rope_table", "rope",
    "store_kv_f32", "store_kv_f16", "store_kv_bf16",
    "attention_partial_f32", "attention_partial_f16", "attention_partial_bf16",
    "attention_combine",
    "attention_prefill_f32", "attention_prefill_f16", "attention_prefill_bf16",
    "silu_mul", "add", "gather_rows", "argmax", "top_k",
};

/* ==== Global state: one device, context and program per process ============================== */

static struct {
    pthread_mutex_t lock;
    int initialized;     /* init succeeded (under lock) */
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_program program;  /* built at the first create_backend (under lock) */
    cl_device_type type;
    cl_uint compute_units;
    cl_ulong global_memory, max_allocation, local_memory;
    size_t max_work_group;
    char platform_name[256], platform_version[256], device_name[256], device_version[256], driver_version[256];
    _Atomic uint64_t allocated; /* bytes of live buffers, caches and scratch */
} g = { .lock = PTHREAD_MUTEX_INITIALIZER };

static _Thread_local char thread_error[ERROR_CAPACITY];

/* ==== Handles ================================================================================ */

struct rs_buffer {
    cl_mem mem;
    uint64_t size;
    rs_buffer_usage usage;
    /* A prepare_matmul_weight copy: weight [rows, columns] stored transposed ([columns, rows]). */
    int prepared;
    int32_t prepared_rows, prepared_columns;
    rs_dtype prepared_dtype;
};

/* Per layer: keys[page][kv_head][offset][head_dim] and values alike, in spec.dtype, one buffer each
 * (so that no allocation exceeds CL_DEVICE_MAX_MEM_ALLOC_SIZE for a whole cache). */
struct rs_kv_cache {
    rs_kv_cache_spec spec;
    int64_t slot_count;
    uint64_t layer_bytes; /* of keys (or values) of one layer */
    cl_mem *keys, *values;
};

/* A private copy of one step's inputs (the reference plugin's), plus row_sequence: the sequence
 * of each attention row. query_starts and page_table_starts hold sequence_count + 1 entries. */
typedef struct step_data {
    int32_t token_count, sequence_count, logit_row_count, row_count, longest_context;
    int32_t *token_ids, *positions, *slot_mapping;
    int32_t *query_starts, *context_lengths, *page_table_starts, *page_ids;
    int32_t *logit_rows, *row_sequence;
    /* Only in steps with a sequence of two or more rows (prefill): the rows of one-row sequences
     * (decode_row_count), then tile_count tiles of PRE_QT consecutive rows of one sequence each,
     * padded with -1, for attention_prefill. */
    int32_t *attention_rows, decode_row_count, tile_count;
    size_t total; /* int32 entries of all arrays, contiguous from token_ids */
} step_data;

/* A device buffer that grows (scratch, step arrays, results). */
typedef struct growable {
    cl_mem mem;
    uint64_t capacity;
} growable;

/* Profiled commands: a kernel, or host↔device copies (TIMED_WRITE, TIMED_READ). */
enum { TIMED_WRITE = K_COUNT, TIMED_READ, TIMED_COUNT };

typedef struct timed_event {
    cl_event event;
    int command; /* a kernel_id, TIMED_WRITE or TIMED_READ */
} timed_event;

struct rs_backend {
    cl_command_queue queue;
    cl_kernel kernels[K_COUNT];
    step_data *step;         /* the latest begin_step's inputs, to check ops against */
    int32_t off_tokens, off_positions, off_slots, off_query_starts, off_contexts, off_page_starts, off_page_ids,
        off_logit_rows, off_row_sequence, off_attention_rows; /* of the arrays in step_buffer (int32 entries) */
    growable step_buffer, frequencies, attention_scratch, result_ids, result_values;
    int matmul_path; /* 0: by rows; 1: always rows; 2: always tiled */
    /* Failures of work after its call returned (upload callbacks), reported once. */
    pthread_mutex_t failure_lock;
    _Atomic int pending_callbacks; /* staged uploads whose completion callback has not run */
    rs_status failure;
    char failure_message[ERROR_CAPACITY];
    /* Profiling (PROFILE_ENV): events not yet read, and totals per kernel. */
    int profile;
    timed_event *events;
    size_t event_count, event_capacity;
    double kernel_ns[TIMED_COUNT];
    uint64_t kernel_calls[TIMED_COUNT];
    /* Host↔device traffic, counted always and printed with the profile: steps begun, bytes of
     * step inputs written, bytes of other writes (weights at load, staged activations), bytes read. */
    uint64_t steps, step_bytes_written, other_bytes_written, bytes_read;
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

#define BEGIN_OP(name) \
    const char *op = (name); \
    if (!b) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "%s: backend is NULL", op)

static const char *cl_error_name(cl_int e) {
    switch (e) {
#define CASE(x) case x: return #x;
    CASE(CL_SUCCESS) CASE(CL_DEVICE_NOT_FOUND) CASE(CL_DEVICE_NOT_AVAILABLE) CASE(CL_COMPILER_NOT_AVAILABLE)
    CASE(CL_MEM_OBJECT_ALLOCATION_FAILURE) CASE(CL_OUT_OF_RESOURCES) CASE(CL_OUT_OF_HOST_MEMORY)
    CASE(CL_PROFILING_INFO_NOT_AVAILABLE) CASE(CL_MEM_COPY_OVERLAP) CASE(CL_IMAGE_FORMAT_MISMATCH)
    CASE(CL_IMAGE_FORMAT_NOT_SUPPORTED) CASE(CL_BUILD_PROGRAM_FAILURE) CASE(CL_MAP_FAILURE)
    CASE(CL_MISALIGNED_SUB_BUFFER_OFFSET) CASE(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    CASE(CL_COMPILE_PROGRAM_FAILURE) CASE(CL_LINKER_NOT_AVAILABLE) CASE(CL_LINK_PROGRAM_FAILURE)
    CASE(CL_DEVICE_PARTITION_FAILED) CASE(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    CASE(CL_INVALID_VALUE) CASE(CL_INVALID_DEVICE_TYPE) CASE(CL_INVALID_PLATFORM) CASE(CL_INVALID_DEVICE)
    CASE(CL_INVALID_CONTEXT) CASE(CL_INVALID_QUEUE_PROPERTIES) CASE(CL_INVALID_COMMAND_QUEUE)
    CASE(CL_INVALID_HOST_PTR) CASE(CL_INVALID_MEM_OBJECT) CASE(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    CASE(CL_INVALID_IMAGE_SIZE) CASE(CL_INVALID_SAMPLER) CASE(CL_INVALID_BINARY) CASE(CL_INVALID_BUILD_OPTIONS)
    CASE(CL_INVALID_PROGRAM) CASE(CL_INVALID_PROGRAM_EXECUTABLE) CASE(CL_INVALID_KERNEL_NAME)
    CASE(CL_INVALID_KERNEL_DEFINITION) CASE(CL_INVALID_KERNEL) CASE(CL_INVALID_ARG_INDEX)
    CASE(CL_INVALID_ARG_VALUE) CASE(CL_INVALID_ARG_SIZE) CASE(CL_INVALID_KERNEL_ARGS)
    CASE(CL_INVALID_WORK_DIMENSION) CASE(CL_INVALID_WORK_GROUP_SIZE) CASE(CL_INVALID_WORK_ITEM_SIZE)
    CASE(CL_INVALID_GLOBAL_OFFSET) CASE(CL_INVALID_EVENT_WAIT_LIST) CASE(CL_INVALID_EVENT)
    CASE(CL_INVALID_OPERATION) CASE(CL_INVALID_GL_OBJECT) CASE(CL_INVALID_BUFFER_SIZE)
    CASE(CL_INVALID_MIP_LEVEL) CASE(CL_INVALID_GLOBAL_WORK_SIZE) CASE(CL_INVALID_PROPERTY)
    CASE(CL_INVALID_IMAGE_DESCRIPTOR) CASE(CL_INVALID_COMPILER_OPTIONS) CASE(CL_INVALID_LINKER_OPTIONS)
    CASE(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef CASE
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "unknown OpenCL error";
    }
}

/* RS_ERROR_OUT_OF_MEMORY for the allocation failures, RS_ERROR_DEVICE for the rest. */
static rs_status cl_status(cl_int e) {
    return e == CL_MEM_OBJECT_ALLOCATION_FAILURE || e == CL_OUT_OF_RESOURCES || e == CL_OUT_OF_HOST_MEMORY
            || e == CL_INVALID_BUFFER_SIZE
        ? RS_ERROR_OUT_OF_MEMORY
        : RS_ERROR_DEVICE;
}

static rs_status cl_fail(rs_backend *b, cl_int e, const char *call, const char *what) {
    return fail(b, cl_status(e), "%s(%s) failed: %s (%d)", call, what, cl_error_name(e), (int)e);
}

/* A failure of work that ran after its call returned, kept for the next synchronizing call. */
static void record_failure(rs_backend *b, rs_status status, const char *message) {
    pthread_mutex_lock(&b->failure_lock);
    if (b->failure == RS_OK) {
        b->failure = status;
        snprintf(b->failure_message, ERROR_CAPACITY, "%s", message);
    }
    pthread_mutex_unlock(&b->failure_lock);
}

static rs_status take_failure(rs_backend *b) {
    pthread_mutex_lock(&b->failure_lock);
    rs_status status = b->failure;
    if (status != RS_OK) {
        memcpy(b->error, b->failure_message, ERROR_CAPACITY);
        b->failure = RS_OK;
    }
    pthread_mutex_unlock(&b->failure_lock);
    return status;
}

/* ==== Numbers ================================================================================ */

/* rs_dtype_size and rs_dtype_name: radixserve/backend_checks.h. */

static uint64_t element_offset(const rs_tensor *t) { return t->byte_offset / rs_dtype_size(t->dtype); }

/* ==== Device memory ========================================================================== */

static rs_status reserve_memory(rs_backend *b, const char *op, uint64_t bytes) {
    uint64_t used = atomic_load(&g.allocated), total = g.global_memory;
    do {
        uint64_t free_bytes = used < total ? total - used : 0;
        if (bytes > free_bytes)
            return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: %" PRIu64 " bytes requested, but only %" PRIu64 " of the "
                "device's %" PRIu64 " bytes are free", op, bytes, free_bytes, total);
    } while (!atomic_compare_exchange_weak(&g.allocated, &used, used + bytes));
    return RS_OK;
}

static void unreserve_memory(uint64_t bytes) { atomic_fetch_sub(&g.allocated, bytes); }

/* A device buffer of `bytes` (at least 4), zeroed when `zero` (queued on b's queue), counted. */
static rs_status device_alloc(rs_backend *b, const char *op, uint64_t bytes, int zero, cl_mem *out) {
    if (bytes > g.max_allocation)
        return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: %" PRIu64 " bytes in one buffer exceed the device's largest "
            "allocation (CL_DEVICE_MAX_MEM_ALLOC_SIZE = %" PRIu64 " bytes)", op, bytes, (uint64_t)g.max_allocation);
    TRY(reserve_memory(b, op, bytes));
    size_t size = bytes < 4 ? 4 : (size_t)bytes;
    cl_int e;
    cl_mem mem = clCreateBuffer(g.context, CL_MEM_READ_WRITE, size, NULL, &e);
    if (!mem) {
        unreserve_memory(bytes);
        char what[64];
        snprintf(what, sizeof what, "%zu bytes", size);
        return cl_fail(b, e, "clCreateBuffer", what);
    }
    if (zero) {
        cl_uchar pattern = 0;
        e = clEnqueueFillBuffer(b->queue, mem, &pattern, 1, 0, size, 0, NULL, NULL);
        if (e != CL_SUCCESS) {
            clReleaseMemObject(mem);
            unreserve_memory(bytes);
            return cl_fail(b, e, "clEnqueueFillBuffer", op);
        }
    }
    *out = mem;
    return RS_OK;
}

/* clReleaseMemObject: the memory goes once the commands queued on it have finished. */
static void device_free(cl_mem mem, uint64_t bytes) {
    if (mem) clReleaseMemObject(mem);
    unreserve_memory(bytes);
}

/* At least `bytes` in `buffer` (contents not kept). */
static rs_status grow(rs_backend *b, const char *op, growable *buffer, uint64_t bytes) {
    if (buffer->mem && buffer->capacity >= bytes) return RS_OK;
    uint64_t capacity = buffer->capacity * 2 > bytes ? buffer->capacity * 2 : bytes;
    if (capacity < 256) capacity = 256;
    if (capacity > g.max_allocation && bytes <= g.max_allocation) capacity = bytes;
    cl_mem mem;
    TRY(device_alloc(b, op, capacity, 0, &mem));
    device_free(buffer->mem, buffer->mem ? buffer->capacity : 0);
    buffer->mem = mem;
    buffer->capacity = capacity;
    return RS_OK;
}

static void growable_free(growable *buffer) {
    if (buffer->mem) device_free(buffer->mem, buffer->capacity);
    buffer->mem = NULL;
    buffer->capacity = 0;
}

/* Staged copies of uploads, freed by the event callback once the write has run. */
typedef struct staged {
    rs_backend *backend;
    void *bytes;
} staged;

static void CL_CALLBACK staged_done(cl_event event, cl_int status, void *user) {
    staged *s = user;
    if (status < 0) {
        char message[256];
        snprintf(message, sizeof message, "clEnqueueWriteBuffer (an upload queued earlier) failed: %s (%d)",
            cl_error_name(status), (int)status);
        record_failure(s->backend, cl_status(status), message);
    }
    rs_backend *b = s->backend;
    free(s->bytes);
    free(s);
    atomic_fetch_sub(&b->pending_callbacks, 1); /* last: destroy_backend may free b after it */
    (void)event;
}

static void track(rs_backend *b, cl_event event, int command);

/* Queues a write of host bytes that the caller may reuse at once: small writes are copied and
 * written without blocking (the copy is freed when the write completes), large ones block. */
static rs_status enqueue_write(rs_backend *b, const char *op, cl_mem mem, uint64_t offset, const void *source,
    uint64_t bytes) {
    if (bytes == 0) return RS_OK;
    if (strcmp(op, "begin_step") == 0) {
        b->steps += 1;
        b->step_bytes_written += bytes;
    } else {
        b->other_bytes_written += bytes;
    }
    cl_int e;
    if (bytes <= ((uint64_t)16 << 20)) {
        staged *s = malloc(sizeof *s);
        void *copy = malloc((size_t)bytes);
        if (s && copy) {
            memcpy(copy, source, (size_t)bytes);
            *s = (staged){ b, copy };
            cl_event event;
            e = clEnqueueWriteBuffer(b->queue, mem, CL_FALSE, (size_t)offset, (size_t)bytes, copy, 0, NULL, &event);
            if (e != CL_SUCCESS) {
                free(copy);
                free(s);
                return cl_fail(b, e, "clEnqueueWriteBuffer", op);
            }
            if (b->profile && clRetainEvent(event) == CL_SUCCESS) track(b, event, TIMED_WRITE);
            atomic_fetch_add(&b->pending_callbacks, 1);
            e = clSetEventCallback(event, CL_COMPLETE, staged_done, s);
            if (e != CL_SUCCESS) { /* cannot free it later: wait, then free it now */
                atomic_fetch_sub(&b->pending_callbacks, 1);
                clWaitForEvents(1, &event);
                free(copy);
                free(s);
            }
            clReleaseEvent(event);
            return RS_OK;
        }
        free(s);
        free(copy);
    }
    cl_event timed = NULL;
    e = clEnqueueWriteBuffer(b->queue, mem, CL_TRUE, (size_t)offset, (size_t)bytes, source, 0, NULL,
        b->profile ? &timed : NULL);
    if (timed) track(b, timed, TIMED_WRITE);
    return e == CL_SUCCESS ? RS_OK : cl_fail(b, e, "clEnqueueWriteBuffer", op);
}

/* ==== Kernel launches ======================================================================== */

typedef struct karg {
    size_t size;
    const void *value; /* NULL: a __local argument of `size` bytes */
} karg;

#define KI(v) ((karg){ sizeof(cl_int), &(cl_int){ (cl_int)(v) } })
#define KU(v) ((karg){ sizeof(cl_ulong), &(cl_ulong){ (cl_ulong)(v) } })
#define KF(v) ((karg){ sizeof(cl_float), &(cl_float){ (cl_float)(v) } })
#define KM(m) ((karg){ sizeof(cl_mem), &(cl_mem){ (m) } })
#define KLOCAL(bytes) ((karg){ (bytes), NULL })
/* A tensor operand: buffer, element offset, row stride. */
#define KT(t) KM((t)->buffer->mem), KU(element_offset(t)), KI((t)->row_stride)

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

static void harvest_events(rs_backend *b);

/* Keeps a profiled command's event until harvest_events reads its times (takes the reference). */
static void track(rs_backend *b, cl_event event, int command) {
    if (b->event_count == b->event_capacity) {
        if (b->event_count >= 16384) {
            clFinish(b->queue);
            harvest_events(b);
        }
        if (b->event_count == b->event_capacity) {
            size_t capacity = b->event_capacity ? b->event_capacity * 2 : 256;
            timed_event *grown = realloc(b->events, capacity * sizeof *grown);
            if (!grown) {
                clReleaseEvent(event); /* not timed */
                return;
            }
            b->events = grown;
            b->event_capacity = capacity;
        }
    }
    b->events[b->event_count++] = (timed_event){ event, command };
}

/* Sets the arguments of kernel `id` and enqueues it; `local` NULL lets the driver choose. A
 * launch with no work-items is skipped. */
static rs_status launch(rs_backend *b, kernel_id id, cl_uint dims, const size_t *global, const size_t *local,
    const karg *args, size_t count) {
    for (cl_uint d = 0; d < dims; d++)
        if (global[d] == 0) return RS_OK;
    cl_kernel k = b->kernels[id];
    for (size_t i = 0; i < count; i++) {
        cl_int e = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value);
        if (e != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "%s, argument %zu", kernel_names[id], i);
            return cl_fail(b, e, "clSetKernelArg", what);
        }
    }
    cl_event event = NULL;
    cl_int e = clEnqueueNDRangeKernel(b->queue, k, dims, NULL, global, local, 0, NULL, b->profile ? &event : NULL);
    if (e != CL_SUCCESS) {
        char what[160];
        snprintf(what, sizeof what, "%s, global %zu×%zu×%zu", kernel_names[id], global[0], dims > 1 ? global[1] : 1,
            dims > 2 ? global[2] : 1);
        return cl_fail(b, e, "clEnqueueNDRangeKernel", what);
    }
    if (event) track(b, event, id);
    return RS_OK;
}

#define LAUNCH(b, id, dims, global, local, ...) \
    launch((b), (id), (dims), (global), (local), (karg[]){ __VA_ARGS__ }, \
        sizeof((karg[]){ __VA_ARGS__ }) / sizeof(karg))

/* Adds the times of finished kernels (every recorded one, after clFinish) to the totals. */
static void harvest_events(rs_backend *b) {
    for (size_t i = 0; i < b->event_count; i++) {
        cl_ulong start = 0, end = 0;
        if (clGetEventProfilingInfo(b->events[i].event, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL)
                == CL_SUCCESS
            && clGetEventProfilingInfo(b->events[i].event, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL)
                == CL_SUCCESS
            && end >= start) {
            b->kernel_ns[b->events[i].command] += (double)(end - start);
            b->kernel_calls[b->events[i].command]++;
        }
        clReleaseEvent(b->events[i].event);
    }
    b->event_count = 0;
}

/* Waits for the queue; returns its failure or one recorded earlier. */
static rs_status finish(rs_backend *b, const char *op) {
    cl_int e = clFinish(b->queue);
    if (b->profile) harvest_events(b);
    rs_status earlier = take_failure(b);
    if (earlier != RS_OK) return earlier;
    return e == CL_SUCCESS ? RS_OK : cl_fail(b, e, "clFinish", op);
}

/* ==== Step inputs ============================================================================ */

/* What begin_step can check alone (rs_check_step_inputs). */
static rs_status check_step(rs_backend *b, const rs_step_inputs *in) {
    return rs_check_step_inputs("begin_step", in, error_slot(b), ERROR_CAPACITY);
}

/* A private copy of checked inputs (of an empty step when `in` is NULL), with row_sequence. */
static step_data *step_copy(const rs_step_inputs *in) {
    rs_step_inputs none = { 0 };
    if (!in) in = &none;
    int32_t n = in->sequence_count;
    int32_t rows = n > 0 ? in->query_starts[n] : 0;
    int32_t decode_rows = 0, tiles = 0;
    for (int32_t q = 0; q < n; q++) {
        int32_t queries = in->query_starts[q + 1] - in->query_starts[q];
        if (queries == 1) decode_rows++;
        else tiles += (queries + PRE_QT - 1) / PRE_QT;
    }
    if (tiles == 0) decode_rows = 0;
    size_t count = rs_step_copy_entries(in) + (size_t)rows + (size_t)decode_rows + (size_t)tiles * PRE_QT;
    step_data *s = malloc(sizeof *s + (count + 1) * sizeof(int32_t));
    if (!s) return NULL;
    s->token_count = in->token_count;
    s->sequence_count = n;
    s->logit_row_count = in->logit_row_count;
    s->row_count = rows;
    s->row_sequence = rs_step_copy_arrays(in, (int32_t *)(s + 1), &s->token_ids, &s->positions, &s->slot_mapping,
        &s->query_starts, &s->context_lengths, &s->page_table_starts, &s->page_ids, &s->logit_rows);
    int32_t *next = s->row_sequence + rows;
    s->attention_rows = next;
    s->decode_row_count = decode_rows;
    s->tile_count = tiles;
    int32_t *tile = next + decode_rows;
    s->longest_context = 0;
    for (int32_t q = 0; q < n; q++) {
        int32_t first = s->query_starts[q], end = s->query_starts[q + 1];
        for (int32_t r = first; r < end; r++) s->row_sequence[r] = q;
        if (end > first && s->context_lengths[q] > s->longest_context) s->longest_context = s->context_lengths[q];
        if (tiles == 0) continue;
        if (end - first == 1) {
            *next++ = first;
            continue;
        }
        for (int32_t r = first; r < end; r += PRE_QT)
            for (int32_t j = 0; j < PRE_QT; j++) *tile++ = r + j < end ? r + j : -1;
    }
    s->total = count;
    return s;
}

/* ==== Argument checks ======================================================================== */

/* The checks of radixserve/backend_checks.h, given what they need of this plugin's handles and
 * writing their messages where fail() does. */

/* A prepare_matmul_weight buffer (transposed) is refused everywhere but as matmul's weight, which
 * plugin_matmul checks itself. */
static rs_status check_tensor(rs_backend *b, const char *op, const char *name, const rs_tensor *t, uint32_t dtypes,
    int64_t rows, int64_t columns) {
    const rs_buffer *buffer = t ? t->buffer : NULL;
    return rs_check_tensor(op, name, t, buffer ? buffer->size : 0, buffer && buffer->prepared, dtypes, rows, columns,
        error_slot(b), ERROR_CAPACITY);
}

static rs_status check_cache(rs_backend *b, const char *op, const rs_kv_cache *cache, int32_t layer) {
    int32_t layers = cache ? cache->spec.layer_count : 0;
    return rs_check_cache_layer(op, cache, layers, layer, error_slot(b), ERROR_CAPACITY);
}

#define KV_DTYPES ALL_DTYPES

static rs_status check_spec(rs_backend *b, const char *op, const rs_kv_cache_spec *spec, int need_pages) {
    return rs_check_kv_cache_spec(op, spec, need_pages, KV_DTYPES, error_slot(b), ERROR_CAPACITY);
}

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

/* ==== Plugin level =========================================================================== */

static int contains_ignoring_case(const char *haystack, const char *needle) {
    size_t n = strlen(needle);
    for (const char *h = haystack; *h; h++) {
        size_t i = 0;
        while (i < n && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return n == 0;
}

static void device_string(cl_device_id d, cl_device_info what, char *out, size_t size) {
    out[0] = '\0';
    if (clGetDeviceInfo(d, what, size, out, NULL) != CL_SUCCESS) snprintf(out, size, "?");
    out[size - 1] = '\0';
}

static void platform_string(cl_platform_id p, cl_platform_info what, char *out, size_t size) {
    out[0] = '\0';
    if (clGetPlatformInfo(p, what, size, out, NULL) != CL_SUCCESS) snprintf(out, size, "?");
    out[size - 1] = '\0';
}

static const char *device_type_name(cl_device_type t) {
    return (t & CL_DEVICE_TYPE_GPU) ? "gpu" : (t & CL_DEVICE_TYPE_CPU) ? "cpu"
        : (t & CL_DEVICE_TYPE_ACCELERATOR) ? "accelerator" : "other";
}

#define NO_PLATFORM_HINT "install an OpenCL driver (ICD): on Debian/Ubuntu `apt-get install ocl-icd-libopencl1 " \
    "pocl-opencl-icd` for a CPU device, or the GPU vendor's ICD (e.g. nvidia-opencl-icd, mesa-opencl-icd, " \
    "intel-opencl-icd) with ocl-icd-libopencl1"

/* Finds the platforms and devices, picks one (DEVICE_ENV), makes the context and prints it once. */
static rs_status init_locked(void) {
    cl_uint platform_count = 0;
    cl_int e = clGetPlatformIDs(0, NULL, &platform_count);
    if (e == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (e == CL_SUCCESS && platform_count == 0))
        return fail(NULL, RS_ERROR_DEVICE, "init: no OpenCL platform found; " NO_PLATFORM_HINT);
    if (e != CL_SUCCESS)
        return fail(NULL, RS_ERROR_DEVICE, "init: clGetPlatformIDs failed: %s (%d); " NO_PLATFORM_HINT,
            cl_error_name(e), (int)e);
    cl_platform_id platforms[16];
    if (platform_count > 16) platform_count = 16;
    clGetPlatformIDs(platform_count, platforms, NULL);

    const char *wanted = getenv(DEVICE_ENV);
    if (wanted && !*wanted) wanted = NULL;
    int want_p = -1, want_d = -1;
    if (wanted) {
        char tail;
        if (sscanf(wanted, "%d:%d%c", &want_p, &want_d, &tail) != 2) want_p = want_d = -1;
    }
    cl_platform_id chosen_platform = NULL;
    cl_device_id chosen = NULL;
    int chosen_rank = 99; /* without DEVICE_ENV: GPU 0, accelerator 1, other 2 */
    char listing[1024] = "";
    size_t listed = 0;
    for (cl_uint p = 0; p < platform_count; p++) {
        cl_device_id devices[16];
        cl_uint device_count = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 16, devices, &device_count) != CL_SUCCESS) continue;
        if (device_count > 16) device_count = 16;
        char pname[256], pvendor[256];
        platform_string(platforms[p], CL_PLATFORM_NAME, pname, sizeof pname);
        platform_string(platforms[p], CL_PLATFORM_VENDOR, pvendor, sizeof pvendor);
        for (cl_uint d = 0; d < device_count; d++) {
            char dname[256], dvendor[256];
            cl_device_type type = 0;
            device_string(devices[d], CL_DEVICE_NAME, dname, sizeof dname);
            device_string(devices[d], CL_DEVICE_VENDOR, dvendor, sizeof dvendor);
            clGetDeviceInfo(devices[d], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            if (listed < sizeof listing)
                listed += (size_t)snprintf(listing + listed, sizeof listing - listed, "%s%u:%u %s (%s, %s by %s)",
                    listed ? "; " : "", p, d, dname, device_type_name(type), pname, pvendor);
            if (wanted) {
                int match = want_p >= 0 ? (want_p == (int)p && want_d == (int)d)
                                        : (contains_ignoring_case(dname, wanted) || contains_ignoring_case(pname, wanted)
                                              || contains_ignoring_case(dvendor, wanted)
                                              || contains_ignoring_case(pvendor, wanted));
                if (match && !chosen) {
                    chosen = devices[d];
                    chosen_platform = platforms[p];
                }
            } else {
                int rank = (type & CL_DEVICE_TYPE_GPU) ? 0 : (type & CL_DEVICE_TYPE_ACCELERATOR) ? 1 : 2;
                if (rank < chosen_rank) {
                    chosen_rank = rank;
                    chosen = devices[d];
                    chosen_platform = platforms[p];
                }
            }
        }
    }
    if (!chosen && wanted)
        return fail(NULL, RS_ERROR_DEVICE, "init: " DEVICE_ENV " is \"%s\", which names no device (\"P:D\" indices "
            "or part of a device or platform name or vendor); the devices: %s", wanted, listed ? listing : "none");
    if (!chosen) return fail(NULL, RS_ERROR_DEVICE, "init: the OpenCL platforms have no devices; " NO_PLATFORM_HINT);

    g.platform = chosen_platform;
    g.device = chosen;
    platform_string(chosen_platform, CL_PLATFORM_NAME, g.platform_name, sizeof g.platform_name);
    platform_string(chosen_platform, CL_PLATFORM_VERSION, g.platform_version, sizeof g.platform_version);
    device_string(chosen, CL_DEVICE_NAME, g.device_name, sizeof g.device_name);
    device_string(chosen, CL_DEVICE_VERSION, g.device_version, sizeof g.device_version);
    device_string(chosen, CL_DRIVER_VERSION, g.driver_version, sizeof g.driver_version);
    clGetDeviceInfo(chosen, CL_DEVICE_TYPE, sizeof g.type, &g.type, NULL);
    clGetDeviceInfo(chosen, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof g.compute_units, &g.compute_units, NULL);
    clGetDeviceInfo(chosen, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof g.global_memory, &g.global_memory, NULL);
    clGetDeviceInfo(chosen, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof g.max_allocation, &g.max_allocation, NULL);
    clGetDeviceInfo(chosen, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof g.max_work_group, &g.max_work_group, NULL);
    clGetDeviceInfo(chosen, CL_DEVICE_LOCAL_MEM_SIZE, sizeof g.local_memory, &g.local_memory, NULL);
    int major = 0, minor = 0;
    if (sscanf(g.device_version, "OpenCL %d.%d", &major, &minor) != 2 || major * 10 + minor < 12)
        return fail(NULL, RS_ERROR_UNSUPPORTED, "init: device %s reports \"%s\"; this plugin needs OpenCL 1.2 or "
            "later", g.device_name, g.device_version);

    cl_context_properties properties[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)chosen_platform, 0 };
    g.context = clCreateContext(properties, 1, &chosen, NULL, NULL, &e);
    if (!g.context)
        return fail(NULL, cl_status(e), "init: clCreateContext(%s) failed: %s (%d)", g.device_name, cl_error_name(e),
            (int)e);
    fprintf(stderr, "radixserve opencl: platform %s (%s), device %s (%s, %s, driver %s), %u compute units, "
        "%" PRIu64 " MiB global memory (largest allocation %" PRIu64 " MiB)\n", g.platform_name, g.platform_version,
        g.device_name, device_type_name(g.type), g.device_version, g.driver_version, g.compute_units,
        (uint64_t)g.global_memory >> 20, (uint64_t)g.max_allocation >> 20);
    g.initialized = 1;
    return RS_OK;
}

static rs_status plugin_init(void) {
    pthread_mutex_lock(&g.lock);
    rs_status status = g.initialized ? RS_OK : init_locked();
    pthread_mutex_unlock(&g.lock);
    return status;
}

static const char *plugin_last_error(rs_backend *b) { return b ? b->error : thread_error; }

static rs_status plugin_get_capabilities(rs_capabilities *out) {
    if (!out) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "get_capabilities: out is NULL");
    if (!g.initialized) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "get_capabilities: init has not succeeded");
    *out = (rs_capabilities){
        .kind = (g.type & CL_DEVICE_TYPE_GPU) ? RS_DEVICE_GPU
            : (g.type & CL_DEVICE_TYPE_CPU) ? RS_DEVICE_CPU : RS_DEVICE_ACCELERATOR,
        .weight_dtypes = ALL_DTYPES,
        .kv_cache_dtypes = KV_DTYPES,
        .page_size_multiple = 1,
        .shares_host_memory = 0,
        .host_visible_buffers = 0,
        .max_threads = 1,
        .max_rows_per_step = 0,
        .hooks = RS_HOOK_DEVICE_ARGMAX | RS_HOOK_DEVICE_TOP_K,
        .max_top_k = MAX_TOP_K,
    };
    return RS_OK;
}

static rs_status plugin_memory_info(uint64_t *free_bytes, uint64_t *total_bytes) {
    if (!free_bytes || !total_bytes) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "memory_info: an output is NULL");
    if (!g.initialized) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "memory_info: init has not succeeded");
    uint64_t total = g.global_memory, used = atomic_load(&g.allocated);
    *total_bytes = total;
    *free_bytes = used < total ? total - used : 0;
    return RS_OK;
}

/* ---- The program: built once per process, its binary cached on disk ------------------------ */

#define BUILD_OPTIONS "-cl-std=CL1.2"

static uint64_t fnv1a(uint64_t h, const char *text) {
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) h = (h ^ *p) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull; /* separates the fields */
}

/* The cache file for this source, device and driver, or 0 when there is no cache. */
static int cache_path(char *out, size_t size) {
    const char *enabled = getenv(CACHE_ENV);
    if (enabled && strcmp(enabled, "0") == 0) return 0;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[1024];
    if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/radixserve/opencl", xdg);
    else if (home && *home) snprintf(dir, sizeof dir, "%s/.cache/radixserve/opencl", home);
    else return 0;
    for (char *p = dir + 1; *p; p++) /* mkdir -p */
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return 0;
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv1a(h, radixserve_opencl_kernel_source);
    h = fnv1a(h, BUILD_OPTIONS);
    h = fnv1a(h, g.platform_name);
    h = fnv1a(h, g.platform_version);
    h = fnv1a(h, g.device_name);
    h = fnv1a(h, g.device_version);
    h = fnv1a(h, g.driver_version);
    return snprintf(out, size, "%s/%016" PRIx64 ".bin", dir, h) < (int)size;
}

static cl_program program_from_cache(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *bytes = NULL;
    long length = -1;
    if (fseek(f, 0, SEEK_END) == 0) length = ftell(f);
    if (length > 0 && fseek(f, 0, SEEK_SET) == 0 && (bytes = malloc((size_t)length))
        && fread(bytes, 1, (size_t)length, f) != (size_t)length) {
        free(bytes);
        bytes = NULL;
    }
    fclose(f);
    if (!bytes) return NULL;
    size_t size = (size_t)length;
    const unsigned char *binaries[1] = { bytes };
    cl_int binary_status = CL_SUCCESS, e = CL_SUCCESS;
    cl_program program = clCreateProgramWithBinary(g.context, 1, &g.device, &size, binaries, &binary_status, &e);
    free(bytes);
    if (!program) return NULL;
    if (binary_status != CL_SUCCESS || clBuildProgram(program, 1, &g.device, BUILD_OPTIONS, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(program);
        return NULL;
    }
    return program;
}

static void program_to_cache(cl_program program, const char *path) {
    size_t size = 0;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS || size == 0)
        return;
    unsigned char *bytes = malloc(size);
    unsigned char *binaries[1] = { bytes };
    if (!bytes || clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binaries, binaries, NULL) != CL_SUCCESS) {
        free(bytes);
        return;
    }
    char temporary[1200];
    snprintf(temporary, sizeof temporary, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(temporary, "wb");
    int ok = f && fwrite(bytes, 1, size, f) == size;
    if (f) ok = fclose(f) == 0 && ok;
    if (ok) ok = rename(temporary, path) == 0;
    if (!ok) remove(temporary);
    free(bytes);
}

static rs_status build_program_locked(void) {
    if (g.program) return RS_OK;
    char path[1100];
    int cached = cache_path(path, sizeof path);
    if (cached && (g.program = program_from_cache(path))) return RS_OK;
    const char *source = radixserve_opencl_kernel_source;
    cl_int e;
    cl_program program = clCreateProgramWithSource(g.context, 1, &source, NULL, &e);
    if (!program)
        return fail(NULL, cl_status(e), "create_backend: clCreateProgramWithSource failed: %s (%d)", cl_error_name(e),
            (int)e);
    e = clBuildProgram(program, 1, &g.device, BUILD_OPTIONS, NULL, NULL);
    if (e != CL_SUCCESS) {
        size_t log_size = 0;
        clGetProgramBuildInfo(program, g.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size);
        char *log = malloc(log_size + 1);
        if (log) {
            log[0] = '\0';
            clGetProgramBuildInfo(program, g.device, CL_PROGRAM_BUILD_LOG, log_size, log, NULL);
            log[log_size] = '\0';
            fprintf(stderr, "radixserve opencl: the kernels failed to build for %s:\n%s\n", g.device_name, log);
        }
        fail(NULL, RS_ERROR_DEVICE, "create_backend: clBuildProgram(kernels for %s) failed: %s (%d); build log: %s",
            g.device_name, cl_error_name(e), (int)e, log ? log : "(no memory for it)");
        free(log);
        clReleaseProgram(program);
        return RS_ERROR_DEVICE;
    }
    g.program = program;
    if (cached) program_to_cache(program, path);
    return RS_OK;
}

static void backend_free(rs_backend *b) {
    for (int i = 0; i < K_COUNT; i++)
        if (b->kernels[i]) clReleaseKernel(b->kernels[i]);
    growable_free(&b->step_buffer);
    growable_free(&b->frequencies);
    growable_free(&b->attention_scratch);
    growable_free(&b->result_ids);
    growable_free(&b->result_values);
    if (b->queue) clReleaseCommandQueue(b->queue);
    for (size_t i = 0; i < b->event_count; i++) clReleaseEvent(b->events[i].event);
    free(b->events);
    free(b->step);
    pthread_mutex_destroy(&b->failure_lock);
    free(b);
}

static rs_status plugin_create_backend(int32_t threads, rs_backend **out) {
    const char *op = "create_backend";
    if (!out) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "%s: out is NULL", op);
    *out = NULL;
    if (threads < 0) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "%s: threads is %d; expected 0 or more", op, threads);
    if (!g.initialized) return fail(NULL, RS_ERROR_INVALID_ARGUMENT, "%s: init has not succeeded", op);
    pthread_mutex_lock(&g.lock);
    rs_status status = build_program_locked();
    pthread_mutex_unlock(&g.lock);
    TRY(status);

    rs_backend *b = calloc(1, sizeof *b);
    if (!b) return fail(NULL, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory for the backend", op);
    pthread_mutex_init(&b->failure_lock, NULL);
    const char *profile = getenv(PROFILE_ENV);
    b->profile = profile && strcmp(profile, "1") == 0;
    const char *path = getenv(MATMUL_ENV);
    b->matmul_path = path && strcmp(path, "rows") == 0 ? 1 : path && strcmp(path, "tiled") == 0 ? 2 : 0;
    cl_int e;
    b->queue = clCreateCommandQueue(g.context, g.device, b->profile ? CL_QUEUE_PROFILING_ENABLE : 0, &e);
    if (!b->queue) {
        backend_free(b);
        return fail(NULL, cl_status(e), "%s: clCreateCommandQueue failed: %s (%d)", op, cl_error_name(e), (int)e);
    }
    for (int i = 0; i < K_COUNT; i++) {
        b->kernels[i] = clCreateKernel(g.program, kernel_names[i], &e);
        /* The work-group a kernel was written for (reqd_work_group_size) must fit this device. */
        size_t fits = 0, wanted[3] = { 0, 0, 0 };
        if (b->kernels[i]) {
            clGetKernelWorkGroupInfo(b->kernels[i], g.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof fits, &fits, NULL);
            clGetKernelWorkGroupInfo(b->kernels[i], g.device, CL_KERNEL_COMPILE_WORK_GROUP_SIZE, sizeof wanted, wanted,
                NULL);
        }
        size_t needed = wanted[0] * (wanted[1] ? wanted[1] : 1) * (wanted[2] ? wanted[2] : 1);
        if (b->kernels[i] && fits < needed && i >= K_ATTENTION_PREFILL && i <= K_ATTENTION_PREFILL_BF16) {
            /* Optional: attention runs every row through attention_partial instead. */
            clReleaseKernel(b->kernels[i]);
            b->kernels[i] = NULL;
            continue;
        }
        if (!b->kernels[i] || fits < needed) {
            int created = b->kernels[i] != NULL;
            backend_free(b);
            if (created)
                return fail(NULL, RS_ERROR_UNSUPPORTED, "%s: kernel %s runs at most %zu work-items per group on %s; "
                    "it needs %zu", op, kernel_names[i], fits, g.device_name, needed);
            return fail(NULL, cl_status(e), "%s: clCreateKernel(%s) failed: %s (%d)", op, kernel_names[i],
                cl_error_name(e), (int)e);
        }
    }
    if (!(b->step = step_copy(NULL))) {
        backend_free(b);
        return fail(NULL, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory for the backend", op);
    }
    *out = b;
    return RS_OK;
}

static void plugin_destroy_backend(rs_backend *b) {
    if (!b) return;
    clFinish(b->queue);
    /* Completion callbacks may still be running after clFinish returns. */
    while (atomic_load(&b->pending_callbacks) > 0) nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
    if (b->profile) {
        harvest_events(b);
        double total = 0;
        for (int i = 0; i < K_COUNT; i++) total += b->kernel_ns[i];
        fprintf(stderr, "radixserve opencl: kernel times of backend %p on %s (%.3f ms in all):\n", (void *)b,
            g.device_name, total / 1e6);
        int order[K_COUNT];
        for (int i = 0; i < K_COUNT; i++) order[i] = i;
        for (int i = 1; i < K_COUNT; i++) /* by time, longest first */
            for (int j = i; j > 0 && b->kernel_ns[order[j]] > b->kernel_ns[order[j - 1]]; j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        for (int i = 0; i < K_COUNT; i++) {
            int k = order[i];
            if (b->kernel_calls[k] == 0) continue;
            fprintf(stderr, "  %-24s %8" PRIu64 " calls %12.3f ms %10.1f us/call\n", kernel_names[k],
                b->kernel_calls[k], b->kernel_ns[k] / 1e6, b->kernel_ns[k] / 1e3 / (double)b->kernel_calls[k]);
        }
        double steps = b->steps > 0 ? (double)b->steps : 1;
        fprintf(stderr,
            "radixserve opencl: transfers over %" PRIu64 " steps: step inputs %" PRIu64 " bytes written (%.0f per step), "
            "other writes %" PRIu64 " bytes (weights at load, staged activations), %" PRIu64 " bytes read (%.0f per step)\n",
            b->steps, b->step_bytes_written, (double)b->step_bytes_written / steps, b->other_bytes_written, b->bytes_read,
            (double)b->bytes_read / steps);
        fprintf(stderr, "radixserve opencl: transfer times: writes %" PRIu64 " × %.3f ms in all, reads %" PRIu64
            " × %.3f ms in all\n", b->kernel_calls[TIMED_WRITE], b->kernel_ns[TIMED_WRITE] / 1e6,
            b->kernel_calls[TIMED_READ], b->kernel_ns[TIMED_READ] / 1e6);
    }
    backend_free(b);
}

/* ==== Memory ================================================================================= */

static rs_status plugin_allocate(rs_backend *b, uint64_t byte_count, rs_buffer_usage usage, rs_buffer **out) {
    BEGIN_OP("allocate");
    if (!out) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: out is NULL", op);
    *out = NULL;
    if ((unsigned)usage > (unsigned)RS_USAGE_COMPUTE)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: unknown usage %d", op, (int)usage);
    rs_buffer *buffer = calloc(1, sizeof *buffer);
    if (!buffer) return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory for a buffer handle", op);
    rs_status status = device_alloc(b, op, byte_count, 1, &buffer->mem);
    if (status != RS_OK) {
        free(buffer);
        return status;
    }
    buffer->size = byte_count;
    buffer->usage = usage;
    *out = buffer;
    return RS_OK;
}

static void plugin_release_buffer(rs_backend *b, rs_buffer *buffer) {
    (void)b;
    if (!buffer) return;
    device_free(buffer->mem, buffer->size);
    free(buffer);
}

static rs_status check_range(rs_backend *b, const char *op, const rs_buffer *buffer, uint64_t offset, uint64_t count,
    const void *host) {
    uint64_t size = buffer ? buffer->size : 0;
    return rs_check_range(op, buffer, size, offset, count, host, error_slot(b), ERROR_CAPACITY);
}

static rs_status plugin_upload(rs_backend *b, rs_buffer *buffer, uint64_t byte_offset, const void *source,
    uint64_t byte_count) {
    BEGIN_OP("upload");
    TRY(check_range(b, op, buffer, byte_offset, byte_count, source));
    return enqueue_write(b, op, buffer->mem, byte_offset, source, byte_count);
}

static rs_status plugin_download(rs_backend *b, rs_buffer *buffer, uint64_t byte_offset, void *destination,
    uint64_t byte_count) {
    BEGIN_OP("download");
    TRY(check_range(b, op, buffer, byte_offset, byte_count, destination));
    if (byte_count > 0) {
        b->bytes_read += byte_count;
        cl_event timed = NULL;
        cl_int e = clEnqueueReadBuffer(b->queue, buffer->mem, CL_TRUE, (size_t)byte_offset, (size_t)byte_count,
            destination, 0, NULL, b->profile ? &timed : NULL);
        if (timed) track(b, timed, TIMED_READ);
        if (e != CL_SUCCESS) {
            rs_status earlier = take_failure(b);
            return earlier != RS_OK ? earlier : cl_fail(b, e, "clEnqueueReadBuffer", op);
        }
    }
    return finish(b, op);
}

/* A transposed copy ([K, N]), which both matmul kernels read with neighbouring work-items on
 * neighbouring addresses. */
static rs_status plugin_prepare_matmul_weight(rs_backend *b, const rs_tensor *weight, rs_buffer **out) {
    BEGIN_OP("prepare_matmul_weight");
    if (!out) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: out is NULL", op);
    *out = NULL;
    TRY(check_tensor(b, op, "weight", weight, ALL_DTYPES, ANY, ANY));
    uint64_t bytes = (uint64_t)weight->rows * (uint64_t)weight->columns * rs_dtype_size(weight->dtype);
    rs_buffer *buffer = calloc(1, sizeof *buffer);
    if (!buffer) return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory for a buffer handle", op);
    rs_status status = device_alloc(b, op, bytes, 0, &buffer->mem);
    if (status != RS_OK) {
        free(buffer);
        return status;
    }
    *buffer = (rs_buffer){ .mem = buffer->mem, .size = bytes, .usage = RS_USAGE_WEIGHTS, .prepared = 1,
        .prepared_rows = weight->rows, .prepared_columns = weight->columns, .prepared_dtype = weight->dtype };
    size_t global[2] = { (size_t)weight->columns, (size_t)weight->rows };
    status = LAUNCH(b, weight->dtype == RS_DTYPE_F32 ? K_TRANSPOSE_U32 : K_TRANSPOSE_U16, 2, global, NULL,
        KT(weight), KI(weight->rows), KI(weight->columns), KM(buffer->mem));
    if (status != RS_OK) {
        plugin_release_buffer(b, buffer);
        return status;
    }
    *out = buffer;
    return RS_OK;
}

/* ==== KV cache =============================================================================== */

static uint64_t elements_per_page(const rs_kv_cache_spec *spec) {
    uint64_t n = (uint64_t)spec->layer_count * (uint64_t)spec->kv_head_count;
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

static void kv_cache_free(rs_kv_cache *cache) {
    for (int32_t l = 0; l < cache->spec.layer_count; l++) {
        if (cache->keys[l]) device_free(cache->keys[l], cache->layer_bytes);
        if (cache->values[l]) device_free(cache->values[l], cache->layer_bytes);
    }
    free(cache->keys);
    free(cache);
}

static rs_status plugin_create_kv_cache(rs_backend *b, const rs_kv_cache_spec *spec, rs_kv_cache **out) {
    BEGIN_OP("create_kv_cache");
    if (!out) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: out is NULL", op);
    *out = NULL;
    TRY(check_spec(b, op, spec, 1));
    uint64_t page_bytes = (uint64_t)spec->kv_head_count * (uint64_t)spec->page_size * (uint64_t)spec->head_dim
        * rs_dtype_size(spec->dtype); /* one layer's keys */
    if ((uint64_t)spec->page_count > UINT64_MAX / 2 / page_bytes / (uint64_t)spec->layer_count)
        return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: %d pages of this spec overflow 64 bits", op, spec->page_count);
    uint64_t layer_bytes = page_bytes * (uint64_t)spec->page_count;
    rs_kv_cache *cache = calloc(1, sizeof *cache);
    cl_mem *mems = calloc(2 * (size_t)spec->layer_count, sizeof(cl_mem));
    if (!cache || !mems) {
        free(cache);
        free(mems);
        return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory for the cache's handles", op);
    }
    *cache = (rs_kv_cache){ .spec = *spec, .slot_count = (int64_t)spec->page_count * spec->page_size,
        .layer_bytes = layer_bytes, .keys = mems, .values = mems + spec->layer_count };
    for (int32_t l = 0; l < spec->layer_count; l++) {
        rs_status status = device_alloc(b, op, layer_bytes, 1, &cache->keys[l]);
        if (status == RS_OK) status = device_alloc(b, op, layer_bytes, 1, &cache->values[l]);
        if (status != RS_OK) {
            kv_cache_free(cache);
            return status;
        }
    }
    *out = cache;
    return RS_OK;
}

static void plugin_release_kv_cache(rs_backend *b, rs_kv_cache *cache) {
    (void)b;
    if (cache) kv_cache_free(cache);
}

/* ==== One step =============================================================================== */

/* Keeps a host copy to check ops against and uploads the arrays into the backend's step buffer,
 * behind the ops already queued (which read the previous step's: the write is ordered after them). */
static rs_status plugin_begin_step(rs_backend *b, const rs_step_inputs *inputs) {
    BEGIN_OP("begin_step");
    TRY(check_step(b, inputs));
    step_data *s = step_copy(inputs);
    if (!s) return fail(b, RS_ERROR_OUT_OF_MEMORY, "%s: no host memory to copy the step's inputs", op);
    rs_status status = grow(b, op, &b->step_buffer, (s->total + 1) * sizeof(int32_t));
    if (status == RS_OK)
        status = enqueue_write(b, op, b->step_buffer.mem, 0, s->token_ids, s->total * sizeof(int32_t));
    if (status != RS_OK) {
        free(s);
        return status;
    }
    const int32_t *base = s->token_ids;
    b->off_tokens = (int32_t)(s->token_ids - base);
    b->off_positions = (int32_t)(s->positions - base);
    b->off_slots = (int32_t)(s->slot_mapping - base);
    b->off_query_starts = (int32_t)(s->query_starts - base);
    b->off_contexts = (int32_t)(s->context_lengths - base);
    b->off_page_starts = (int32_t)(s->page_table_starts - base);
    b->off_page_ids = (int32_t)(s->page_ids - base);
    b->off_logit_rows = (int32_t)(s->logit_rows - base);
    b->off_row_sequence = (int32_t)(s->row_sequence - base);
    b->off_attention_rows = (int32_t)(s->attention_rows - base);
    free(b->step);
    b->step = s;
    return RS_OK;
}

/* Submits the step (clFlush) without waiting; failures found later come with the next
 * synchronizing call. */
static rs_status plugin_end_step(rs_backend *b) {
    BEGIN_OP("end_step");
    cl_int e = clFlush(b->queue);
    rs_status earlier = take_failure(b);
    if (earlier != RS_OK) return earlier;
    return e == CL_SUCCESS ? RS_OK : cl_fail(b, e, "clFlush", op);
}

static rs_status plugin_synchronize(rs_backend *b) {
    BEGIN_OP("synchronize");
    return finish(b, op);
}

static rs_status plugin_embedding(rs_backend *b, const rs_tensor *table, const rs_tensor *out) {
    BEGIN_OP("embedding");
    const step_data *s = b->step;
    TRY(check_tensor(b, op, "table", table, ALL_DTYPES, ANY, ANY));
    TRY(check_tensor(b, op, "out", out, F32_ONLY, s->token_count, table->columns));
    TRY(check_token_ids(b, op, s, table->rows));
    size_t global[2] = { (size_t)table->columns, (size_t)s->token_count };
    return LAUNCH(b, K_EMBEDDING + table->dtype, 2, global, NULL, KT(table), KI(table->columns), KT(out),
        KM(b->step_buffer.mem), KI(b->off_tokens));
}

static rs_status plugin_matmul(rs_backend *b, const rs_tensor *x, const rs_tensor *weight, const rs_tensor *bias,
    const rs_tensor *out) {
    BEGIN_OP("matmul");
    TRY(check_tensor(b, op, "x", x, F32_ONLY, ANY, ANY));
    if (!weight || !weight->buffer) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: weight is NULL", op);
    cl_ulong wsn, wsk, woff;
    if (weight->buffer->prepared) {
        const rs_buffer *p = weight->buffer;
        if (weight->byte_offset != 0 || weight->dtype != p->prepared_dtype || weight->rows != p->prepared_rows
            || weight->columns != p->prepared_columns || weight->row_stride != weight->columns)
            return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: weight is a prepared buffer of [%d, %d] %s, but is "
                "described as [%d, %d] %s (row stride %d) at byte offset %" PRIu64, op, p->prepared_rows,
                p->prepared_columns, rs_dtype_name(p->prepared_dtype), weight->rows, weight->columns,
                rs_dtype_name(weight->dtype), weight->row_stride, weight->byte_offset);
        if (weight->columns != x->columns)
            return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: weight is [%d, %d]; expected [any, %d]", op, weight->rows,
                weight->columns, x->columns);
        wsn = 1;
        wsk = (cl_ulong)weight->rows;
        woff = 0;
    } else {
        TRY(check_tensor(b, op, "weight", weight, ALL_DTYPES, ANY, x->columns));
        wsn = (cl_ulong)weight->row_stride;
        wsk = 1;
        woff = element_offset(weight);
    }
    TRY(check_tensor(b, op, "out", out, F32_ONLY, x->rows, weight->rows));
    if (bias) TRY(check_tensor(b, op, "bias", bias, F32_ONLY, 1, weight->rows));
    int32_t M = x->rows, N = weight->rows, K = x->columns;
    int tiled = b->matmul_path == 2 || (b->matmul_path == 0 && M > MATMUL_DECODE_ROWS);
    cl_mem bias_mem = bias ? bias->buffer->mem : out->buffer->mem;
    cl_ulong bias_offset = bias ? element_offset(bias) : 0;
    if (tiled) {
        size_t global[2] = { round_up((size_t)N, TILED_TILE) / 4, round_up((size_t)M, TILED_TILE) / 4 };
        size_t local[2] = { TILED_WG, TILED_WG };
        return LAUNCH(b, K_MATMUL_TILED + weight->dtype, 2, global, local, KT(x), KI(M), KI(K),
            KM(weight->buffer->mem), KU(woff), KU(wsn), KU(wsk), KI(N), KM(bias_mem), KU(bias_offset), KI(bias != NULL),
            KT(out));
    }
    size_t global[2] = { round_up((size_t)N, MM_WG), ((size_t)M + MM_ROWS - 1) / MM_ROWS };
    size_t local[2] = { MM_WG, 1 };
    return LAUNCH(b, K_MATMUL_ROWS + weight->dtype, 2, global, local, KT(x), KI(M), KI(K), KM(weight->buffer->mem),
        KU(woff), KU(wsn), KU(wsk), KI(N), KM(bias_mem), KU(bias_offset), KI(bias != NULL), KT(out));
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
    size_t groups = (size_t)(x->columns / weight->columns);
    size_t global[2] = { NORM_WG * groups, (size_t)x->rows }, local[2] = { NORM_WG, 1 };
    return LAUNCH(b, K_RMS_NORM + weight->dtype, 2, global, local, KT(x), KM(weight->buffer->mem),
        KU(element_offset(weight)), KI(weight->columns), KF(epsilon), KT(out));
}

static rs_status plugin_rope_table(rs_backend *b, const float *inverse_frequencies, int32_t count, float scale,
    const rs_tensor *out) {
    BEGIN_OP("rope_table");
    if (count < 0 || (count > 0 && !inverse_frequencies))
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: %d inverse frequencies at %p", op, count,
            (const void *)inverse_frequencies);
    TRY(check_tensor(b, op, "out", out, F32_ONLY, b->step->token_count, 2 * (int64_t)count));
    if (count == 0 || b->step->token_count == 0) return RS_OK;
    TRY(grow(b, op, &b->frequencies, (uint64_t)count * sizeof(float)));
    TRY(enqueue_write(b, op, b->frequencies.mem, 0, inverse_frequencies, (uint64_t)count * sizeof(float)));
    size_t global[2] = { (size_t)count, (size_t)b->step->token_count };
    return LAUNCH(b, K_ROPE_TABLE, 2, global, NULL, KM(b->step_buffer.mem), KI(b->off_positions),
        KM(b->frequencies.mem), KI(count), KF(scale), KT(out));
}

static rs_status plugin_rope(rs_backend *b, const rs_tensor *x, const rs_tensor *table, int32_t head_dim) {
    BEGIN_OP("rope");
    TRY(check_tensor(b, op, "x", x, F32_ONLY, ANY, ANY));
    if (head_dim <= 0 || head_dim % 2 != 0 || x->columns % head_dim != 0)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: head_dim %d must be positive, even and divide x's %d "
            "columns", op, head_dim, x->columns);
    TRY(check_tensor(b, op, "table", table, F32_ONLY, x->rows, head_dim));
    size_t global[3] = { (size_t)head_dim / 2, (size_t)(x->columns / head_dim), (size_t)x->rows };
    return LAUNCH(b, K_ROPE, 3, global, NULL, KT(x), KT(table), KI(head_dim));
}

static rs_status plugin_store_kv(rs_backend *b, const rs_tensor *key, const rs_tensor *value, rs_kv_cache *cache,
    int32_t layer) {
    BEGIN_OP("store_kv");
    const step_data *s = b->step;
    TRY(check_cache(b, op, cache, layer));
    int64_t width = (int64_t)cache->spec.kv_head_count * cache->spec.head_dim;
    TRY(check_tensor(b, op, "key", key, F32_ONLY, s->token_count, width));
    TRY(check_tensor(b, op, "value", value, F32_ONLY, s->token_count, width));
    TRY(check_slots(b, op, s, cache));
    size_t global[2] = { (size_t)width, (size_t)s->token_count };
    return LAUNCH(b, K_STORE_KV + cache->spec.dtype, 2, global, NULL, KM(b->step_buffer.mem), KI(b->off_slots),
        KT(key), KT(value), KM(cache->keys[layer]), KM(cache->values[layer]), KI(cache->spec.kv_head_count),
        KI(cache->spec.head_dim), KI(cache->spec.page_size));
}

/* attention_partial over every (split, head, row) of `slots` rows (the list at list_off, or rows
 * first … first + slots - 1 when list_off < 0), then attention_combine; in chunks, so that the
 * partial results stay within ATTENTION_SCRATCH_BYTES. */
static rs_status attend_rows(rs_backend *b, const rs_tensor *query, rs_kv_cache *cache, int32_t layer,
    float scale, const rs_tensor *out, int32_t list_off, int32_t first, int32_t slots, int32_t splits, uint64_t chunk) {
    const rs_kv_cache_spec *spec = &cache->spec;
    int32_t hd = spec->head_dim, heads = query->columns / hd;
    if (chunk > (uint64_t)slots) chunk = (uint64_t)slots;
    for (int32_t row = first; row < first + slots; row += (int32_t)chunk) {
        size_t rows = (size_t)(first + slots - row < (int32_t)chunk ? first + slots - row : (int32_t)chunk);
        size_t global[3] = { (size_t)ATT_WG * (size_t)splits, (size_t)heads, rows }, local[3] = { ATT_WG, 1, 1 };
        TRY(LAUNCH(b, K_ATTENTION_PARTIAL + spec->dtype, 3, global, local, KM(b->step_buffer.mem),
            KI(b->off_row_sequence), KI(b->off_query_starts), KI(b->off_contexts), KI(b->off_page_starts),
            KI(b->off_page_ids), KI(list_off), KI(row), KT(query), KM(cache->keys[layer]), KM(cache->values[layer]),
            KI(heads / spec->kv_head_count), KI(spec->kv_head_count), KI(hd), KI(spec->page_size), KF(scale),
            KI(splits), KM(b->attention_scratch.mem), KLOCAL((size_t)hd * sizeof(float))));
        size_t combine[3] = { (size_t)hd, (size_t)heads, rows };
        TRY(LAUNCH(b, K_ATTENTION_COMBINE, 3, combine, NULL, KM(b->step_buffer.mem), KI(b->off_row_sequence),
            KI(b->off_query_starts), KI(b->off_contexts), KI(list_off), KI(row), KI(hd), KI(splits),
            KM(b->attention_scratch.mem), KT(out)));
    }
    return RS_OK;
}

/* attention_prefill over the step's tiles (PRE_QT rows each), then attention_combine, in chunks
 * of whole tiles. */
static rs_status attend_tiles(rs_backend *b, const rs_tensor *query, rs_kv_cache *cache, int32_t layer, float scale,
    const rs_tensor *out, int32_t splits, uint64_t chunk_slots) {
    const step_data *s = b->step;
    const rs_kv_cache_spec *spec = &cache->spec;
    int32_t hd = spec->head_dim, heads = query->columns / hd;
    int32_t list_off = b->off_attention_rows + s->decode_row_count;
    uint64_t chunk = chunk_slots / PRE_QT;
    if (chunk < 1) chunk = 1;
    if (chunk > (uint64_t)s->tile_count) chunk = (uint64_t)s->tile_count;
    for (int32_t tile = 0; tile < s->tile_count; tile += (int32_t)chunk) {
        size_t tiles = (size_t)(s->tile_count - tile < (int32_t)chunk ? s->tile_count - tile : (int32_t)chunk);
        size_t global[3] = { (size_t)ATT_WG * (size_t)splits, (size_t)PRE_QT * (size_t)heads, tiles };
        size_t local[3] = { ATT_WG, PRE_QT, 1 };
        TRY(LAUNCH(b, K_ATTENTION_PREFILL + spec->dtype, 3, global, local, KM(b->step_buffer.mem),
            KI(b->off_row_sequence), KI(b->off_query_starts), KI(b->off_contexts), KI(b->off_page_starts),
            KI(b->off_page_ids), KI(list_off), KI(tile), KT(query), KM(cache->keys[layer]), KM(cache->values[layer]),
            KI(heads / spec->kv_head_count), KI(spec->kv_head_count), KI(hd), KI(spec->page_size), KF(scale),
            KI(splits), KM(b->attention_scratch.mem), KLOCAL((size_t)PRE_QT * hd * sizeof(float)),
            KLOCAL((size_t)ATT_WG * hd * sizeof(float))));
        size_t combine[3] = { (size_t)hd, (size_t)heads, tiles * PRE_QT };
        TRY(LAUNCH(b, K_ATTENTION_COMBINE, 3, combine, NULL, KM(b->step_buffer.mem), KI(b->off_row_sequence),
            KI(b->off_query_starts), KI(b->off_contexts), KI(list_off), KI(tile * PRE_QT), KI(hd), KI(splits),
            KM(b->attention_scratch.mem), KT(out)));
    }
    return RS_OK;
}

/* Local memory attention_prefill takes beside its static arrays (sc, red): qs and one key block. */
static uint64_t prefill_local_bytes(int32_t head_dim) {
    return ((uint64_t)PRE_QT + ATT_WG) * (uint64_t)head_dim * sizeof(float)
        + ((uint64_t)PRE_QT * ATT_SPLIT + (uint64_t)PRE_QT * ATT_WG) * sizeof(float);
}

/* Rows of one-row sequences go through attention_partial (flash-decoding: split-K over pages), the
 * rows of longer sequences through attention_prefill in tiles, which reads each key and value
 * once per tile; both give a row the same bits. A step with no sequence of two or more rows, a
 * head size over PRE_DMAX or a device short of local memory runs every row through the first. */
static rs_status plugin_attention(rs_backend *b, const rs_tensor *query, rs_kv_cache *cache, int32_t layer, float scale,
    const rs_tensor *out) {
    BEGIN_OP("attention");
    const step_data *s = b->step;
    TRY(check_cache(b, op, cache, layer));
    const rs_kv_cache_spec *spec = &cache->spec;
    TRY(check_tensor(b, op, "query", query, F32_ONLY, s->row_count, ANY));
    TRY(check_tensor(b, op, "out", out, F32_ONLY, query->rows, query->columns));
    int32_t heads = query->columns / spec->head_dim;
    if (query->columns % spec->head_dim != 0 || heads == 0 || heads % spec->kv_head_count != 0)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: query's %d columns are not a positive multiple of the "
            "cache's %d KV heads × head_dim %d", op, query->columns, spec->kv_head_count, spec->head_dim);
    TRY(check_pages(b, op, s, spec));
    if (s->row_count == 0) return RS_OK;
    int32_t hd = spec->head_dim, splits = (s->longest_context + ATT_SPLIT - 1) / ATT_SPLIT;
    if (splits < 1) splits = 1;
    uint64_t per_row = (uint64_t)heads * (uint64_t)splits * (uint64_t)(hd + 2) * sizeof(float);
    uint64_t chunk = ATTENTION_SCRATCH_BYTES / per_row;
    if (chunk < PRE_QT) chunk = PRE_QT;
    uint64_t most = s->row_count > s->tile_count * PRE_QT ? (uint64_t)s->row_count : (uint64_t)s->tile_count * PRE_QT;
    TRY(grow(b, op, &b->attention_scratch, (chunk < most ? chunk : most) * per_row));
    int tiled = s->tile_count > 0 && b->kernels[K_ATTENTION_PREFILL + spec->dtype] && hd <= PRE_DMAX
        && prefill_local_bytes(hd) <= g.local_memory;
    if (!tiled) return attend_rows(b, query, cache, layer, scale, out, -1, 0, s->row_count, splits, chunk);
    TRY(attend_rows(b, query, cache, layer, scale, out, b->off_attention_rows, 0, s->decode_row_count, splits,
        chunk));
    return attend_tiles(b, query, cache, layer, scale, out, splits, chunk);
}

static rs_status plugin_silu_mul(rs_backend *b, const rs_tensor *x, const rs_tensor *out) {
    BEGIN_OP("silu_mul");
    TRY(check_tensor(b, op, "out", out, F32_ONLY, ANY, ANY));
    TRY(check_tensor(b, op, "x", x, F32_ONLY, out->rows, 2 * (int64_t)out->columns));
    size_t global[2] = { (size_t)out->columns, (size_t)out->rows };
    return LAUNCH(b, K_SILU_MUL, 2, global, NULL, KT(x), KT(out), KI(out->columns));
}

static rs_status plugin_add(rs_backend *b, const rs_tensor *x, const rs_tensor *y, const rs_tensor *out) {
    BEGIN_OP("add");
    TRY(check_tensor(b, op, "x", x, F32_ONLY, ANY, ANY));
    TRY(check_tensor(b, op, "y", y, F32_ONLY, x->rows, x->columns));
    TRY(check_tensor(b, op, "out", out, F32_ONLY, x->rows, x->columns));
    size_t global[2] = { (size_t)x->columns, (size_t)x->rows };
    return LAUNCH(b, K_ADD, 2, global, NULL, KT(x), KT(y), KT(out), KI(x->columns));
}

static rs_status plugin_gather_rows(rs_backend *b, const rs_tensor *x, const rs_tensor *out) {
    BEGIN_OP("gather_rows");
    const step_data *s = b->step;
    TRY(check_tensor(b, op, "x", x, F32_ONLY, ANY, ANY));
    TRY(check_tensor(b, op, "out", out, F32_ONLY, s->logit_row_count, x->columns));
    TRY(check_logit_rows(b, op, s, x->rows));
    size_t global[2] = { (size_t)x->columns, (size_t)s->logit_row_count };
    return LAUNCH(b, K_GATHER_ROWS, 2, global, NULL, KM(b->step_buffer.mem), KI(b->off_logit_rows), KT(x), KT(out),
        KI(x->columns));
}

/* ==== Optional hooks: sampling on the device ================================================= */

/* Reads `bytes` of a result buffer into host memory behind the queue, then reports failures. */
static rs_status read_result(rs_backend *b, const char *op, cl_mem mem, void *destination, size_t bytes) {
    b->bytes_read += bytes;
    cl_event timed = NULL;
    cl_int e = clEnqueueReadBuffer(b->queue, mem, CL_TRUE, 0, bytes, destination, 0, NULL, b->profile ? &timed : NULL);
    if (timed) track(b, timed, TIMED_READ);
    if (e != CL_SUCCESS) {
        rs_status earlier = take_failure(b);
        return earlier != RS_OK ? earlier : cl_fail(b, e, "clEnqueueReadBuffer", op);
    }
    return finish(b, op);
}

static rs_status plugin_argmax(rs_backend *b, const rs_tensor *logits, int32_t *ids) {
    BEGIN_OP("argmax");
    TRY(check_tensor(b, op, "logits", logits, F32_ONLY, ANY, ANY));
    if (logits->rows > 0 && !ids) return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: ids is NULL", op);
    if (logits->rows == 0) return finish(b, op);
    size_t bytes = (size_t)logits->rows * sizeof(int32_t);
    TRY(grow(b, op, &b->result_ids, bytes));
    size_t global[2] = { ARGMAX_WG, (size_t)logits->rows }, local[2] = { ARGMAX_WG, 1 };
    TRY(LAUNCH(b, K_ARGMAX, 2, global, local, KT(logits), KI(logits->columns), KM(b->result_ids.mem)));
    return read_result(b, op, b->result_ids.mem, ids, bytes);
}

static rs_status plugin_top_k(rs_backend *b, const rs_tensor *logits, int32_t k, int32_t *ids, float *values) {
    BEGIN_OP("top_k");
    TRY(check_tensor(b, op, "logits", logits, F32_ONLY, ANY, ANY));
    if (k < 1 || k > MAX_TOP_K)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: k is %d; expected 1 ... %d", op, k, MAX_TOP_K);
    if (logits->rows > 0 && k > logits->columns)
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: k (%d) exceeds the rows' %d columns", op, k, logits->columns);
    if (logits->rows > 0 && (!ids || !values))
        return fail(b, RS_ERROR_INVALID_ARGUMENT, "%s: ids or values is NULL", op);
    if (logits->rows == 0) return finish(b, op);
    size_t count = (size_t)logits->rows * (size_t)k;
    TRY(grow(b, op, &b->result_ids, count * sizeof(int32_t)));
    TRY(grow(b, op, &b->result_values, count * sizeof(float)));
    size_t global[2] = { TOPK_WG, (size_t)logits->rows }, local[2] = { TOPK_WG, 1 };
    TRY(LAUNCH(b, K_TOP_K, 2, global, local, KT(logits), KI(logits->columns), KI(k), KM(b->result_ids.mem),
        KM(b->result_values.mem)));
    b->bytes_read += count * sizeof(float);
    cl_event timed = NULL;
    cl_int e = clEnqueueReadBuffer(b->queue, b->result_values.mem, CL_FALSE, 0, count * sizeof(float), values, 0,
        NULL, b->profile ? &timed : NULL);
    if (timed) track(b, timed, TIMED_READ);
    if (e != CL_SUCCESS) return cl_fail(b, e, "clEnqueueReadBuffer", op);
    return read_result(b, op, b->result_ids.mem, ids, count * sizeof(int32_t));
}

/* ==== The entry point ======================================================================== */

static const rs_plugin_api plugin_api = {
    .abi_major = RS_ABI_VERSION_MAJOR,
    .abi_minor = RS_ABI_VERSION_MINOR,
    .struct_size = sizeof(rs_plugin_api),
    .name = "opencl",
    .init = plugin_init,
    .last_error = plugin_last_error,
    .get_capabilities = plugin_get_capabilities,
    .memory_info = plugin_memory_info,
    .create_backend = plugin_create_backend,
    .destroy_backend = plugin_destroy_backend,
    .allocate = plugin_allocate,
    .release_buffer = plugin_release_buffer,
    .host_address = NULL,
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
};

RS_EXPORT const rs_plugin_api *radixserve_backend_plugin(void) { return &plugin_api; }
