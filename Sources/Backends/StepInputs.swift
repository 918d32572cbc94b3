/// The inputs of one forward step: the new tokens of every sequence, where their keys and values
/// go, what each sequence attends to, and which rows need logits.
///
/// Build it with ``append(tokens:startPosition:pages:pageSize:needsLogits:)`` once per sequence;
/// ``removeAll()`` keeps capacity so steady-state steps do not allocate.
public struct StepInputs: Sendable {
    public var tokenIDs: [Int32] = []
    public var positions: [Int32] = []
    /// Cache slot (page × pageSize + offset) of each token.
    public var slotMapping: [Int32] = []
    public var attention = AttentionBatch()
    /// Rows whose logits are computed (usually each sequence's last new token).
    public var logitRows: [Int32] = []

    /// Empty inputs to fill with ``append(tokens:startPosition:pages:pageSize:needsLogits:)``, or
    /// the arrays as given (ops tests).
    public init(
        tokenIDs: [Int32] = [], positions: [Int32] = [], slotMapping: [Int32] = [], attention: AttentionBatch = AttentionBatch(),
        logitRows: [Int32] = []
    ) {
        self.tokenIDs = tokenIDs
        self.positions = positions
        self.slotMapping = slotMapping
        self.attention = attention
        self.logitRows = logitRows
    }

    /// Number of new tokens.
    public var tokenCount: Int { tokenIDs.count }

    public mutating func removeAll() {
        tokenIDs.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        slotMapping.removeAll(keepingCapacity: true)
        attention.removeAll()
        logitRows.removeAll(keepingCapacity: true)
    }

    /// Adds a sequence whose `tokens` occupy positions `startPosition ..< startPosition + tokens.count`;
    /// `pages` must cover every position up to the last one. Inlinable so callers specialize it:
    /// unspecialized, the generic index arithmetic boxes and allocates on every step.
    @inlinable
    public mutating func append(
        tokens: some Collection<Int32>, startPosition: Int, pages: some Collection<Int32>, pageSize: Int, needsLogits: Bool
    ) {
        let count = tokens.count
        precondition(count > 0, "a sequence in a step needs at least one token")
        precondition(pages.count * pageSize >= startPosition + count, "page table too short")
        tokenIDs.append(contentsOf: tokens)
        var position = startPosition
        for _ in 0..<count {
            let page = pages[pages.index(pages.startIndex, offsetBy: position / pageSize)]
            positions.append(Int32(position))
            slotMapping.append(page * Int32(pageSize) + Int32(position % pageSize))
            position += 1
        }
        attention.append(queryCount: count, contextLength: startPosition + count, pages: pages)
        if needsLogits { logitRows.append(Int32(tokenIDs.count - 1)) }
    }
}

extension StepInputs {
    /// Step inputs for running one op alone (conformance tests, `radixserve certify`): the
    /// per-token arrays given, the others zero-filled to the same length (a device may check that
    /// every per-token array has the step's token count).
    public static func forOp(
        tokenIDs: [Int32]? = nil, positions: [Int32]? = nil, slotMapping: [Int32]? = nil,
        attention: AttentionBatch = AttentionBatch(), logitRows: [Int32] = []
    ) -> StepInputs {
        let count = tokenIDs?.count ?? positions?.count ?? slotMapping?.count ?? attention.tokenCount
        let zeros = [Int32](repeating: 0, count: count)
        return StepInputs(
            tokenIDs: tokenIDs ?? zeros, positions: positions ?? zeros, slotMapping: slotMapping ?? zeros,
            attention: attention, logitRows: logitRows)
    }
}
