import Backends

extension CPUBackend {
    /// Shortest shared prefix (positions) for which sequences are grouped.
    static let sharedPrefixMinLength = 64
    /// Most sequences per shared-prefix item, so that a large group still spreads over the threads.
    static let sharedPrefixMaxMembers = 16

    /// Groups the step's decode rows (sequences with one new token) by the pages their contexts
    /// start with, and adds one ``attendSharedPrefix(_:_:_:members:geometry:scratch:)`` item per KV
    /// head for every group of two or more whose common full pages hold at least
    /// ``sharedPrefixMinLength`` positions. Sequences sharing cached prompt pages are the usual
    /// case: the prefix cache hands every hit the same physical pages. Marks the covered
    /// sequences in `inSharedPrefixItem`. Allocates nothing once the arrays have grown. Groups nothing
    /// while ``isBatchInvariant``.
    func planSharedPrefixes(_ op: AttentionOperands) {
        let pageSize = op.pageSize
        sharedPrefixMembers.removeAll(keepingCapacity: true)
        inSharedPrefixItem.removeAll(keepingCapacity: true)
        inSharedPrefixItem.append(contentsOf: repeatElement(false, count: sequenceGeometry.count))
        guard !isBatchInvariant else { return }  // A group's sums depend on which sequences share pages.
        for (s, seq) in sequenceGeometry.enumerated()
        where seq.queryCount == 1 && seq.contextLength / pageSize * pageSize >= Self.sharedPrefixMinLength {
            sharedPrefixMembers.append(Int32(s))
        }
        guard sharedPrefixMembers.count >= 2 else { return }
        sortMembersByFirstPage()
        var runStart = 0
        while runStart < sharedPrefixMembers.count {
            let firstPage = geometry(runStart).pages[0]
            var runEnd = runStart + 1
            while runEnd < sharedPrefixMembers.count && geometry(runEnd).pages[0] == firstPage { runEnd += 1 }
            let shared = commonFullPages(runStart..<runEnd, pageSize: pageSize) * pageSize
            if runEnd - runStart >= 2 && shared >= Self.sharedPrefixMinLength {
                addSharedPrefixItems(members: runStart..<runEnd, op: op)
            }
            runStart = runEnd
        }
    }

    private func geometry(_ member: Int) -> SequenceGeometry { sequenceGeometry[Int(sharedPrefixMembers[member])] }

    /// Insertion sort of the candidates by first page id: a step has tens of sequences, and this
    /// allocates nothing (the standard library's sort may).
    private func sortMembersByFirstPage() {
        for i in 1..<sharedPrefixMembers.count {
            let moving = sharedPrefixMembers[i]
            let key = sequenceGeometry[Int(moving)].pages[0]
            var j = i
            while j > 0 && sequenceGeometry[Int(sharedPrefixMembers[j - 1])].pages[0] > key {
                sharedPrefixMembers[j] = sharedPrefixMembers[j - 1]
                j -= 1
            }
            sharedPrefixMembers[j] = moving
        }
    }

    /// Leading pages that every member's table holds identically and that lie wholly inside every
    /// member's context.
    private func commonFullPages(_ members: Range<Int>, pageSize: Int) -> Int {
        var limit = Int.max
        for m in members { limit = min(limit, geometry(m).contextLength / pageSize) }
        let lead = geometry(members.lowerBound).pages
        var common = 0
        while common < limit {
            for m in members.dropFirst() where geometry(m).pages[common] != lead[common] { return common }
            common += 1
        }
        return common
    }

    /// One item per KV head for each near-equal slice (at most ``sharedPrefixMaxMembers``) of `members`.
    private func addSharedPrefixItems(members: Range<Int>, op: AttentionOperands) {
        let group = op.group
        let slices = (members.count + Self.sharedPrefixMaxMembers - 1) / Self.sharedPrefixMaxMembers
        var start = members.lowerBound
        for slice in 0..<slices {
            let end = members.lowerBound + members.count * (slice + 1) / slices
            let first = geometry(start)
            for kvHead in 0..<op.kvHeadCount {
                attentionItems.append(AttentionItem(
                    sequence: sharedPrefixMembers[start], kvHead: Int32(kvHead), headStart: Int32(kvHead * group),
                    headCount: Int32(group), rowStart: Int32(first.sequenceRowStart), rowCount: 1,
                    memberStart: Int32(start), memberCount: Int32(end - start)))
            }
            for m in start..<end { inSharedPrefixItem[Int(sharedPrefixMembers[m])] = true }
            start = end
        }
    }
}
