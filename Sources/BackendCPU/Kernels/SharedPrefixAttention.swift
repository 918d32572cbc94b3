import Backends

/// Decode attention for sequences whose contexts start with the same pages (prefix-cache hits on
/// one prompt prefix): the members' rows run one after another on one thread for one KV head, so
/// the shared keys and values come from DRAM once, for the first member, and from the core's
/// caches for the others (a 1,024-token prefix of one KV head with 64-wide heads is 512 KB of
/// f32 keys and values, half that in bf16, within a core's L2). Each row is computed exactly as on
/// its own (``attendRows(_:_:_:_:scores:)``), so results do not depend on how sequences were grouped.
@inlinable
func attendSharedPrefix<E: KVElement>(
    _: E.Type, _ op: AttentionOperands, _ item: AttentionItem, members: UnsafePointer<Int32>,
    geometry: UnsafePointer<SequenceGeometry>, scratch: ScratchArena
) {
    for m in 0..<Int(item.memberCount) {
        let sequence = Int(members[Int(item.memberStart) &+ m])
        let seq = geometry[sequence]
        var single = item
        single.sequence = Int32(sequence)
        single.rowStart = Int32(seq.sequenceRowStart)
        single.rowCount = 1
        attendRows(E.self, op, single, seq, scores: scratch.scores(rowScratchCount(op, contextLength: seq.contextLength)))
    }
}
