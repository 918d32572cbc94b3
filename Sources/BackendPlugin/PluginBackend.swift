// RadixServe: the Swift contract (ComputeBackend) over a plugin's C function table.

import Backends
import CBackendABI

/// A plugin's execution stream as a ``ComputeBackend``. Each op becomes one call of the plugin's
/// table; ops cannot throw in the Swift contract, so a failing op's error is kept and thrown by the
/// next ``beginStep(_:)`` or ``endStep()`` (as a device that queues ops reports them).
public final class PluginBackend: ComputeBackend {
    public let pluginDevice: PluginDevice
    let stream: PluginStream
    public let threadCount: Int
    /// Bytes handed to and read from the plugin through this stream's calls.
    private let transfers = HostTransferCounter()
    public var hostTransfers: HostTransferCounter? { transfers }

    init(device: PluginDevice, threads: Int) throws {
        pluginDevice = device
        stream = try PluginStream(library: device.library, threads: threads)
        threadCount = max(threads, 1)
    }

    public var device: any ComputeDevice { pluginDevice }
    private var api: rs_plugin_api { stream.library.api }
    private var handle: OpaquePointer { stream.handle }

    public func allocate(byteCount: Int, usage: BufferUsage) throws -> any DeviceBuffer {
        guard byteCount >= 0 else { throw BackendError(.invalidArgument, "negative allocation of \(byteCount) bytes") }
        var buffer: OpaquePointer?
        try stream.check(api.allocate(handle, UInt64(byteCount), Self.usage(usage), &buffer), "allocate(\(byteCount) bytes)")
        return PluginBuffer(stream: stream, handle: buffer!, byteCount: byteCount, usage: usage)
    }

    public func makeWeightBuffer(copying bytes: UnsafeRawBufferPointer, owner: AnyObject?) throws -> any DeviceBuffer {
        let buffer = try allocate(byteCount: bytes.count, usage: .weights) as! PluginBuffer
        if let base = bytes.baseAddress {
            try stream.check(api.upload(handle, buffer.handle, 0, base, UInt64(bytes.count)), "upload of weights")
            transfers.add(toDevice: bytes.count)
        }
        return buffer
    }

    public func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) {
        precondition(tensor.isContiguous && bytes.count == tensor.elementCount * tensor.dtype.byteSize, "upload size")
        guard let base = bytes.baseAddress else { return }
        transfers.add(toDevice: bytes.count)
        stream.record(api.upload(handle, own(tensor.buffer).handle, UInt64(tensor.byteOffset), base, UInt64(bytes.count)), "upload")
    }

    public func download(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) {
        precondition(tensor.dtype == .f32 && bytes.count == tensor.elementCount * 4, "download size")
        let buffer = own(tensor.buffer).handle
        let rowBytes = tensor.columns * 4
        if tensor.isContiguous {
            return download(buffer, offset: tensor.byteOffset, into: bytes.baseAddress!, count: bytes.count)
        }
        for r in 0..<tensor.rows {
            download(buffer, offset: tensor.byteOffset + r * tensor.rowStride * 4, into: bytes.baseAddress! + r * rowBytes, count: rowBytes)
        }
    }

    private func download(_ buffer: OpaquePointer, offset: Int, into target: UnsafeMutableRawPointer, count: Int) {
        let status = api.download(handle, buffer, UInt64(offset), target, UInt64(count))
        transfers.add(toHost: count)
        if status != RS_OK { target.initializeMemory(as: UInt8.self, repeating: 0, count: count) }
        stream.record(status, "download")
    }

    public func prepareMatmulWeight(_ weight: Tensor) throws -> Tensor {
        guard let prepare = api.prepare_matmul_weight else { return weight }
        var prepared: OpaquePointer?
        var raw = tensor(weight)
        try stream.check(prepare(handle, &raw, &prepared), "prepare_matmul_weight(\(weight.rows)×\(weight.columns) \(weight.dtype))")
        let buffer = PluginBuffer(
            stream: stream, handle: prepared!, byteCount: weight.elementCount * weight.dtype.byteSize, usage: .weights)
        return Tensor(buffer: buffer, dtype: weight.dtype, rows: weight.rows, columns: weight.columns)
    }

    // MARK: KV cache

    public func kvCacheBytesPerPage(_ spec: KVCacheSpec) throws -> Int {
        try pluginDevice.checkKVCache(spec)
        var raw = PluginStatus.spec(spec)
        var bytes: UInt64 = 0
        try stream.check(api.kv_cache_bytes_per_page(handle, &raw, &bytes), "kv_cache_bytes_per_page(\(spec))")
        return Int(bytes)
    }

    public func makeKVCache(_ spec: KVCacheSpec) throws -> any KVCacheStorage {
        let bytesPerPage = try kvCacheBytesPerPage(spec)
        var raw = PluginStatus.spec(spec)
        var cache: OpaquePointer?
        try stream.check(api.create_kv_cache(handle, &raw, &cache), "create_kv_cache(\(spec))")
        return PluginKVCache(stream: stream, handle: cache!, spec: spec, bytesPerPage: bytesPerPage)
    }

    // MARK: One step

    public func beginStep(_ inputs: StepInputs) throws {
        try stream.throwPending()
        let a = inputs.attention
        guard inputs.positions.count == inputs.tokenCount && inputs.slotMapping.count == inputs.tokenCount,
            a.queryStarts.count == a.sequenceCount + 1, a.pageTableStarts.count == a.sequenceCount + 1,
            Int(a.pageTableStarts.last ?? 0) <= a.pageIDs.count
        else {
            throw BackendError(
                .invalidArgument,
                "step inputs of \(inputs.tokenCount) tokens have \(inputs.positions.count) positions, \(inputs.slotMapping.count) slots, "
                    + "\(a.queryStarts.count) query starts and \(a.pageTableStarts.count) page-table starts for \(a.sequenceCount) sequences")
        }
        let status = inputs.tokenIDs.withUnsafeBufferPointer { tokens in
            inputs.positions.withUnsafeBufferPointer { positions in
                inputs.slotMapping.withUnsafeBufferPointer { slots in
                    a.queryStarts.withUnsafeBufferPointer { queryStarts in
                        a.contextLengths.withUnsafeBufferPointer { contexts in
                            a.pageTableStarts.withUnsafeBufferPointer { tableStarts in
                                a.pageIDs.withUnsafeBufferPointer { pages in
                                    inputs.logitRows.withUnsafeBufferPointer { logitRows in
                                        var raw = rs_step_inputs(
                                            token_count: Int32(tokens.count), token_ids: tokens.baseAddress,
                                            positions: positions.baseAddress, slot_mapping: slots.baseAddress,
                                            sequence_count: Int32(a.sequenceCount), query_starts: queryStarts.baseAddress,
                                            context_lengths: contexts.baseAddress, page_table_starts: tableStarts.baseAddress,
                                            page_ids: pages.baseAddress, logit_row_count: Int32(logitRows.count),
                                            logit_rows: logitRows.baseAddress)
                                        return api.begin_step(handle, &raw)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        transfers.add(toDevice: 4 * (3 * inputs.tokenCount + a.contextLengths.count + a.queryStarts.count
            + a.pageTableStarts.count + Int(a.pageTableStarts.last ?? 0) + inputs.logitRows.count))
        try stream.check(status, "begin_step(\(inputs.tokenCount) tokens, \(a.sequenceCount) sequences)")
    }

    public func endStep() throws {
        let status = api.end_step(handle)
        try stream.throwPending()
        try stream.check(status, "end_step")
    }

    public func embedding(table: Tensor, out: Tensor) {
        var (t, o) = (tensor(table), tensor(out))
        stream.record(api.embedding(handle, &t, &o), "embedding")
    }

    public func matmul(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
        var (a, w, o) = (tensor(x), tensor(weight), tensor(out))
        let status: rs_status
        if let bias {
            var b = tensor(bias)
            status = api.matmul(handle, &a, &w, &b, &o)
        } else {
            status = api.matmul(handle, &a, &w, nil, &o)
        }
        stream.record(status, "matmul")
    }

    public func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, out: Tensor) {
        var (a, w, o) = (tensor(x), tensor(weight), tensor(out))
        stream.record(api.rms_norm(handle, &a, &w, epsilon, &o), "rms_norm")
    }

    public func ropeTable(inverseFrequencies: [Float], scale: Float, out: Tensor) {
        var o = tensor(out)
        let status = inverseFrequencies.withUnsafeBufferPointer {
            api.rope_table(handle, $0.baseAddress, Int32($0.count), scale, &o)
        }
        transfers.add(toDevice: 4 * inverseFrequencies.count)
        stream.record(status, "rope_table")
    }

    public func rope(_ x: Tensor, table: Tensor, headDim: Int) {
        var (a, t) = (tensor(x), tensor(table))
        stream.record(api.rope(handle, &a, &t, Int32(headDim)), "rope")
    }

    public func storeKV(key: Tensor, value: Tensor, cache: any KVCacheStorage, layer: Int) {
        var (k, v) = (tensor(key), tensor(value))
        stream.record(api.store_kv(handle, &k, &v, own(cache).handle, Int32(layer)), "store_kv")
    }

    public func attention(query: Tensor, cache: any KVCacheStorage, layer: Int, scale: Float, out: Tensor) {
        var (q, o) = (tensor(query), tensor(out))
        stream.record(api.attention(handle, &q, own(cache).handle, Int32(layer), scale, &o), "attention")
    }

    public func siluMul(_ x: Tensor, out: Tensor) {
        var (a, o) = (tensor(x), tensor(out))
        stream.record(api.silu_mul(handle, &a, &o), "silu_mul")
    }

    public func add(_ x: Tensor, _ y: Tensor, out: Tensor) {
        var (a, b, o) = (tensor(x), tensor(y), tensor(out))
        stream.record(api.add(handle, &a, &b, &o), "add")
    }

    public func gatherRows(_ x: Tensor, out: Tensor) {
        var (a, o) = (tensor(x), tensor(out))
        stream.record(api.gather_rows(handle, &a, &o), "gather_rows")
    }

    public func synchronize() {
        stream.record(api.synchronize(handle), "synchronize")
    }

    // MARK: Optional hooks

    public func argmax(_ logits: Tensor, into ids: UnsafeMutableBufferPointer<Int32>) throws {
        guard device.capabilities.hooks.contains(.deviceArgmax), let argmax = api.argmax else {
            throw BackendError(.missingCapability, "backend plugin \(pluginDevice.name) has no on-device argmax")
        }
        precondition(ids.count >= logits.rows, "argmax output")
        var l = tensor(logits)
        try stream.check(argmax(handle, &l, ids.baseAddress), "argmax")
        transfers.add(toHost: 4 * logits.rows)
        try stream.throwPending()
    }

    public func topK(
        _ logits: Tensor, k: Int, ids: UnsafeMutableBufferPointer<Int32>, values: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard device.capabilities.hooks.contains(.deviceTopK), let topK = api.top_k else {
            throw BackendError(.missingCapability, "backend plugin \(pluginDevice.name) has no on-device top-k")
        }
        precondition(ids.count >= logits.rows * k && values.count >= logits.rows * k, "top-k output")
        var l = tensor(logits)
        try stream.check(topK(handle, &l, Int32(k), ids.baseAddress, values.baseAddress), "top_k(k: \(k))")
        transfers.add(toHost: 8 * logits.rows * k)
        try stream.throwPending()
    }

    // MARK: Handles

    func tensor(_ t: Tensor) -> rs_tensor {
        rs_tensor(
            buffer: own(t.buffer).handle, byte_offset: UInt64(t.byteOffset), dtype: PluginStatus.dtype(t.dtype),
            rows: Int32(t.rows), columns: Int32(t.columns), row_stride: Int32(t.rowStride))
    }

    private func own(_ buffer: any DeviceBuffer) -> PluginBuffer {
        guard let buffer = buffer as? PluginBuffer, buffer.stream === stream else {
            preconditionFailure("a buffer of another backend was passed to plugin \(pluginDevice.name)")
        }
        return buffer
    }

    private func own(_ cache: any KVCacheStorage) -> PluginKVCache {
        guard let cache = cache as? PluginKVCache, cache.stream === stream else {
            preconditionFailure("a KV cache of another backend was passed to plugin \(pluginDevice.name)")
        }
        return cache
    }

    private static func usage(_ usage: BufferUsage) -> rs_buffer_usage {
        switch usage {
        case .weights: RS_USAGE_WEIGHTS
        case .kvCache: RS_USAGE_KV_CACHE
        case .compute: RS_USAGE_COMPUTE
        }
    }
}
