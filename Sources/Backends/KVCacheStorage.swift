/// A paged key/value cache that a backend allocated in its own layout and dtype
/// (``ComputeBackend/makeKVCache(_:)``).
///
/// Ownership: core holds the cache and hands it back to the backend that made it, in
/// ``ComputeBackend/storeKV(key:value:cache:layer:)`` and
/// ``ComputeBackend/attention(query:cache:layer:scale:out:)``; it never reads the cache's
/// memory and knows only page ids and slots. Passing a cache to another backend is a programmer
/// error (backends check with a precondition). Not thread-safe: used on the backend's thread.
public protocol KVCacheStorage: AnyObject {
    /// The geometry and dtype the cache was made with.
    var spec: KVCacheSpec { get }
    /// Bytes one page takes on the device: keys and values of every layer, padding included. The
    /// same value as ``ComputeBackend/kvCacheBytesPerPage(_:)`` for ``spec``.
    var bytesPerPage: Int { get }
}

extension KVCacheStorage {
    /// Bytes of the whole cache.
    public var byteCount: Int { bytesPerPage * spec.pageCount }
}
