// RadixServe: the C target that carries include/radixserve/backend.h to Swift (BackendPlugin) and
// to plugins built in this repository. Checks, at compile time, the layout facts the header states.

#include "radixserve/backend.h"

_Static_assert(sizeof(rs_status) == 4, "rs_status is a 32-bit enum");
_Static_assert(sizeof(rs_dtype) == 4, "rs_dtype is a 32-bit enum");
_Static_assert(sizeof(rs_tensor) == 32, "rs_tensor: pointer, offset, dtype, rows, columns, stride");
_Static_assert(sizeof(rs_kv_cache_spec) == 24, "rs_kv_cache_spec: six 32-bit fields");
_Static_assert(RS_ABI_VERSION_MAJOR == 1, "this file states the layout of ABI version 1");
