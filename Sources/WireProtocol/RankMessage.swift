// Leader ⇄ rank messages of a tensor-parallel group (docs/WIRE_PROTOCOL.md, "Leader ⇄ rank").

/// What one rank announces to the group before any step: every rank must agree on the
/// protocol version, the model fingerprint and the group size.
public struct RankHello: Sendable, Hashable {
    /// The sender's rank in `0..<tensorParallelSize`.
    public var rank: Int
    /// Ranks in the group.
    public var tensorParallelSize: Int
    /// Identifies the checkpoint (e.g. a hash of config.json and tensor names, shapes, dtypes).
    public var modelFingerprint: String
    /// Human-readable model name or path, for error messages only (not compared).
    public var modelName: String
    /// Largest number of tokens in one step (the leader's; ranks size their workspace with it).
    public var maxStepTokens: Int
    /// Largest number of logit rows in one step (the leader's).
    public var maxLogitRows: Int

    public init(
        rank: Int, tensorParallelSize: Int, modelFingerprint: String, modelName: String, maxStepTokens: Int,
        maxLogitRows: Int
    ) {
        self.rank = rank
        self.tensorParallelSize = tensorParallelSize
        self.modelFingerprint = modelFingerprint
        self.modelName = modelName
        self.maxStepTokens = maxStepTokens
        self.maxLogitRows = maxLogitRows
    }
}

/// One forward step as the leader scheduled it: the arrays of a `StepInputs` plus the geometry
/// of the KV cache its slot and page ids refer to. Decoding checks that the arrays are mutually
/// consistent (counts, monotone offsets, in-range rows), so a decoded plan can be run as is
/// once its ids were checked against the receiver's cache and vocabulary.
public struct StepPlan: Sendable, Hashable {
    /// Step number, increasing by one per step (for diagnostics and lock-step checks).
    public var sequence: UInt64
    /// Pages in the leader's KV cache; followers keep a cache of the same geometry.
    public var pageCount: Int
    /// Tokens per page.
    public var pageSize: Int
    public var tokenIDs: [Int32]
    public var positions: [Int32]
    public var slotMapping: [Int32]
    public var queryStarts: [Int32]
    public var contextLengths: [Int32]
    public var pageTableStarts: [Int32]
    public var pageIDs: [Int32]
    public var logitRows: [Int32]

    public init(
        sequence: UInt64, pageCount: Int, pageSize: Int, tokenIDs: [Int32], positions: [Int32], slotMapping: [Int32],
        queryStarts: [Int32], contextLengths: [Int32], pageTableStarts: [Int32], pageIDs: [Int32], logitRows: [Int32]
    ) {
        self.sequence = sequence
        self.pageCount = pageCount
        self.pageSize = pageSize
        self.tokenIDs = tokenIDs
        self.positions = positions
        self.slotMapping = slotMapping
        self.queryStarts = queryStarts
        self.contextLengths = contextLengths
        self.pageTableStarts = pageTableStarts
        self.pageIDs = pageIDs
        self.logitRows = logitRows
    }
}

/// Messages from the leader (rank 0) to the other ranks of a tensor-parallel group, and the
/// hello every rank sends. Each is one frame: ``WireFrameHeader`` + the payload documented on
/// the case. Sizes are little-endian; arrays are a UInt32 count then the elements.
public enum RankMessage: Sendable, Hashable {
    /// Kind 0x0101. `rank u32, tensorParallelSize u32, maxStepTokens u32, maxLogitRows u32,
    /// modelFingerprint string(≤ 256), modelName string(≤ 4096)`.
    case hello(RankHello)
    /// Kind 0x0102. `sequence u64, pageCount u32, pageSize u32`, then the Int32 arrays
    /// `tokenIDs, positions, slotMapping, queryStarts, contextLengths, pageTableStarts,
    /// pageIDs, logitRows`.
    case step(StepPlan)
    /// Kind 0x0103. `sequence u64`: the leader's step count; sent when it has nothing to run.
    case heartbeat(sequence: UInt64)
    /// Kind 0x0104. `reason string(≤ 4096)`.
    case shutdown(reason: String)
}

extension RankMessage {
    /// Largest model fingerprint, in bytes.
    public static let maxFingerprintBytes = 256
    /// Largest free-text field (model name, shutdown reason), in bytes.
    public static let maxTextBytes = 4096
    /// Largest number of elements in one step array.
    public static let maxStepElements = 1 << 22

    /// Writes this message as one frame into `writer` (reusing its buffer).
    public func encode(into writer: inout WireWriter) {
        switch self {
        case .hello(let hello):
            writer.begin(kind: WireMessageKind.rankHello)
            writer.write(UInt32(hello.rank))
            writer.write(UInt32(hello.tensorParallelSize))
            writer.write(UInt32(hello.maxStepTokens))
            writer.write(UInt32(hello.maxLogitRows))
            writer.write(hello.modelFingerprint)
            writer.write(hello.modelName)
        case .step(let plan):
            writer.begin(kind: WireMessageKind.rankStep)
            writer.write(plan.sequence)
            writer.write(UInt32(plan.pageCount))
            writer.write(UInt32(plan.pageSize))
            for array in [plan.tokenIDs, plan.positions, plan.slotMapping, plan.queryStarts, plan.contextLengths,
                plan.pageTableStarts, plan.pageIDs, plan.logitRows]
            {
                writer.write(array)
            }
        case .heartbeat(let sequence):
            writer.begin(kind: WireMessageKind.rankHeartbeat)
            writer.write(sequence)
        case .shutdown(let reason):
            writer.begin(kind: WireMessageKind.rankShutdown)
            writer.write(String(reason.prefix(Self.maxTextBytes / 4)))
        }
        writer.finish()
    }

    /// This message as a new frame.
    public var encoded: [UInt8] {
        var writer = WireWriter()
        encode(into: &writer)
        return writer.bytes
    }
}
