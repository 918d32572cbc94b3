// RadixServe: one generation request as the scheduler tracks it.

import KVPaging
import ServingTypes

/// Identifies a request across the router, the worker and the engine.
public struct RequestID: Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// The router-assigned number.
    public var rawValue: UInt64

    /// Wraps a raw id.
    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(integerLiteral value: UInt64) {
        self.rawValue = value
    }

    public static func < (lhs: RequestID, rhs: RequestID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "req-\(rawValue)" }
}

/// A request's tokens, parameters and KV bookkeeping.
///
/// Token layout and KV coverage:
/// ```
///  tokenIDs:  [ prompt ............ | outputs ...... ]
///  positions: 0        cachedTokenCount    computedTokenCount     tokenIDs.count
///             |── reused from cache ──|── computed here ──|── not yet in KV ──|
///  pageTable: one page per pageSize positions, covering at least [0, computedTokenCount)
///             pages [0, sharedPageCount) belong to the prefix cache (pinned by prefixHandle)
/// ```
/// The scheduler owns and mutates requests; callers see copies. Not meant to be mutated
/// outside the Scheduling module.
public struct Request: Sendable {
    /// The request's id; unique among live requests.
    public let id: RequestID
    /// Sampling and stopping parameters.
    public let params: SamplingParams
    /// Prompt followed by generated tokens.
    public package(set) var tokenIDs: [Int32]
    /// Number of prompt tokens at the start of ``tokenIDs``.
    public let promptTokenCount: Int
    /// Lifecycle state.
    public package(set) var state: RequestState = .waiting
    /// Prompt tokens whose KV came from the prefix cache at first admission (for usage reports).
    public package(set) var cachedTokenCount: Int = 0
    /// Leading tokens whose KV is in (or being written to) the page table.
    public package(set) var computedTokenCount: Int = 0
    /// KV pages by position: page `i` holds positions `[i·pageSize, (i+1)·pageSize)`.
    public package(set) var pageTable: [Int32] = []
    /// Leading pages of ``pageTable`` owned by the prefix cache and pinned by ``prefixHandle``.
    public package(set) var sharedPageCount: Int = 0
    /// The locked prefix-cache match while running, `nil` otherwise.
    public package(set) var prefixHandle: PrefixCacheHandle?
    /// Order of arrival (assigned by the scheduler).
    public package(set) var arrivalIndex: UInt64 = 0
    /// Order of the latest admission (assigned by the scheduler); larger is more recent.
    public package(set) var admissionIndex: UInt64 = 0
    /// How many times the request was retracted to free pages.
    public package(set) var retractionCount: Int = 0
    /// True while admitted and the known tokens are not all computed yet (chunked prefill).
    public package(set) var isPrefilling: Bool = false

    /// Creates a waiting request.
    public init(id: RequestID, promptTokenIDs: [Int32], params: SamplingParams) {
        self.id = id
        self.params = params
        self.tokenIDs = promptTokenIDs
        self.promptTokenCount = promptTokenIDs.count
    }

    /// The prompt tokens.
    public var promptTokenIDs: ArraySlice<Int32> { tokenIDs[..<promptTokenCount] }

    /// The generated tokens so far.
    public var outputTokenIDs: ArraySlice<Int32> { tokenIDs[promptTokenCount...] }

    /// The finish reason once finished.
    public var finishReason: FinishReason? {
        if case .finished(let reason) = state { return reason }
        return nil
    }
}

