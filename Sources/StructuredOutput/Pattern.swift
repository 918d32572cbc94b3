// RadixServe: the regular-language tree that regexes and JSON Schemas compile to.

/// A regular language over bytes. The regex parser and the schema compiler build it; ``ByteNFA``
/// turns it into an automaton. Lists and object members have cases of their own so the NFA holds
/// one copy of an item where plain regex operators would need two (`x(,x)*`), which keeps nested
/// JSON from doubling at every level.
indirect enum Pattern: Sendable {
    /// The empty string.
    case empty
    /// No string at all (an impossible branch; trimmed away).
    case nothing
    /// Exactly these bytes.
    case literal([UInt8])
    /// One byte in one of these ranges.
    case bytes([ClosedRange<UInt8>])
    /// One Unicode scalar of the set, UTF-8 encoded.
    case scalars(ScalarSet)
    /// Each part in turn.
    case sequence([Pattern])
    /// Any one alternative.
    case choice([Pattern])
    /// `body` repeated `min` to `max` times (`nil`: unbounded).
    case repetition(Pattern, min: Int, max: Int?)
    /// `min` to `max` items (`nil`: unbounded) with `separator` between consecutive ones.
    case list(item: Pattern, separator: Pattern, min: Int, max: Int?)
    /// Object members in order, each present or (when not required) absent, with `separator`
    /// between consecutive present ones.
    case members([Member], separator: Pattern)

    /// One object member of ``Pattern/members(_:separator:)``.
    struct Member: Sendable {
        var pattern: Pattern
        var isRequired: Bool
    }

    static func literal(_ text: String) -> Pattern { .literal(Array(text.utf8)) }

    static func optional(_ body: Pattern) -> Pattern { .repetition(body, min: 0, max: 1) }

    static func byte(_ value: UInt8) -> Pattern { .bytes([value...value]) }

    /// One of the bytes of `text` (ASCII).
    static func anyOf(_ text: String) -> Pattern { .bytes(text.utf8.map { $0...$0 }) }
}
