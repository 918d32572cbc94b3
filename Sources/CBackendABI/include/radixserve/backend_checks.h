/*
 * RadixServe plugin argument checks: optional, header-only help for writing a plugin.
 *
 * The argument checks a plugin of backend.h needs before it touches memory (a tensor view inside
 * its buffer, a KV cache spec, a step's inputs, the step values an op reads), with the messages
 * the in-tree plugins (reference-c, opencl) give and the server's tests match. A plugin may use
 * any of them, or none: the ABI asks only that a failed call return a status and leave a message
 * for last_error.
 *
 * C99 or later. Every function is static inline and keeps no state. The handles of backend.h stay
 * opaque here: what a check needs of them (a buffer's size, a cache's layer count) the caller
 * passes as values. A check returns RS_OK, or a failure status after writing a NUL-terminated
 * message of at most `capacity` bytes (truncated like snprintf) to `message`. Nothing is written
 * on RS_OK, so `message` may be the buffer last_error returns. Messages begin with `op`, the
 * failing call's name.
 */
#ifndef RADIXSERVE_BACKEND_CHECKS_H
#define RADIXSERVE_BACKEND_CHECKS_H

#include "backend.h" /* radixserve/backend.h, beside this file */

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* rs_check_tensor's `rows` or `columns` when any count will do. */
#define RS_CHECK_ANY (-1)

/* ==== Messages and dtypes ==================================================================== */

/* Writes a printf-style message (when `message` has room) and returns `status`: the one way the
 * checks below fail, offered for a plugin's own checks in the same form. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static inline rs_status rs_check_fail(char *message, size_t capacity, rs_status status, const char *format, ...) {
    if (message && capacity > 0) {
        va_list args;
        va_start(args, format);
        vsnprintf(message, capacity, format, args);
        va_end(args);
    }
    return status;
}

/* Bytes of one element; only for a known dtype (rs_dtype_is_known). */
static inline size_t rs_dtype_size(rs_dtype d) { return d == RS_DTYPE_F32 ? 4 : 2; }

/* A value of rs_dtype this ABI version defines; anything else must be refused before
 * rs_dtype_size or a mask bit (1u << d) is computed from it. */
static inline int rs_dtype_is_known(rs_dtype d) { return (unsigned)d <= (unsigned)RS_DTYPE_BF16; }

/* The dtype's name in messages: "f32", "f16", "bf16", or "unknown". */
static inline const char *rs_dtype_name(rs_dtype d) {
    switch (d) {
    case RS_DTYPE_F32: return "f32";
    case RS_DTYPE_F16: return "f16";
    case RS_DTYPE_BF16: return "bf16";
    }
    return "unknown";
}

/* The dtypes of `mask` (bits 1u << rs_dtype) as a list in messages, f32 then bf16 then f16, the
 * last two joined by `conjunction` ("or": "f32, bf16 or f16"); "none" for an empty mask. */
static inline const char *rs_dtype_mask_text(uint32_t mask, const char *conjunction, char *out, size_t capacity) {
    const rs_dtype order[3] = { RS_DTYPE_F32, RS_DTYPE_BF16, RS_DTYPE_F16 };
    const char *names[3];
    int count = 0;
    for (int i = 0; i < 3; i++)
        if (mask & (1u << order[i])) names[count++] = rs_dtype_name(order[i]);
    if (count == 0) snprintf(out, capacity, "none");
    else if (count == 1) snprintf(out, capacity, "%s", names[0]);
    else if (count == 2) snprintf(out, capacity, "%s %s %s", names[0], conjunction, names[1]);
    else snprintf(out, capacity, "%s, %s %s %s", names[0], names[1], conjunction, names[2]);
    return out;
}

/* ==== Operands =============================================================================== */

/* A usable [rows, columns] view (RS_CHECK_ANY: any count): non-NULL, with a buffer, not a
 * matmul-only buffer, of a dtype in `dtypes`, a valid shape, element-aligned and inside its
 * buffer. `buffer_size` and `prepared` describe t->buffer and are read only when it is non-NULL;
 * `prepared` is 1 for a prepare_matmul_weight buffer in a layout that only matmul's weight may
 * read (a plugin whose prepared buffers are plain copies passes 0). */
static inline rs_status rs_check_tensor(const char *op, const char *name, const rs_tensor *t, uint64_t buffer_size,
    int prepared, uint32_t dtypes, int64_t rows, int64_t columns, char *message, size_t capacity) {
    if (!t) return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", op, name);
    if (!t->buffer)
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: %s has no buffer", op, name);
    if (prepared)
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: %s is a prepare_matmul_weight "
            "buffer, which only matmul's weight may be", op, name);
    if (!rs_dtype_is_known(t->dtype))
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: %s has unknown dtype %d", op, name,
            (int)t->dtype);
    if (!(dtypes & (1u << t->dtype))) {
        char expected[32];
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: %s is %s; expected %s", op, name,
            rs_dtype_name(t->dtype), rs_dtype_mask_text(dtypes, "or", expected, sizeof expected));
    }
    if (t->rows < 0 || t->columns < 0 || t->row_stride < t->columns)
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: %s has an invalid shape [%d, %d] "
            "with row stride %d", op, name, t->rows, t->columns, t->row_stride);
    if ((rows != RS_CHECK_ANY && t->rows != rows) || (columns != RS_CHECK_ANY && t->columns != columns)) {
        char r[24] = "any", c[24] = "any";
        if (rows != RS_CHECK_ANY) snprintf(r, sizeof r, "%" PRId64, rows);
        if (columns != RS_CHECK_ANY) snprintf(c, sizeof c, "%" PRId64, columns);
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: %s is [%d, %d]; expected [%s, %s]",
            op, name, t->rows, t->columns, r, c);
    }
    uint64_t size = rs_dtype_size(t->dtype);
    if (t->byte_offset % size != 0)
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: %s starts at byte offset %" PRIu64
            ", not a multiple of its %" PRIu64 "-byte elements", op, name, t->byte_offset, size);
    if (t->rows > 0) {
        /* elements < 2^63, but elements · size may overflow: compare with what fits instead. */
        uint64_t elements = (uint64_t)(t->rows - 1) * (uint64_t)t->row_stride + (uint64_t)t->columns;
        if (t->byte_offset > buffer_size || elements > (buffer_size - t->byte_offset) / size)
            return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: %s [%d, %d] (row stride %d) at "
                "byte offset %" PRIu64 " spans %" PRIu64 " elements of %" PRIu64 " bytes, past the end of its %"
                PRIu64 "-byte buffer", op, name, t->rows, t->columns, t->row_stride, t->byte_offset, elements, size,
                buffer_size);
    }
    return RS_OK;
}

/* upload and download: bytes [offset, offset + count) lie inside `buffer` (never dereferenced)
 * of `buffer_size` bytes, and the host side exists when there is anything to copy. */
static inline rs_status rs_check_range(const char *op, const rs_buffer *buffer, uint64_t buffer_size, uint64_t offset,
    uint64_t count, const void *host, char *message, size_t capacity) {
    if (!buffer) return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: buffer is NULL", op);
    if (offset > buffer_size || count > buffer_size - offset)
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: %" PRIu64 " bytes at offset %" PRIu64
            " pass the end of a %" PRIu64 "-byte buffer", op, count, offset, buffer_size);
    if (count > 0 && !host)
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: the host pointer is NULL", op);
    return RS_OK;
}

/* `cache` (never dereferenced) exists and has `layer`, of its `layer_count`. */
static inline rs_status rs_check_cache_layer(const char *op, const rs_kv_cache *cache, int32_t layer_count,
    int32_t layer, char *message, size_t capacity) {
    if (!cache) return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: cache is NULL", op);
    if (layer < 0 || layer >= layer_count)
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: layer %d is outside the cache's %d "
            "layers", op, layer, layer_count);
    return RS_OK;
}

/* Positive fields (page_count only when `need_pages`: kv_cache_bytes_per_page ignores it), and a
 * dtype in `kv_dtypes`, the device's rs_capabilities.kv_cache_dtypes. Another dtype is
 * RS_ERROR_UNSUPPORTED, as backend.h asks: a plugin refuses it and never substitutes one. */
static inline rs_status rs_check_kv_cache_spec(const char *op, const rs_kv_cache_spec *spec, int need_pages,
    uint32_t kv_dtypes, char *message, size_t capacity) {
    if (!spec) return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: spec is NULL", op);
    if (spec->layer_count <= 0 || spec->kv_head_count <= 0 || spec->head_dim <= 0 || spec->page_size <= 0
        || (need_pages && spec->page_count <= 0))
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: every field must be positive "
            "(layer_count %d, kv_head_count %d, head_dim %d, page_size %d, page_count %d)", op, spec->layer_count,
            spec->kv_head_count, spec->head_dim, spec->page_size, spec->page_count);
    if (!rs_dtype_is_known(spec->dtype) || !(kv_dtypes & (1u << spec->dtype))) {
        char held[32];
        return rs_check_fail(message, capacity, RS_ERROR_UNSUPPORTED, "%s: KV cache dtype %s (%d) is not supported; "
            "this device holds %s", op, rs_dtype_name(spec->dtype), (int)spec->dtype,
            rs_dtype_mask_text(kv_dtypes, "and", held, sizeof held));
    }
    return RS_OK;
}

/* ==== Step inputs ============================================================================ */

/* What begin_step can check alone: counts, the arrays they require, and page tables and query
 * ranges that start at 0 and never decrease. Ranges that depend on an op's operands (token ids
 * against the table, slots and pages against the cache, logit rows against x) are the op's to
 * check, with the functions below. */
static inline rs_status rs_check_step_inputs(const char *op, const rs_step_inputs *in, char *message,
    size_t capacity) {
    if (!in) return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: inputs is NULL", op);
    if (in->token_count < 0 || in->sequence_count < 0 || in->logit_row_count < 0)
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: a negative count (token_count %d, "
            "sequence_count %d, logit_row_count %d)", op, in->token_count, in->sequence_count, in->logit_row_count);
    if (in->token_count > 0 && (!in->token_ids || !in->positions || !in->slot_mapping))
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: token_ids, positions and "
            "slot_mapping must each hold token_count (%d) entries, but one is NULL", op, in->token_count);
    if (in->logit_row_count > 0 && !in->logit_rows)
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: logit_rows is NULL with "
            "logit_row_count %d", op, in->logit_row_count);
    int32_t n = in->sequence_count;
    if (n == 0) return RS_OK; /* no sequences: the attention arrays are not read */
    if (!in->query_starts || !in->context_lengths || !in->page_table_starts)
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: query_starts, context_lengths or "
            "page_table_starts is NULL with %d sequences", op, n);
    if (in->query_starts[0] != 0 || in->page_table_starts[0] != 0)
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: query_starts[0] is %d and "
            "page_table_starts[0] is %d; both must be 0", op, in->query_starts[0], in->page_table_starts[0]);
    for (int32_t s = 0; s < n; s++) {
        int64_t queries = (int64_t)in->query_starts[s + 1] - in->query_starts[s];
        if (queries < 0 || in->page_table_starts[s + 1] < in->page_table_starts[s])
            return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: query_starts or "
                "page_table_starts decreases at sequence %d", op, s);
        if (queries > in->context_lengths[s] || in->context_lengths[s] < 0)
            return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: sequence %d has %" PRId64 " new "
                "tokens but a context of %d", op, s, queries, in->context_lengths[s]);
    }
    if (in->page_table_starts[n] > 0 && !in->page_ids)
        return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: page_ids is NULL but the page tables "
            "hold %d pages", op, in->page_table_starts[n]);
    return RS_OK;
}

/* int32 entries that rs_step_copy_arrays writes for inputs that passed rs_check_step_inputs. */
static inline size_t rs_step_copy_entries(const rs_step_inputs *in) {
    int32_t n = in->sequence_count, pages = n > 0 ? in->page_table_starts[n] : 0;
    return 3 * (size_t)in->token_count + 3 * (size_t)n + 2 + (size_t)pages + (size_t)in->logit_row_count;
}

/* Copies the arrays of checked `in` (they live only during begin_step) into `storage`, which
 * holds rs_step_copy_entries(in) entries, contiguous and starting with token_ids, and points each
 * out-parameter at its copy. query_starts and page_table_starts always get sequence_count + 1
 * entries ({0} when there are no sequences). Returns the end of what was written. */
static inline int32_t *rs_step_copy_arrays(const rs_step_inputs *in, int32_t *storage, int32_t **token_ids,
    int32_t **positions, int32_t **slot_mapping, int32_t **query_starts, int32_t **context_lengths,
    int32_t **page_table_starts, int32_t **page_ids, int32_t **logit_rows) {
    const int32_t zero = 0;
    int32_t n = in->sequence_count, pages = n > 0 ? in->page_table_starts[n] : 0;
    struct { int32_t **field; const int32_t *source; int32_t length; } arrays[8] = {
        { token_ids, in->token_ids, in->token_count },
        { positions, in->positions, in->token_count },
        { slot_mapping, in->slot_mapping, in->token_count },
        { context_lengths, in->context_lengths, n },
        { page_ids, in->page_ids, pages },
        { logit_rows, in->logit_rows, in->logit_row_count },
        { query_starts, n > 0 ? in->query_starts : &zero, n + 1 },
        { page_table_starts, n > 0 ? in->page_table_starts : &zero, n + 1 },
    };
    int32_t *next = storage;
    for (int i = 0; i < 8; i++) {
        *arrays[i].field = next;
        if (arrays[i].length > 0) memcpy(next, arrays[i].source, (size_t)arrays[i].length * sizeof(int32_t));
        next += arrays[i].length;
    }
    return next;
}

/* Each of `count` values lies in [0, limit); the message names the first that does not as
 * "name[i] is v, outside <owner>'s <limit> <unit>". The op checks below are this. */
static inline rs_status rs_check_indices(const char *op, const char *name, const int32_t *values, int32_t count,
    int64_t limit, const char *owner, const char *unit, char *message, size_t capacity) {
    for (int32_t i = 0; i < count; i++)
        if (values[i] < 0 || values[i] >= limit)
            return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: %s[%d] is %d, outside %s's %"
                PRId64 " %s", op, name, i, values[i], owner, limit, unit);
    return RS_OK;
}

/* The step values an op reads, against its operands: by the op when it is called, and by replay
 * (RS_HOOK_STEP_CAPTURE) against the step a recorded op will then read. */

/* embedding: every token id is a row of the table. */
static inline rs_status rs_check_token_ids(const char *op, const int32_t *token_ids, int32_t token_count,
    int32_t table_rows, char *message, size_t capacity) {
    return rs_check_indices(op, "token_ids", token_ids, token_count, table_rows, "the table", "rows", message,
        capacity);
}

/* store_kv: every slot is one of the cache's page_count · page_size. */
static inline rs_status rs_check_slots(const char *op, const int32_t *slot_mapping, int32_t token_count,
    int64_t slot_count, char *message, size_t capacity) {
    return rs_check_indices(op, "slot_mapping", slot_mapping, token_count, slot_count, "the cache", "slots", message,
        capacity);
}

/* gather_rows: every logit row is a row of x. */
static inline rs_status rs_check_logit_rows(const char *op, const int32_t *logit_rows, int32_t logit_row_count,
    int32_t x_rows, char *message, size_t capacity) {
    return rs_check_indices(op, "logit_rows", logit_rows, logit_row_count, x_rows, "x", "rows", message, capacity);
}

/* attention: every sequence with rows has the pages its context needs, each inside the cache
 * `spec` describes. The arrays are a checked step's (rs_check_step_inputs). */
static inline rs_status rs_check_pages(const char *op, int32_t sequence_count, const int32_t *query_starts,
    const int32_t *context_lengths, const int32_t *page_table_starts, const int32_t *page_ids,
    const rs_kv_cache_spec *spec, char *message, size_t capacity) {
    for (int32_t q = 0; q < sequence_count; q++) {
        if (query_starts[q + 1] == query_starts[q]) continue; /* no rows: reads nothing */
        int32_t context = context_lengths[q], table = page_table_starts[q + 1] - page_table_starts[q];
        int64_t needed = ((int64_t)context + spec->page_size - 1) / spec->page_size;
        if (needed > table)
            return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: sequence %d has a context of %d "
                "tokens, which needs %" PRId64 " pages of %d, but its page table has %d", op, q, context, needed,
                spec->page_size, table);
        for (int64_t p = 0; p < needed; p++) {
            int32_t id = page_ids[page_table_starts[q] + p];
            if (id < 0 || id >= spec->page_count)
                return rs_check_fail(message, capacity, RS_ERROR_INVALID_ARGUMENT, "%s: page %" PRId64 " of sequence "
                    "%d is page id %d, outside the cache's %d pages", op, p, q, id, spec->page_count);
        }
    }
    return RS_OK;
}

#endif /* RADIXSERVE_BACKEND_CHECKS_H */
