// RadixServe: an insertion-ordered string-keyed dictionary for template values.

/// A dictionary with string keys that remembers insertion order, like a Python `dict`.
///
/// Lookups are O(1); replacing a key keeps its original position; removal is O(n).
public struct JinjaDictionary: Hashable, Sendable, Sequence {
    /// Keys in insertion order.
    public private(set) var keys: [String] = []
    private var storage: [String: JinjaValue] = [:]

    /// Creates an empty dictionary.
    public init() {}

    /// Creates a dictionary from key/value pairs; a repeated key keeps its first position and last value.
    public init(_ pairs: [(String, JinjaValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// The number of entries.
    public var count: Int { keys.count }
    /// Whether the dictionary has no entries.
    public var isEmpty: Bool { keys.isEmpty }

    /// The value for `key`, or `nil`. Assigning `nil` removes the key.
    public subscript(key: String) -> JinjaValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// The values in key order.
    public var values: [JinjaValue] { keys.map { storage[$0]! } }

    /// Iterates `(key, value)` pairs in insertion order.
    public func makeIterator() -> some IteratorProtocol<(key: String, value: JinjaValue)> {
        var index = 0
        let keys = keys
        let storage = storage
        return AnyIterator {
            guard index < keys.count else { return nil }
            defer { index += 1 }
            return (keys[index], storage[keys[index]]!)
        }
    }

    /// Equality ignores order, as Python's dict equality does.
    public static func == (lhs: JinjaDictionary, rhs: JinjaDictionary) -> Bool { lhs.storage == rhs.storage }

    /// Hashes the contents without regard to order.
    public func hash(into hasher: inout Hasher) { hasher.combine(storage) }
}
