// RadixServe: a plugin's execution stream and the handles that live on it.

import Backends
import CBackendABI

/// One `rs_backend` of a plugin. Buffers and KV caches keep their stream alive, so it is
/// destroyed (after its queued work) only once nothing made on it is left.
final class PluginStream {
    let library: PluginLibrary
    let handle: OpaquePointer
    /// The first failure of a call that cannot throw (ops, uploads, downloads), reported by the
    /// next ``PluginBackend/beginStep(_:)`` or ``PluginBackend/endStep()``.
    var pendingError: BackendError?

    init(library: PluginLibrary, threads: Int) throws {
        self.library = library
        var handle: OpaquePointer?
        let status = library.api.create_backend(Int32(threads), &handle)
        guard status == RS_OK, let handle else {
            throw BackendError(
                PluginStatus.code(status),
                "backend plugin \(library.name): create_backend failed: \(library.lastError(nil, status: status))")
        }
        self.handle = handle
    }

    deinit {
        library.api.destroy_backend(handle)
    }

    /// The error of `status` from `call`, or nil when it succeeded.
    func error(_ status: rs_status, _ call: String) -> BackendError? {
        guard status != RS_OK else { return nil }
        return BackendError(
            PluginStatus.code(status), "backend plugin \(library.name): \(call) failed: \(library.lastError(handle, status: status))")
    }

    /// Throws the error of `status`, if any.
    func check(_ status: rs_status, _ call: String) throws {
        if let error = error(status, call) { throw error }
    }

    /// Keeps the first failure of a call that cannot throw.
    func record(_ status: rs_status, _ call: String) {
        if pendingError == nil, let error = error(status, call) { pendingError = error }
    }

    /// Throws and clears the kept failure.
    func throwPending() throws {
        if let error = pendingError {
            pendingError = nil
            throw error
        }
    }
}

/// Device memory of a plugin. The host never dereferences it unless the plugin returns a host
/// address for it.
final class PluginBuffer: DeviceBuffer {
    let stream: PluginStream
    let handle: OpaquePointer
    let byteCount: Int
    let usage: BufferUsage
    let hostAddress: UnsafeMutableRawPointer?

    init(stream: PluginStream, handle: OpaquePointer, byteCount: Int, usage: BufferUsage) {
        self.stream = stream
        self.handle = handle
        self.byteCount = byteCount
        self.usage = usage
        hostAddress = stream.library.api.host_address?(stream.handle, handle)
    }

    deinit {
        stream.library.api.release_buffer(stream.handle, handle)
    }
}

/// A paged KV cache in the plugin's own layout.
final class PluginKVCache: KVCacheStorage {
    let stream: PluginStream
    let handle: OpaquePointer
    let spec: KVCacheSpec
    let bytesPerPage: Int

    init(stream: PluginStream, handle: OpaquePointer, spec: KVCacheSpec, bytesPerPage: Int) {
        self.stream = stream
        self.handle = handle
        self.spec = spec
        self.bytesPerPage = bytesPerPage
    }

    deinit {
        stream.library.api.release_kv_cache(stream.handle, handle)
    }
}
