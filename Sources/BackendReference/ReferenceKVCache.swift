import Backends

/// The reference backend's KV cache: f32 only, in the plainest layout, token-major:
/// `[layer][slot][kvHead][headDim]` for keys and the same for values, so the keys of absolute
/// slot `s` (= page × pageSize + offset) of layer `l` are the `kvHeads × headDim` floats from
/// element `(l × slotCount + s) × kvHeads × headDim`. (The CPU backend stores pages head-major
/// instead; core never sees either.)
final class ReferenceKVCache: KVCacheStorage {
    let spec: KVCacheSpec
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>
    private let keyBuffer: HostBuffer
    private let valueBuffer: HostBuffer

    /// Bytes of one page: f32 keys and values of every layer.
    static func bytesPerPage(_ spec: KVCacheSpec) -> Int { 2 * spec.elementsPerPage * MemoryLayout<Float>.size }

    init(_ spec: KVCacheSpec) {
        precondition(spec.dtype == .f32 && spec.pageCount > 0 && spec.pageSize > 0, "reference KV cache is f32")
        self.spec = spec
        let bytes = spec.elementsPerPage * spec.pageCount * MemoryLayout<Float>.size
        keyBuffer = HostBuffer(byteCount: bytes, usage: .kvCache)
        valueBuffer = HostBuffer(byteCount: bytes, usage: .kvCache)
        keys = keyBuffer.hostAddress!.assumingMemoryBound(to: Float.self)
        values = valueBuffer.hostAddress!.assumingMemoryBound(to: Float.self)
    }

    var bytesPerPage: Int { Self.bytesPerPage(spec) }

    /// Element index of feature 0 of KV head `head` at absolute `slot` of `layer`.
    func index(layer: Int, slot: Int, head: Int) -> Int {
        precondition(slot >= 0 && slot < spec.slotCount, "slot \(slot) outside the cache of \(spec.slotCount) slots")
        return ((layer * spec.slotCount + slot) * spec.kvHeadCount + head) * spec.headDim
    }
}
