// RadixServe: subset construction on demand over a trimmed ByteNFA.

/// A deterministic automaton over bytes whose states (sets of NFA states) are built the first
/// time a transition reaches them, then kept: a constraint only pays for the part of the DFA its
/// requests visit. Bytes are grouped into classes that every NFA edge treats alike, so a state's
/// row has one entry per class rather than 256.
///
/// State ids are dense from 0; ``dead`` is the one sink. Not thread-safe: owned by one
/// ``TokenConstraint``, confined to the engine thread.
final class LazyDFA {
    /// The absent state: no continuation can be accepted.
    static let dead: Int32 = -1
    private static let unknown: Int32 = -2
    /// Most DFA states built per constraint; beyond it transitions fail (see ``hasOverflowed``).
    static let maxStates = 200_000

    private let nfa: ByteNFA
    private let byteClass: [UInt8]
    private let classCount: Int
    private let representative: [UInt8]
    private var sets: [[Int32]] = []
    private var ids: [[Int32]: Int32] = [:]
    private var table: [Int32] = []
    private var accepting: [Bool] = []
    private var mark: [UInt32]
    private var generation: UInt32 = 0
    /// Set when a transition needed a state beyond ``maxStates``; it then reads as dead.
    private(set) var hasOverflowed = false

    /// The start state; ``dead`` when the language is empty.
    private(set) var start: Int32 = dead

    init(_ nfa: ByteNFA) {
        self.nfa = nfa
        mark = [UInt32](repeating: 0, count: nfa.stateCount)
        // Class boundaries: every edge's lower bound and the byte after its upper bound.
        var isBoundary = [Bool](repeating: false, count: 257)
        for state in 0..<nfa.stateCount {
            for edge in nfa.edges[state] {
                isBoundary[Int(edge.lower)] = true
                isBoundary[Int(edge.upper) + 1] = true
            }
        }
        var classes = [UInt8](repeating: 0, count: 256)
        var representatives: [UInt8] = [0]
        var current = 0
        for byte in 0..<256 {
            if byte > 0 && isBoundary[byte] {
                current += 1
                representatives.append(UInt8(byte))
            }
            classes[byte] = UInt8(current)
        }
        byteClass = classes
        classCount = current + 1
        representative = representatives
        if nfa.liveStart { start = intern(closure(of: [nfa.start])) }
    }

    /// Number of states built so far.
    var stateCount: Int { sets.count }

    /// Whether `state` accepts (the input so far is a complete match).
    func isAccepting(_ state: Int32) -> Bool { state >= 0 && accepting[Int(state)] }

    /// The state after `byte`, ``dead`` when no match continues with it.
    @inline(__always)
    func step(_ state: Int32, _ byte: UInt8) -> Int32 {
        let slot = Int(state) &* classCount &+ Int(byteClass[Int(byte)])
        let next = table[slot]
        if next != Self.unknown { return next }
        let computed = computeStep(state, byteClass: Int(byteClass[Int(byte)]))
        table[slot] = computed
        return computed
    }

    /// Whether any byte continues from `state`.
    func hasOutgoingByte(_ state: Int32) -> Bool {
        guard state >= 0 else { return false }
        for index in 0..<classCount where step(state, representative[index]) != Self.dead { return true }
        return false
    }

    private func computeStep(_ state: Int32, byteClass: Int) -> Int32 {
        let byte = representative[byteClass]
        var targets: [Int32] = []
        for nfaState in sets[Int(state)] {
            for edge in nfa.edges[Int(nfaState)] where edge.lower <= byte && byte <= edge.upper {
                targets.append(edge.target)
            }
        }
        guard !targets.isEmpty else { return Self.dead }
        let set = closure(of: targets)
        if let existing = ids[set] { return existing }
        guard sets.count < Self.maxStates else {
            hasOverflowed = true
            return Self.dead
        }
        return intern(set)
    }

    private func intern(_ set: [Int32]) -> Int32 {
        if let existing = ids[set] { return existing }
        let id = Int32(sets.count)
        sets.append(set)
        ids[set] = id
        accepting.append(set.contains(nfa.accept))
        table.append(contentsOf: repeatElement(Self.unknown, count: classCount))
        return id
    }

    /// The sorted ε-closure of `seeds`, keeping only states with byte edges or the accepting
    /// state (the others are interchangeable for every future step).
    private func closure(of seeds: [Int32]) -> [Int32] {
        generation &+= 1
        if generation == 0 {
            for index in mark.indices { mark[index] = 0 }
            generation = 1
        }
        var stack: [Int32] = []
        var result: [Int32] = []
        for seed in seeds where mark[Int(seed)] != generation {
            mark[Int(seed)] = generation
            stack.append(seed)
        }
        while let state = stack.popLast() {
            if !nfa.edges[Int(state)].isEmpty || state == nfa.accept { result.append(state) }
            for target in nfa.epsilons[Int(state)] where mark[Int(target)] != generation {
                mark[Int(target)] = generation
                stack.append(target)
            }
        }
        result.sort()
        return result
    }
}
