// RadixServe: one compiled output constraint over one model vocabulary.
// Token masks from a byte DFA and a vocabulary trie, as in Outlines' index and llguidance's
// token-trie walk, built lazily per state.

/// A constraint compiled against a vocabulary: a byte DFA plus, per DFA state, the set of
/// tokens whose bytes keep the output inside the language (computed the first time the state is
/// reached by a scan of the vocabulary trie, then cached).
///
/// A state is an `Int32` id; ``initialState`` is the state of the empty output. Tokens never
/// lead to a dead end: the DFA is trimmed, so every allowed token leaves a state from which an
/// accepting state is reachable. Whether the vocabulary can spell that continuation is a
/// separate question (``allowsAnyToken(_:)``).
///
/// Not thread-safe: compile it anywhere, then confine it to one thread (the engine's).
public final class TokenConstraint {
    /// A DFA state id.
    public typealias State = Int32

    /// The vocabulary masks are over.
    public let vocabulary: TokenVocabulary
    /// The constraint this was compiled from.
    public let source: OutputConstraintKey
    private let dfa: LazyDFA
    private var masks: [State: TokenBitset] = [:]
    // Scratch of the trie scan: the DFA state at each depth.
    private var stateAtDepth: [State]

    /// Most cached masks; beyond it the cache is cleared (masks are recomputed on demand).
    public static let maxCachedMasks = 4096

    init(dfa: LazyDFA, vocabulary: TokenVocabulary, source: OutputConstraintKey) {
        self.dfa = dfa
        self.vocabulary = vocabulary
        self.source = source
        stateAtDepth = [State](repeating: LazyDFA.dead, count: vocabulary.maxTokenLength + 1)
    }

    /// The state of the empty output.
    public var initialState: State { dfa.start }

    /// Why this constraint can no longer be followed (its DFA outgrew ``LazyDFA/maxStates``), or nil.
    public var failure: String? {
        dfa.hasOverflowed ? "the output constraint needs more than \(LazyDFA.maxStates) automaton states" : nil
    }

    /// Number of DFA states built so far.
    public var stateCount: Int { dfa.stateCount }

    /// Whether the output that led to `state` is a complete match.
    public func isAccepting(_ state: State) -> Bool { dfa.isAccepting(state) }

    /// Whether some byte continues from `state` (false: accepting with nothing after it, the
    /// output must end).
    public func hasOutgoingByte(_ state: State) -> Bool { dfa.hasOutgoingByte(state) }

    /// Whether some token of the vocabulary continues from `state`.
    public func allowsAnyToken(_ state: State) -> Bool { !allowedTokens(state).isEmpty }

    /// Whether the output must end at `state`: it is a complete match and no token continues it.
    public func mustEnd(_ state: State) -> Bool { isAccepting(state) && !allowsAnyToken(state) }

    /// The state after `token`, or nil when the token is not allowed at `state`.
    public func advance(_ state: State, token: Int32) -> State? {
        let bytes = vocabulary.bytes(of: Int(token))
        guard state >= 0, !bytes.isEmpty else { return nil }
        var current = state
        for byte in bytes {
            current = dfa.step(current, byte)
            if current < 0 { return nil }
        }
        return current
    }

    /// The tokens allowed at `state` (end-of-sequence tokens are not included: the caller adds
    /// them where ``isAccepting(_:)``). Computed on first use per state, O(live trie nodes);
    /// later calls are a dictionary lookup.
    public func allowedTokens(_ state: State) -> TokenBitset {
        if let cached = masks[state] { return cached }
        let mask = computeMask(state)
        if masks.count >= Self.maxCachedMasks { masks.removeAll(keepingCapacity: true) }
        masks[state] = mask
        return mask
    }

    /// One preorder scan of the trie: a node is visited only while the DFA is alive along its
    /// path; a dead node skips its whole subtree.
    private func computeMask(_ state: State) -> TokenBitset {
        var mask = TokenBitset(size: vocabulary.size)
        guard state >= 0 else { return mask }
        let nodeCount = vocabulary.nodeCount
        stateAtDepth[0] = state
        vocabulary.nodeByte.withUnsafeBufferPointer { bytes in
            vocabulary.nodeDepth.withUnsafeBufferPointer { depths in
                vocabulary.subtreeEnd.withUnsafeBufferPointer { ends in
                    var node = 1
                    while node < nodeCount {
                        let depth = Int(depths[node])
                        let next = dfa.step(stateAtDepth[depth - 1], bytes[node])
                        if next < 0 {
                            node = Int(ends[node])
                            continue
                        }
                        stateAtDepth[depth] = next
                        let start = Int(vocabulary.tokenStart[node])
                        let end = Int(vocabulary.tokenStart[node + 1])
                        for index in start..<end { mask.insert(Int(vocabulary.nodeTokens[index])) }
                        node += 1
                    }
                }
            }
        }
        return mask
    }
}
