// Decoding and validation of leader ⇄ rank frames.

extension RankMessage {
    /// Decodes one frame. Throws ``WireError`` for a wrong magic or version, an unknown kind, a
    /// truncated, oversized or over-long frame, or inconsistent step arrays; never traps.
    public static func decode(_ frame: [UInt8], maxFrameBytes: Int = WireFrameHeader.defaultMaxFrameBytes) throws(WireError)
        -> RankMessage
    {
        do {
            return try frame.withUnsafeBytes { bytes in try decode(bytes, maxFrameBytes: maxFrameBytes) }
        } catch let error as WireError {
            throw error
        } catch {
            preconditionFailure("Invalid state: decode threw \(error)")
        }
    }

    /// Decodes one frame from raw bytes; see ``decode(_:maxFrameBytes:)-([UInt8],_)``.
    public static func decode(_ frame: UnsafeRawBufferPointer, maxFrameBytes: Int = WireFrameHeader.defaultMaxFrameBytes)
        throws(WireError) -> RankMessage
    {
        var reader = try WireReader(frame: frame, maxFrameBytes: maxFrameBytes)
        let message: RankMessage
        switch reader.header.kind {
        case WireMessageKind.rankHello:
            let rank = Int(try reader.read(UInt32.self, "rank"))
            let size = Int(try reader.read(UInt32.self, "tensorParallelSize"))
            let maxStepTokens = Int(try reader.read(UInt32.self, "maxStepTokens"))
            let maxLogitRows = Int(try reader.read(UInt32.self, "maxLogitRows"))
            let fingerprint = try reader.readString("modelFingerprint", maxBytes: maxFingerprintBytes)
            let name = try reader.readString("modelName", maxBytes: maxTextBytes)
            guard size >= 1, rank < size else {
                throw WireError(.invalidValue, "hello from rank \(rank) of a group of \(size)")
            }
            message = .hello(RankHello(
                rank: rank, tensorParallelSize: size, modelFingerprint: fingerprint, modelName: name,
                maxStepTokens: maxStepTokens, maxLogitRows: maxLogitRows))
        case WireMessageKind.rankStep:
            message = .step(try decodeStep(&reader))
        case WireMessageKind.rankHeartbeat:
            message = .heartbeat(sequence: try reader.read(UInt64.self, "sequence"))
        case WireMessageKind.rankShutdown:
            message = .shutdown(reason: try reader.readString("reason", maxBytes: maxTextBytes))
        default:
            throw WireError(.unknownKind, "unknown leader ⇄ rank message kind 0x\(String(reader.header.kind, radix: 16))")
        }
        try reader.finish()
        return message
    }

    private static func decodeStep(_ reader: inout WireReader) throws(WireError) -> StepPlan {
        let sequence = try reader.read(UInt64.self, "sequence")
        let pageCount = Int(try reader.read(UInt32.self, "pageCount"))
        let pageSize = Int(try reader.read(UInt32.self, "pageSize"))
        func array(_ name: String) throws(WireError) -> [Int32] {
            try reader.readInt32Array(name, maxCount: maxStepElements)
        }
        let plan = StepPlan(
            sequence: sequence, pageCount: pageCount, pageSize: pageSize, tokenIDs: try array("tokenIDs"),
            positions: try array("positions"), slotMapping: try array("slotMapping"),
            queryStarts: try array("queryStarts"), contextLengths: try array("contextLengths"),
            pageTableStarts: try array("pageTableStarts"), pageIDs: try array("pageIDs"),
            logitRows: try array("logitRows"))
        try plan.validate()
        return plan
    }
}

extension StepPlan {
    /// Checks the structural invariants a forward pass relies on:
    /// - `positions` and `slotMapping` have one entry per token; there is at least one token;
    /// - `queryStarts` and `pageTableStarts` have `sequences + 1` non-decreasing entries starting
    ///   at 0 and ending at the token count and the page-id count;
    /// - each sequence's query fits in its context, its pages cover its context, positions and
    ///   slots are non-negative and slots, page ids lie inside the `pageCount × pageSize` cache;
    /// - `logitRows` are strictly increasing token rows.
    public func validate() throws(WireError) {
        func fail(_ message: String) -> WireError { WireError(.invalidValue, "step \(sequence): \(message)") }
        let tokens = tokenIDs.count
        guard tokens > 0 else { throw fail("no tokens") }
        guard positions.count == tokens, slotMapping.count == tokens else {
            throw fail("\(tokens) tokens but \(positions.count) positions and \(slotMapping.count) slots")
        }
        let sequences = contextLengths.count
        guard queryStarts.count == sequences + 1, pageTableStarts.count == sequences + 1 else {
            throw fail("\(sequences) sequences but \(queryStarts.count) query starts and \(pageTableStarts.count) page-table starts")
        }
        guard queryStarts.first == 0, Int(queryStarts.last!) == tokens,
            pageTableStarts.first == 0, Int(pageTableStarts.last!) == pageIDs.count
        else { throw fail("query or page-table offsets do not span the step") }
        guard pageSize > 0, pageCount > 0, pageCount.multipliedReportingOverflow(by: pageSize).overflow == false else {
            throw fail("invalid cache geometry \(pageCount) × \(pageSize)")
        }
        for s in 0..<sequences {
            let queries = Int(queryStarts[s + 1]) - Int(queryStarts[s])
            let pages = Int(pageTableStarts[s + 1]) - Int(pageTableStarts[s])
            let context = Int(contextLengths[s])
            guard queries >= 0, pages >= 0, context >= queries, pages * pageSize >= context else {
                throw fail("sequence \(s) has \(queries) queries, context \(context) and \(pages) pages")
            }
        }
        let slots = pageCount * pageSize
        for index in 0..<tokens where positions[index] < 0 || slotMapping[index] < 0 || Int(slotMapping[index]) >= slots {
            throw fail("token \(index) has position \(positions[index]) and slot \(slotMapping[index]) (cache has \(slots))")
        }
        for page in pageIDs where page < 0 || Int(page) >= pageCount {
            throw fail("page id \(page) outside 0..<\(pageCount)")
        }
        var previous: Int32 = -1
        for row in logitRows {
            guard row > previous, Int(row) < tokens else { throw fail("logit row \(row) out of order or range") }
            previous = row
        }
    }
}
