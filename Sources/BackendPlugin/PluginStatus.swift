// RadixServe: C ABI values (statuses, dtypes, capabilities) as the Swift contract's types.

import Backends
import CBackendABI

/// Conversions between the C ABI's values and ``Backends``' types.
enum PluginStatus {
    /// The ``BackendError`` code of a failed status.
    static func code(_ status: rs_status) -> BackendError.Code {
        switch status {
        case RS_ERROR_OUT_OF_MEMORY: .outOfMemory
        case RS_ERROR_UNSUPPORTED: .unsupportedOp
        case RS_ERROR_INVALID_ARGUMENT: .invalidArgument
        default: .deviceFailure
        }
    }

    /// The enumerator's name, for messages.
    static func name(_ status: rs_status) -> String {
        switch status {
        case RS_OK: "RS_OK"
        case RS_ERROR_INVALID_ARGUMENT: "RS_ERROR_INVALID_ARGUMENT"
        case RS_ERROR_OUT_OF_MEMORY: "RS_ERROR_OUT_OF_MEMORY"
        case RS_ERROR_UNSUPPORTED: "RS_ERROR_UNSUPPORTED"
        case RS_ERROR_DEVICE: "RS_ERROR_DEVICE"
        default: "status \(status.rawValue)"
        }
    }

    static func dtype(_ dtype: DType) -> rs_dtype {
        switch dtype {
        case .f32: RS_DTYPE_F32
        case .f16: RS_DTYPE_F16
        case .bf16: RS_DTYPE_BF16
        }
    }

    /// The dtypes of a `1 << rs_dtype` mask.
    static func dtypes(_ mask: UInt32) -> Set<DType> {
        Set(DType.allCases.filter { mask & (1 << dtype($0).rawValue) != 0 })
    }

    static func capabilities(_ raw: rs_capabilities) -> DeviceCapabilities {
        DeviceCapabilities(
            weightDTypes: dtypes(raw.weight_dtypes), kvCacheDTypes: dtypes(raw.kv_cache_dtypes),
            pageSizes: raw.page_size_multiple <= 1 ? .any : .multiples(of: Int(raw.page_size_multiple)),
            sharesHostMemory: raw.shares_host_memory != 0, hasHostVisibleBuffers: raw.host_visible_buffers != 0,
            maxThreads: max(1, Int(raw.max_threads)), maxRowsPerStep: raw.max_rows_per_step > 0 ? Int(raw.max_rows_per_step) : nil,
            hooks: OptionalHooks(rawValue: raw.hooks), maxTopK: Int(max(0, raw.max_top_k)))
    }

    static func kind(_ kind: rs_device_kind) -> DeviceKind {
        switch kind {
        case RS_DEVICE_CPU: .cpu
        case RS_DEVICE_GPU: .gpu
        default: .accelerator
        }
    }

    static func spec(_ spec: KVCacheSpec) -> rs_kv_cache_spec {
        rs_kv_cache_spec(
            layer_count: Int32(spec.layerCount), kv_head_count: Int32(spec.kvHeadCount), head_dim: Int32(spec.headDim),
            page_size: Int32(spec.pageSize), page_count: Int32(spec.pageCount), dtype: dtype(spec.dtype))
    }
}
