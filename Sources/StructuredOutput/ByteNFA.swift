// RadixServe: Thompson construction of a byte-level NFA from a Pattern, and trimming.
// Construction follows Thompson (1968) and RE2's compiler; UTF-8 classes as in regex-automata.

/// A nondeterministic automaton over bytes with ε-moves, one start and one accepting state.
///
/// After ``trim()``, every state left can reach the accepting state, so a non-empty set of
/// states always has a completion: a lazily determinized DFA needs no separate liveness check.
struct ByteNFA: Sendable {
    /// One byte transition.
    struct Edge: Sendable {
        var lower: UInt8
        var upper: UInt8
        var target: Int32
    }

    private(set) var edges: [[Edge]] = []
    private(set) var epsilons: [[Int32]] = []
    private(set) var start: Int32 = 0
    private(set) var accept: Int32 = 0

    /// Most states one constraint may build (each costs a few dozen bytes).
    static let maxStates = 400_000

    var stateCount: Int { edges.count }

    /// Builds the automaton of `pattern`.
    /// - Throws: ``ConstraintError`` when it would exceed ``maxStates``.
    init(_ pattern: Pattern) throws(ConstraintError) {
        start = try addState()
        accept = try addState()
        try connect(pattern, from: start, to: accept)
        trim()
    }

    private mutating func addState() throws(ConstraintError) -> Int32 {
        guard edges.count < Self.maxStates else {
            throw ConstraintError("the constraint is too large: its automaton exceeds \(Self.maxStates) states (lower maxLength, maxItems or nesting)")
        }
        edges.append([])
        epsilons.append([])
        return Int32(edges.count - 1)
    }

    private mutating func epsilon(_ from: Int32, _ to: Int32) {
        epsilons[Int(from)].append(to)
    }

    /// Adds paths from `from` to `to` spelling exactly the strings of `pattern`.
    /// Loops only ever close on states created here, so sharing `from`/`to` between the
    /// alternatives of a choice cannot leak one alternative's loop into another.
    private mutating func connect(_ pattern: Pattern, from: Int32, to: Int32) throws(ConstraintError) {
        switch pattern {
        case .empty:
            epsilon(from, to)
        case .nothing:
            break
        case .literal(let bytes):
            guard !bytes.isEmpty else { return epsilon(from, to) }
            var current = from
            for (index, byte) in bytes.enumerated() {
                let next = index == bytes.count - 1 ? to : try addState()
                edges[Int(current)].append(Edge(lower: byte, upper: byte, target: next))
                current = next
            }
        case .bytes(let ranges):
            for range in ranges { edges[Int(from)].append(Edge(lower: range.lowerBound, upper: range.upperBound, target: to)) }
        case .scalars(let set):
            for sequence in set.utf8Sequences {
                var current = from
                for (index, range) in sequence.enumerated() {
                    let next = index == sequence.count - 1 ? to : try addState()
                    edges[Int(current)].append(Edge(lower: range.lowerBound, upper: range.upperBound, target: next))
                    current = next
                }
            }
        case .sequence(let parts):
            guard !parts.isEmpty else { return epsilon(from, to) }
            var current = from
            for (index, part) in parts.enumerated() {
                let next = index == parts.count - 1 ? to : try addState()
                try connect(part, from: current, to: next)
                current = next
            }
        case .choice(let alternatives):
            for alternative in alternatives {
                // A fresh entry per alternative keeps loops of one away from the others.
                let entry = try addState()
                epsilon(from, entry)
                try connect(alternative, from: entry, to: to)
            }
        case .repetition(let body, let min, let max):
            try connectRepetition(body, min: min, max: max, from: from, to: to)
        case .list(let item, let separator, let min, let max):
            try connectList(item, separator: separator, min: min, max: max, from: from, to: to)
        case .members(let members, let separator):
            try connectMembers(members, separator: separator, from: from, to: to)
        }
    }

    private mutating func connectRepetition(_ body: Pattern, min: Int, max: Int?, from: Int32, to: Int32) throws(ConstraintError) {
        var current = from
        for _ in 0..<min {
            let next = try addState()
            try connect(body, from: current, to: next)
            current = next
        }
        guard let max else {
            let loop = try addState()
            epsilon(current, loop)
            try connect(body, from: loop, to: loop)
            epsilon(loop, to)
            return
        }
        epsilon(current, to)
        for _ in min..<Swift.max(min, max) {
            let next = try addState()
            try connect(body, from: current, to: next)
            epsilon(next, to)
            current = next
        }
    }

    /// `min` to `max` items with separators. Mandatory items are chained; an unbounded tail is
    /// one loop (item, then separator back to the item), so it holds a single copy of the item.
    private mutating func connectList(
        _ item: Pattern, separator: Pattern, min: Int, max: Int?, from: Int32, to: Int32
    ) throws(ConstraintError) {
        if min == 0 { epsilon(from, to) }
        if max == 0 { return }
        let mandatory = Swift.max(min, 1)
        var current = from
        guard let max else {
            for _ in 0..<(mandatory - 1) {
                let afterItem = try addState()
                try connect(item, from: current, to: afterItem)
                let afterSeparator = try addState()
                try connect(separator, from: afterItem, to: afterSeparator)
                current = afterSeparator
            }
            let itemStart = try addState()
            let itemEnd = try addState()
            epsilon(current, itemStart)
            try connect(item, from: itemStart, to: itemEnd)
            epsilon(itemEnd, to)
            try connect(separator, from: itemEnd, to: itemStart)
            return
        }
        for count in 1...max {
            let afterItem = try addState()
            try connect(item, from: current, to: afterItem)
            if count >= mandatory { epsilon(afterItem, to) }
            if count < max {
                let afterSeparator = try addState()
                try connect(separator, from: afterItem, to: afterSeparator)
                current = afterSeparator
            }
        }
    }

    /// Members in order, optional ones skippable, a separator before every present member but
    /// the first. Two tracks of states: "nothing written yet" and "something written"; the first
    /// track ends at the first required member.
    private mutating func connectMembers(_ members: [Pattern.Member], separator: Pattern, from: Int32, to: Int32) throws(ConstraintError) {
        var none: Int32? = from
        var some: Int32? = nil
        for member in members {
            let nextSome = try addState()
            var nextNone: Int32? = nil
            if let none {
                try connect(member.pattern, from: none, to: nextSome)
                if !member.isRequired {
                    nextNone = try addState()
                    epsilon(none, nextNone!)
                }
            }
            if let some {
                try connect(.sequence([separator, member.pattern]), from: some, to: nextSome)
                if !member.isRequired { epsilon(some, nextSome) }
            }
            none = nextNone
            some = nextSome
        }
        if let none { epsilon(none, to) }
        if let some { epsilon(some, to) }
    }

    /// Drops every edge into a state that cannot reach the accepting state.
    private mutating func trim() {
        var reverse = [[Int32]](repeating: [], count: stateCount)
        for state in 0..<stateCount {
            for edge in edges[state] { reverse[Int(edge.target)].append(Int32(state)) }
            for target in epsilons[state] { reverse[Int(target)].append(Int32(state)) }
        }
        var isLive = [Bool](repeating: false, count: stateCount)
        var stack = [accept]
        isLive[Int(accept)] = true
        while let state = stack.popLast() {
            for source in reverse[Int(state)] where !isLive[Int(source)] {
                isLive[Int(source)] = true
                stack.append(source)
            }
        }
        for state in 0..<stateCount {
            if !isLive[state] {
                edges[state] = []
                epsilons[state] = []
                continue
            }
            edges[state].removeAll { !isLive[Int($0.target)] }
            epsilons[state].removeAll { !isLive[Int($0)] }
        }
        liveStart = isLive[Int(start)]
    }

    /// Whether the start state can reach the accepting state (some string is accepted).
    private(set) var liveStart = true
}
