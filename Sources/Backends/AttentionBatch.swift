/// Per-sequence metadata of one forward step over a paged KV cache (vLLM's "varlen" layout).
///
/// The step's query rows are the new tokens of every sequence, concatenated:
/// ```
/// rows:      [ seq 0: q0 rows ][ seq 1: q1 rows ] ...
/// queryStarts: 0,             q0,               q0+q1, ...   (count = sequences + 1)
/// ```
/// Sequence `s` has `contextLengths[s]` tokens in the cache *including* this step's new ones, so
/// its new rows sit at positions `contextLengths[s] - qs ..< contextLengths[s]` and each attends
/// causally to every cached position up to its own. Its pages are
/// `pageIDs[pageTableStarts[s] ..< pageTableStarts[s + 1]]`, covering all `contextLengths[s]` slots.
/// Host arrays: a device gets them in ``ComputeBackend/beginStep(_:)``, once per step, with the rest of ``StepInputs``.
public struct AttentionBatch: Sendable {
    public var queryStarts: [Int32]
    public var contextLengths: [Int32]
    public var pageTableStarts: [Int32]
    public var pageIDs: [Int32]

    public init(queryStarts: [Int32] = [0], contextLengths: [Int32] = [], pageTableStarts: [Int32] = [0], pageIDs: [Int32] = []) {
        self.queryStarts = queryStarts
        self.contextLengths = contextLengths
        self.pageTableStarts = pageTableStarts
        self.pageIDs = pageIDs
    }

    /// Number of sequences.
    public var sequenceCount: Int { contextLengths.count }

    /// Number of query rows (new tokens) across all sequences.
    public var tokenCount: Int { Int(queryStarts.last ?? 0) }

    /// Clears for reuse, keeping capacity (no allocation in steady state).
    public mutating func removeAll() {
        queryStarts.removeAll(keepingCapacity: true)
        queryStarts.append(0)
        contextLengths.removeAll(keepingCapacity: true)
        pageTableStarts.removeAll(keepingCapacity: true)
        pageTableStarts.append(0)
        pageIDs.removeAll(keepingCapacity: true)
    }

    /// Appends a sequence with `queryCount` new tokens, `contextLength` cached tokens in total after
    /// this step, and its page table.
    @inlinable
    public mutating func append(queryCount: Int, contextLength: Int, pages: some Collection<Int32>) {
        precondition(queryCount >= 0 && queryCount <= contextLength, "query longer than context")
        queryStarts.append(queryStarts[queryStarts.count - 1] + Int32(queryCount))
        contextLengths.append(Int32(contextLength))
        pageIDs.append(contentsOf: pages)
        pageTableStarts.append(Int32(pageIDs.count))
    }
}
