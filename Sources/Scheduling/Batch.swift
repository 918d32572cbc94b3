// RadixServe: the plan for one engine step.

/// The work for one request in one step.
///
/// The compute side writes KV for positions `[startPosition, startPosition + tokenIDs.count)`
/// into the slots of `pageTable` (position `p` lives in page `pageTable[p / pageSize]`,
/// slot `p % pageSize`), attending over positions `[0, startPosition + tokenIDs.count)`.
/// When `shouldSample` is true it samples one token from the logits of the last position.
public struct BatchEntry: Hashable, Sendable {
    /// The request.
    public var requestID: RequestID
    /// Tokens to run this step.
    public var tokenIDs: [Int32]
    /// Tokens already in KV before this step (the position of `tokenIDs[0]`).
    public var startPosition: Int
    /// Pages covering every position up to `startPosition + tokenIDs.count`.
    public var pageTable: [Int32]
    /// True for prefill chunks (including recompute after retraction), false for decode.
    public var isPrefill: Bool
    /// True when this chunk reaches the end of the known tokens, so a token must be sampled.
    public var shouldSample: Bool
}

/// One step's plan: either all prefill chunks or all decode tokens.
public struct ScheduledBatch: Hashable, Sendable {
    /// Entries in scheduling order (each request at most once).
    public var entries: [BatchEntry]

    /// True when every entry is a prefill chunk; false for a decode batch.
    public var isPrefill: Bool

    /// Total tokens to run (`sum of entries[i].tokenIDs.count`).
    public var scheduledTokenCount: Int { entries.reduce(0) { $0 + $1.tokenIDs.count } }

    /// Entries that expect a sampled token back.
    public var sampleCount: Int { entries.reduce(0) { $0 + ($1.shouldSample ? 1 : 0) } }
}
