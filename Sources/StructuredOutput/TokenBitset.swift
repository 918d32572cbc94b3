// RadixServe: a set of token ids as bits.

/// A fixed-size set of token ids, 64 per word. A value type over a copy-on-write array, so
/// handing out a cached mask copies nothing.
public struct TokenBitset: Hashable, Sendable {
    /// The bits; id `i` is bit `i % 64` of word `i / 64`.
    public private(set) var words: [UInt64]
    /// Number of ids the set can hold.
    public let size: Int

    /// An empty set over ids `0..<size`.
    public init(size: Int) {
        self.size = size
        words = [UInt64](repeating: 0, count: (size + 63) / 64)
    }

    /// Whether `id` is a member (false outside `0..<size`).
    @inline(__always)
    public func contains(_ id: Int) -> Bool {
        guard id >= 0 && id < size else { return false }
        return words[id >> 6] & (1 << UInt64(id & 63)) != 0
    }

    /// Adds `id` (in `0..<size`).
    @inline(__always)
    public mutating func insert(_ id: Int) {
        words[id >> 6] |= 1 << UInt64(id & 63)
    }

    /// Whether no id is a member.
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// Number of members.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
}
