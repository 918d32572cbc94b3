import Backends

/// A backend that passes every call to `base`: the base class of test devices that change one
/// thing about a real backend (its capabilities, one faulty op) and forward the rest.
open class ForwardingBackend: ComputeBackend {
    public let base: any ComputeBackend

    public init(base: any ComputeBackend) {
        self.base = base
    }

    open var device: any ComputeDevice { base.device }
    open var threadCount: Int { base.threadCount }
    open var hostTransfers: HostTransferCounter? { base.hostTransfers }
    open func allocate(byteCount: Int, usage: BufferUsage) throws -> any DeviceBuffer {
        try base.allocate(byteCount: byteCount, usage: usage)
    }
    open func makeWeightBuffer(copying bytes: UnsafeRawBufferPointer, owner: AnyObject?) throws -> any DeviceBuffer {
        try base.makeWeightBuffer(copying: bytes, owner: owner)
    }
    open func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) { base.upload(bytes, to: tensor) }
    open func download(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) { base.download(tensor, into: bytes) }
    open func beginStep(_ inputs: StepInputs) throws { try base.beginStep(inputs) }
    open func endStep() throws { try base.endStep() }
    open func embedding(table: Tensor, out: Tensor) { base.embedding(table: table, out: out) }
    open func prepareMatmulWeight(_ weight: Tensor) throws -> Tensor { try base.prepareMatmulWeight(weight) }
    open func enableWeightQuantization(_ scheme: WeightQuantization) throws { try base.enableWeightQuantization(scheme) }
    open var weightQuantization: WeightQuantization { base.weightQuantization }
    open func matmul(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
        base.matmul(x, weight: weight, bias: bias, out: out)
    }
    open func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, out: Tensor) {
        base.rmsNorm(x, weight: weight, epsilon: epsilon, out: out)
    }
    open func ropeTable(inverseFrequencies: [Float], scale: Float, out: Tensor) {
        base.ropeTable(inverseFrequencies: inverseFrequencies, scale: scale, out: out)
    }
    open func rope(_ x: Tensor, table: Tensor, headDim: Int) { base.rope(x, table: table, headDim: headDim) }
    open func kvCacheBytesPerPage(_ spec: KVCacheSpec) throws -> Int { try base.kvCacheBytesPerPage(spec) }
    open func makeKVCache(_ spec: KVCacheSpec) throws -> any KVCacheStorage { try base.makeKVCache(spec) }
    open func storeKV(key: Tensor, value: Tensor, cache: any KVCacheStorage, layer: Int) {
        base.storeKV(key: key, value: value, cache: cache, layer: layer)
    }
    open func attention(query: Tensor, cache: any KVCacheStorage, layer: Int, scale: Float, out: Tensor) {
        base.attention(query: query, cache: cache, layer: layer, scale: scale, out: out)
    }
    open func siluMul(_ x: Tensor, out: Tensor) { base.siluMul(x, out: out) }
    open func add(_ x: Tensor, _ y: Tensor, out: Tensor) { base.add(x, y, out: out) }
    open func gatherRows(_ x: Tensor, out: Tensor) { base.gatherRows(x, out: out) }
    open func synchronize() { base.synchronize() }
    open func argmax(_ logits: Tensor, into ids: UnsafeMutableBufferPointer<Int32>) throws {
        try base.argmax(logits, into: ids)
    }
    open func topK(
        _ logits: Tensor, k: Int, ids: UnsafeMutableBufferPointer<Int32>, values: UnsafeMutableBufferPointer<Float>
    ) throws {
        try base.topK(logits, k: k, ids: ids, values: values)
    }
    open func rmsNormMatmul(_ x: Tensor, normWeight: Tensor, epsilon: Float, weight: Tensor, bias: Tensor?, out: Tensor) {
        base.rmsNormMatmul(x, normWeight: normWeight, epsilon: epsilon, weight: weight, bias: bias, out: out)
    }
    open func makeCommunicatorID() throws -> [UInt8] { try base.makeCommunicatorID() }
    open func makeCommunicator(id: [UInt8], rank: Int, worldSize: Int) throws -> any DeviceCommunicator {
        try base.makeCommunicator(id: id, rank: rank, worldSize: worldSize)
    }
    open func beginCapture() throws { try base.beginCapture() }
    open func endCapture() throws -> any CapturedStep { try base.endCapture() }
    open func replay(_ step: any CapturedStep) throws { try base.replay(step) }
}
