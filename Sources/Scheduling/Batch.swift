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
    public var tokenIDs: StepTokens
    /// Tokens already in KV before this step (the position of `tokenIDs[0]`).
    public var startPosition: Int
    /// Pages covering every position up to `startPosition + tokenIDs.count`.
    public var pageTable: [Int32]
    /// True for prefill chunks (including recompute after retraction), false for decode.
    public var isPrefill: Bool
    /// True when this chunk reaches the end of the known tokens, so a token must be sampled.
    public var shouldSample: Bool
}

/// The tokens of one ``BatchEntry``: a decode step's one token held inline (so scheduling a decode
/// step allocates nothing per request), or a prefill chunk.
public struct StepTokens: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral {
    private enum Storage: Hashable, Sendable {
        case one(Int32)
        case many([Int32])
    }

    private let storage: Storage

    /// One token.
    public init(_ token: Int32) {
        storage = .one(token)
    }

    /// Any number of tokens (one is stored inline, so equal tokens compare and hash equal).
    public init(_ tokens: some Collection<Int32>) {
        storage = tokens.count == 1 ? .one(tokens.first!) : .many(Array(tokens))
    }

    public init(arrayLiteral elements: Int32...) {
        self.init(elements)
    }

    public var startIndex: Int { 0 }

    public var endIndex: Int {
        switch storage {
        case .one: 1
        case .many(let tokens): tokens.count
        }
    }

    public subscript(position: Int) -> Int32 {
        switch storage {
        case .one(let token):
            precondition(position == 0, "index \(position) out of range of one token")
            return token
        case .many(let tokens):
            return tokens[position]
        }
    }
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
