// RadixServe: a fixed-size bit set of worker slots, the value type of the prefix index.

/// A set of worker slots `0..<WorkerSet.capacity`, stored inline in four words (no allocation).
///
/// Slots are dense indices the ``GlobalPrefixIndex`` assigns to workers; they are reused after a
/// worker is purged. All operations are O(1).
package struct WorkerSet: Hashable, Sendable {
    /// The largest number of workers one index can hold.
    package static let capacity = 256

    @usableFromInline var w0: UInt64 = 0
    @usableFromInline var w1: UInt64 = 0
    @usableFromInline var w2: UInt64 = 0
    @usableFromInline var w3: UInt64 = 0

    /// The empty set.
    @inlinable package init() {}

    /// Whether no slot is set.
    @inlinable package var isEmpty: Bool { (w0 | w1 | w2 | w3) == 0 }

    /// The number of slots set.
    @inlinable package var count: Int {
        w0.nonzeroBitCount + w1.nonzeroBitCount + w2.nonzeroBitCount + w3.nonzeroBitCount
    }

    @inlinable func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: w0
        case 1: w1
        case 2: w2
        default: w3
        }
    }

    @inlinable mutating func update(_ index: Int, _ transform: (UInt64) -> UInt64) {
        switch index {
        case 0: w0 = transform(w0)
        case 1: w1 = transform(w1)
        case 2: w2 = transform(w2)
        default: w3 = transform(w3)
        }
    }

    /// Whether `slot` is set. Precondition (debug): `0 <= slot < capacity`.
    @inlinable package func contains(_ slot: Int) -> Bool {
        assert(slot >= 0 && slot < Self.capacity)
        return word(slot >> 6) & (1 << UInt64(slot & 63)) != 0
    }

    /// Sets `slot`.
    @inlinable package mutating func insert(_ slot: Int) {
        assert(slot >= 0 && slot < Self.capacity)
        update(slot >> 6) { $0 | (1 << UInt64(slot & 63)) }
    }

    /// Clears `slot`.
    @inlinable package mutating func remove(_ slot: Int) {
        assert(slot >= 0 && slot < Self.capacity)
        update(slot >> 6) { $0 & ~(1 << UInt64(slot & 63)) }
    }

    /// Slots in both sets.
    @inlinable package func intersection(_ other: Self) -> Self {
        var result = self
        result.w0 &= other.w0
        result.w1 &= other.w1
        result.w2 &= other.w2
        result.w3 &= other.w3
        return result
    }

    /// Slots in either set.
    @inlinable package func union(_ other: Self) -> Self {
        var result = self
        result.w0 |= other.w0
        result.w1 |= other.w1
        result.w2 |= other.w2
        result.w3 |= other.w3
        return result
    }

    /// Slots in `self` but not in `other`.
    @inlinable package func subtracting(_ other: Self) -> Self {
        var result = self
        result.w0 &= ~other.w0
        result.w1 &= ~other.w1
        result.w2 &= ~other.w2
        result.w3 &= ~other.w3
        return result
    }

    /// Whether every slot of `other` is in `self`.
    @inlinable package func isSuperset(of other: Self) -> Bool { other.subtracting(self).isEmpty }

    /// Calls `body` with each set slot in increasing order.
    @inlinable package func forEach(_ body: (Int) throws -> Void) rethrows {
        for index in 0..<4 {
            var bits = word(index)
            while bits != 0 {
                try body(index << 6 | bits.trailingZeroBitCount)
                bits &= bits &- 1
            }
        }
    }

    /// The set slots in increasing order.
    package var slots: [Int] {
        var result: [Int] = []
        forEach { result.append($0) }
        return result
    }
}
