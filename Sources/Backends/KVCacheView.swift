/// The paged key/value cache of one model replica (or one tensor-parallel shard of it).
///
/// Layout of both `key` and `value` (f32): `[layer][page][kvHead][slot][headDim]`, so the keys of
/// one head in one page are a contiguous `pageSize × headDim` block that attention reads in order.
/// A token at absolute slot `s` (= page × pageSize + offset) of layer `l`, head `h` lives at element
/// `(((l × pageCount + page) × kvHeadCount + h) × pageSize + offset) × headDim`.
public struct KVCacheView {
    public let key: any DeviceBuffer
    public let value: any DeviceBuffer
    public let layerCount: Int
    public let pageCount: Int
    public let pageSize: Int
    public let kvHeadCount: Int
    public let headDim: Int

    public init(
        key: any DeviceBuffer, value: any DeviceBuffer, layerCount: Int, pageCount: Int,
        pageSize: Int, kvHeadCount: Int, headDim: Int
    ) {
        let needed = Self.byteCount(
            layerCount: layerCount, pageCount: pageCount, pageSize: pageSize, kvHeadCount: kvHeadCount,
            headDim: headDim)
        precondition(key.byteCount >= needed && value.byteCount >= needed, "KV buffers too small for layout")
        self.key = key
        self.value = value
        self.layerCount = layerCount
        self.pageCount = pageCount
        self.pageSize = pageSize
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
    }

    /// Bytes of one of the two (key or value) buffers.
    public static func byteCount(layerCount: Int, pageCount: Int, pageSize: Int, kvHeadCount: Int, headDim: Int) -> Int {
        layerCount * pageCount * kvHeadCount * pageSize * headDim * MemoryLayout<Float>.size
    }

    /// Element offset of (layer, page, head, slot offset 0).
    @inlinable
    public func elementOffset(layer: Int, page: Int, head: Int) -> Int {
        (((layer &* pageCount &+ page) &* kvHeadCount &+ head) &* pageSize) &* headDim
    }
}
