// RadixServe: compiling output constraints, and the cache of compiled ones.

import ServingTypes

/// An ``ServingTypes/OutputConstraint`` as a cache key (the constraint itself: its kind and text).
public typealias OutputConstraintKey = OutputConstraint

/// Entry points of structured outputs.
public enum StructuredOutputs {
    /// Checks that `constraint` is inside the supported subset and compiles to a non-empty
    /// language, without a vocabulary (the router calls it to answer 400 early).
    /// - Throws: ``ConstraintError`` naming the unsupported keyword or construct.
    public static func validate(_ constraint: OutputConstraint) throws(ConstraintError) {
        let nfa = try ByteNFA(pattern(of: constraint))
        guard nfa.liveStart else { throw ConstraintError(emptyMessage(constraint)) }
    }

    /// Compiles `constraint` against `vocabulary`.
    /// - Throws: ``ConstraintError`` as ``validate(_:)`` does.
    public static func compile(_ constraint: OutputConstraint, vocabulary: TokenVocabulary) throws(ConstraintError) -> TokenConstraint {
        let nfa = try ByteNFA(pattern(of: constraint))
        guard nfa.liveStart else { throw ConstraintError(emptyMessage(constraint)) }
        return TokenConstraint(dfa: LazyDFA(nfa), vocabulary: vocabulary, source: constraint)
    }

    /// Whether `text` is a complete match of `constraint` (tests and tools; compiles each call).
    /// - Throws: ``ConstraintError`` as ``validate(_:)`` does.
    package static func matches(_ constraint: OutputConstraint, _ text: String) throws(ConstraintError) -> Bool {
        let dfa = LazyDFA(try ByteNFA(pattern(of: constraint)))
        var state = dfa.start
        for byte in text.utf8 where state >= 0 { state = dfa.step(state, byte) }
        return dfa.isAccepting(state)
    }

    static func pattern(of constraint: OutputConstraint) throws(ConstraintError) -> Pattern {
        switch constraint {
        case .jsonObject:
            return JSONGrammar.anyObject(depth: JSONSchemaCompiler.maxFreeFormDepth)
        case .jsonSchema(let text):
            return try JSONSchemaCompiler.compile(text)
        case .regex(let text):
            return try RegexParser.parse(text).pattern
        }
    }

    private static func emptyMessage(_ constraint: OutputConstraint) -> String {
        switch constraint {
        case .regex: "the regex matches no string"
        case .jsonSchema: "the JSON Schema allows no value (within the recursion bound of \(JSONSchemaCompiler.maxRefRecursion) for $ref)"
        case .jsonObject: "no JSON object is allowed"
        }
    }
}

/// Compiled constraints over one vocabulary, most recently used kept, at most ``capacity``.
///
/// Not thread-safe: owned by the engine thread (compiled constraints cache masks as they run).
public final class ConstraintCache {
    /// The vocabulary every constraint is compiled against.
    public let vocabulary: TokenVocabulary
    /// Most constraints kept.
    public let capacity: Int
    private var entries: [OutputConstraint: (constraint: TokenConstraint, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    /// Compilations since creation (a cache miss counter).
    public private(set) var compilationCount = 0

    /// Creates an empty cache.
    public init(vocabulary: TokenVocabulary, capacity: Int = 64) {
        precondition(capacity > 0)
        self.vocabulary = vocabulary
        self.capacity = capacity
    }

    /// The compiled `constraint`, from the cache or compiled now (evicting the least recently
    /// used one when full). O(1) on a hit; a miss costs the NFA construction.
    /// - Throws: ``ConstraintError`` when it does not compile (nothing is cached then).
    public func constraint(for constraint: OutputConstraint) throws(ConstraintError) -> TokenConstraint {
        clock += 1
        if let entry = entries[constraint] {
            entries[constraint] = (entry.constraint, clock)
            return entry.constraint
        }
        let compiled = try StructuredOutputs.compile(constraint, vocabulary: vocabulary)
        compilationCount += 1
        if entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            entries[oldest] = nil
        }
        entries[constraint] = (compiled, clock)
        return compiled
    }
}
