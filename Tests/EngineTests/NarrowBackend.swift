import BackendCatalog
import Backends

/// A device with narrower capabilities than the reference it computes with: to prove that the
/// model and engine paths read a device's capabilities, not its name or kind.
struct NarrowDevice: ComputeDevice {
    var capabilities: DeviceCapabilities
    var name: String { "narrow" }
    var kind: DeviceKind { .accelerator }
    func memoryInfo() -> (free: Int, total: Int) { HostMemory.info() }
    func supports(_ op: OpDescriptor) -> Bool { capabilities.weightDTypes.contains(op.weightDType) }
    func makeBackend(threads: Int) throws -> any ComputeBackend {
        NarrowBackend(device: self, base: try BackendCatalog.device(named: "reference").makeBackend(threads: 1))
    }
}

/// Forwards every op to `base`, reporting ``NarrowDevice`` as its device.
final class NarrowBackend: ComputeBackend {
    let narrow: NarrowDevice
    let base: any ComputeBackend

    init(device: NarrowDevice, base: any ComputeBackend) {
        narrow = device
        self.base = base
    }

    var device: any ComputeDevice { narrow }
    func allocate(byteCount: Int, usage: BufferUsage) throws -> any DeviceBuffer {
        try base.allocate(byteCount: byteCount, usage: usage)
    }
    func makeWeightBuffer(copying bytes: UnsafeRawBufferPointer, owner: AnyObject?) throws -> any DeviceBuffer {
        try base.makeWeightBuffer(copying: bytes, owner: owner)
    }
    func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) { base.upload(bytes, to: tensor) }
    func download(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) { base.download(tensor, into: bytes) }
    func beginStep(_ inputs: StepInputs) throws { try base.beginStep(inputs) }
    func endStep() throws { try base.endStep() }
    func embedding(table: Tensor, out: Tensor) { base.embedding(table: table, out: out) }
    func matmul(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) { base.matmul(x, weight: weight, bias: bias, out: out) }
    func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, out: Tensor) {
        base.rmsNorm(x, weight: weight, epsilon: epsilon, out: out)
    }
    func ropeTable(inverseFrequencies: [Float], scale: Float, out: Tensor) {
        base.ropeTable(inverseFrequencies: inverseFrequencies, scale: scale, out: out)
    }
    func rope(_ x: Tensor, table: Tensor, headDim: Int) { base.rope(x, table: table, headDim: headDim) }
    func kvCacheBytesPerPage(_ spec: KVCacheSpec) throws -> Int {
        try narrow.checkKVCache(spec)
        return try base.kvCacheBytesPerPage(spec)
    }
    func makeKVCache(_ spec: KVCacheSpec) throws -> any KVCacheStorage {
        try narrow.checkKVCache(spec)
        return try base.makeKVCache(spec)
    }
    func storeKV(key: Tensor, value: Tensor, cache: any KVCacheStorage, layer: Int) {
        base.storeKV(key: key, value: value, cache: cache, layer: layer)
    }
    func attention(query: Tensor, cache: any KVCacheStorage, layer: Int, scale: Float, out: Tensor) {
        base.attention(query: query, cache: cache, layer: layer, scale: scale, out: out)
    }
    func siluMul(_ x: Tensor, out: Tensor) { base.siluMul(x, out: out) }
    func add(_ x: Tensor, _ y: Tensor, out: Tensor) { base.add(x, y, out: out) }
    func gatherRows(_ x: Tensor, out: Tensor) { base.gatherRows(x, out: out) }
    func synchronize() { base.synchronize() }
    func argmax(_ logits: Tensor, into ids: UnsafeMutableBufferPointer<Int32>) throws { try base.argmax(logits, into: ids) }
    func topK(
        _ logits: Tensor, k: Int, ids: UnsafeMutableBufferPointer<Int32>, values: UnsafeMutableBufferPointer<Float>
    ) throws {
        try base.topK(logits, k: k, ids: ids, values: values)
    }
}
