// Decoding and validation of router ⇄ worker frames.

import ServingTypes

extension WireReader {
    mutating func readDouble(_ field: String) throws(WireError) -> Double {
        let value = Double(bitPattern: try read(UInt64.self, field))
        guard value.isFinite else { throw WireError(.invalidValue, "'\(field)' is \(value)") }
        return value
    }

    mutating func readFloat(_ field: String) throws(WireError) -> Float {
        let value = Float(bitPattern: try read(UInt32.self, field))
        // -inf is a legitimate log-probability; NaN and +inf are not.
        guard !value.isNaN, value != .infinity else { throw WireError(.invalidValue, "'\(field)' is \(value)") }
        return value
    }

    mutating func readBool(_ field: String) throws(WireError) -> Bool {
        switch try read(UInt8.self, field) {
        case 0: return false
        case 1: return true
        case let flag: throw WireError(.invalidValue, "'\(field)' flag is \(flag), expected 0 or 1")
        }
    }

    mutating func readOptional(_ field: String) throws(WireError) -> UInt64? {
        try readBool(field + ".isPresent") ? try read(UInt64.self, field) : nil
    }

    /// A count of entries, checked against `maxCount` and against the bytes left at
    /// `minimumBytes` per entry, before anything is allocated.
    mutating func readCount(_ field: String, maxCount: Int, minimumBytes: Int) throws(WireError) -> Int {
        let count = Int(try read(UInt32.self, field + ".count"))
        guard count <= maxCount else { throw WireError(.oversized, "'\(field)' has \(count) entries; the limit is \(maxCount)") }
        guard count <= remaining / minimumBytes else {
            throw WireError(.truncated, "'\(field)' announces \(count) entries but \(remaining) bytes remain")
        }
        return count
    }

    mutating func readHashes(_ field: String) throws(WireError) -> [UInt64] {
        let count = try readCount(field, maxCount: WorkerMessageLimits.maxArrayCount, minimumBytes: 8)
        var hashes: [UInt64] = []
        hashes.reserveCapacity(count)
        for _ in 0..<count { hashes.append(try read(UInt64.self, field)) }
        return hashes
    }

    mutating func readTokens(_ field: String) throws(WireError) -> [Int32] {
        try readInt32Array(field, maxCount: WorkerMessageLimits.maxArrayCount)
    }

    mutating func readText(_ field: String) throws(WireError) -> String {
        try readString(field, maxBytes: WorkerMessageLimits.maxTextBytes)
    }
}

/// Runs `body` over a frame's bytes with typed throws.
private func withFrame<T>(_ frame: [UInt8], _ body: (UnsafeRawBufferPointer) throws(WireError) -> T) throws(WireError) -> T {
    do {
        return try frame.withUnsafeBytes { bytes in try body(bytes) }
    } catch let error as WireError {
        throw error
    } catch {
        preconditionFailure("Invalid state: decode threw \(error)")
    }
}

/// `register.features`, refusing reserved bits.
private func decodeFeatures(_ reader: inout WireReader) throws(WireError) -> WorkerFeatures {
    let features = WorkerFeatures(rawValue: try reader.read(UInt32.self, "features"))
    let reserved = features.subtracting(.known)
    guard reserved.isEmpty else {
        throw WireError(.invalidValue, "'features' sets reserved bits 0x\(String(reserved.rawValue, radix: 16))")
    }
    return features
}

private func unknownKind(_ kind: UInt16, direction: String) -> WireError {
    WireError(.unknownKind, "kind 0x\(String(kind, radix: 16)) is not a \(direction) message")
}

extension RouterToWorker {
    /// Decodes one frame. Throws ``WireError`` for a wrong magic or version, a kind that is not
    /// router → worker, a truncated, oversized or over-long frame, or an invalid value; never traps.
    public static func decode(_ frame: [UInt8], maxFrameBytes: Int = WireFrameHeader.defaultMaxFrameBytes) throws(WireError)
        -> RouterToWorker
    {
        try withFrame(frame) { bytes throws(WireError) in try decode(bytes, maxFrameBytes: maxFrameBytes) }
    }

    /// Decodes one frame from raw bytes; see ``decode(_:maxFrameBytes:)-([UInt8],_)``.
    public static func decode(_ frame: UnsafeRawBufferPointer, maxFrameBytes: Int = WireFrameHeader.defaultMaxFrameBytes)
        throws(WireError) -> RouterToWorker
    {
        var reader = try WireReader(frame: frame, maxFrameBytes: maxFrameBytes)
        let message: RouterToWorker
        switch reader.header.kind {
        case WireMessageKind.workerRegistered:
            message = .registered(
                workerID: try reader.read(UInt32.self, "workerID"),
                heartbeatMilliseconds: try reader.read(UInt32.self, "heartbeatMilliseconds"))
        case WireMessageKind.workerRefused:
            message = .refused(reason: try reader.readText("reason"))
        case WireMessageKind.workerSubmit:
            message = .submit(try decodeSubmit(&reader))
        case WireMessageKind.workerAbort:
            message = .abort(requestID: try reader.read(UInt64.self, "requestID"))
        case WireMessageKind.workerFlushCache:
            message = .flushCache
        case WireMessageKind.workerSnapshotRequest:
            message = .snapshotRequest
        case WireMessageKind.workerRegisterAgain:
            message = .registerAgain
        default:
            throw unknownKind(reader.header.kind, direction: "router → worker")
        }
        try reader.finish()
        return message
    }

    /// The request id of a frame that claims to be a `submit`, read without decoding the rest, so
    /// a worker can answer a malformed submission with `failed`. `nil` otherwise (a malformed
    /// `abort` is not answered: its id may name a live request, which must not get a `failed`).
    public static func requestID(ofMalformed frame: [UInt8]) -> UInt64? {
        guard frame.count >= WireFrameHeader.byteCount + 8, Array(frame[0..<4]) == WireFrameHeader.magic else { return nil }
        let kind = UInt16(frame[6]) | UInt16(frame[7]) << 8
        guard kind == WireMessageKind.workerSubmit else { return nil }
        var id: UInt64 = 0
        for index in (0..<8).reversed() { id = id << 8 | UInt64(frame[WireFrameHeader.byteCount + index]) }
        return id
    }

    private static func decodeSubmit(_ reader: inout WireReader) throws(WireError) -> WorkerSubmit {
        let requestID = try reader.read(UInt64.self, "requestID")
        let tokenIDs = try reader.readTokens("tokenIDs")
        var params = SamplingParams()
        params.maxTokens = Int(try reader.read(UInt32.self, "maxTokens"))
        params.temperature = try reader.readDouble("temperature")
        params.topK = Int(try reader.read(Int32.self, "topK"))
        params.topP = try reader.readDouble("topP")
        params.minP = try reader.readDouble("minP")
        params.seed = try reader.readOptional("seed")
        params.frequencyPenalty = try reader.readDouble("frequencyPenalty")
        params.presencePenalty = try reader.readDouble("presencePenalty")
        params.repetitionPenalty = try reader.readDouble("repetitionPenalty")
        let stopTokenIDs = try reader.readTokens("stopTokenIDs")
        guard zip(stopTokenIDs, stopTokenIDs.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw WireError(.invalidValue, "request \(requestID): stopTokenIDs are not strictly increasing")
        }
        params.stopTokenIDs = Set(stopTokenIDs)
        params.ignoreEOS = try reader.readBool("ignoreEOS")
        if let logprobs = try reader.readOptional("logprobs") {
            guard logprobs <= UInt64(WorkerMessageLimits.maxTopLogprobs) else {
                throw WireError(.invalidValue, "logprobs \(logprobs) exceeds \(WorkerMessageLimits.maxTopLogprobs)")
            }
            params.logprobs = Int(logprobs)
        }
        params.namespace = try reader.read(UInt64.self, "namespace")
        let biasCount = try reader.readCount("logitBias", maxCount: WorkerMessageLimits.maxLogitBiasCount, minimumBytes: 8)
        var previous: Int32?
        for _ in 0..<biasCount {
            let token = try reader.read(Int32.self, "logitBias.token")
            guard previous.map({ $0 < token }) ?? true else {
                throw WireError(.invalidValue, "request \(requestID): logitBias tokens are not strictly increasing")
            }
            previous = token
            let bias = try reader.readFloat("logitBias.bias")
            guard bias.isFinite else { throw WireError(.invalidValue, "request \(requestID): logitBias of token \(token) is \(bias)") }
            params.logitBias[token] = bias
        }
        params.minTokens = Int(try reader.read(UInt32.self, "minTokens"))
        switch try reader.read(UInt8.self, "constraint.kind") {
        case 0: params.constraint = nil
        case 1: params.constraint = .jsonObject
        case 2: params.constraint = .jsonSchema(try reader.readString("constraint.schema", maxBytes: OutputConstraint.maxTextBytes))
        case 3: params.constraint = .regex(try reader.readString("constraint.regex", maxBytes: OutputConstraint.maxTextBytes))
        case let kind: throw WireError(.invalidValue, "request \(requestID): constraint kind \(kind) is not 0, 1, 2 or 3")
        }
        let resumed = try reader.read(UInt32.self, "resumedOutputCount")
        guard resumed < tokenIDs.count || resumed == 0 else {
            throw WireError(.invalidValue, "request \(requestID): resumedOutputCount \(resumed) is not below the \(tokenIDs.count) tokens")
        }
        return WorkerSubmit(requestID: requestID, tokenIDs: tokenIDs, params: params, resumedOutputCount: resumed)
    }
}

extension WorkerToRouter {
    /// Decodes one frame. Throws ``WireError`` for a wrong magic or version, a kind that is not
    /// worker → router, a truncated, oversized or over-long frame, or an invalid value; never traps.
    public static func decode(_ frame: [UInt8], maxFrameBytes: Int = WireFrameHeader.defaultMaxFrameBytes) throws(WireError)
        -> WorkerToRouter
    {
        try withFrame(frame) { bytes throws(WireError) in try decode(bytes, maxFrameBytes: maxFrameBytes) }
    }

    /// Decodes one frame from raw bytes; see ``decode(_:maxFrameBytes:)-([UInt8],_)``.
    public static func decode(_ frame: UnsafeRawBufferPointer, maxFrameBytes: Int = WireFrameHeader.defaultMaxFrameBytes)
        throws(WireError) -> WorkerToRouter
    {
        var reader = try WireReader(frame: frame, maxFrameBytes: maxFrameBytes)
        let message: WorkerToRouter
        switch reader.header.kind {
        case WireMessageKind.workerRegister:
            message = .register(WorkerRegistration(
                protocolRevision: try reader.read(UInt32.self, "protocolRevision"),
                workerID: try reader.read(UInt32.self, "workerID"),
                incarnation: try reader.read(UInt64.self, "incarnation"),
                modelID: try reader.readText("modelID"),
                modelFingerprint: try reader.readString("modelFingerprint", maxBytes: WorkerMessageLimits.maxFingerprintBytes),
                pageSize: try reader.read(UInt32.self, "pageSize"),
                hashSeed: try reader.read(UInt64.self, "hashSeed"),
                tensorParallelSize: try reader.read(UInt32.self, "tensorParallelSize"),
                capacityPages: try reader.read(UInt32.self, "capacityPages"),
                maxModelLength: try reader.read(UInt32.self, "maxModelLength"),
                features: try decodeFeatures(&reader)))
        case WireMessageKind.workerTokens:
            message = .tokens(try decodeTokens(&reader))
        case WireMessageKind.workerFinished:
            message = .finished(try decodeFinish(&reader))
        case WireMessageKind.workerFailed:
            message = .failed(
                requestID: try reader.read(UInt64.self, "requestID"),
                code: WorkerFailureCode(rawValue: try reader.read(UInt16.self, "code")),
                message: try reader.readText("message"))
        case WireMessageKind.workerKVEvents:
            let incarnation = try reader.read(UInt64.self, "incarnation")
            let sequence = try reader.read(UInt64.self, "sequence")
            let count = try reader.readCount("events", maxCount: WorkerMessageLimits.maxEntryCount, minimumBytes: 1)
            var events: [CacheEvent] = []
            events.reserveCapacity(count)
            for _ in 0..<count { events.append(try decodeKVEvent(&reader)) }
            message = .kvEvents(KVEventBatch(incarnation: incarnation, sequence: sequence, events: events))
        case WireMessageKind.workerSnapshot:
            let incarnation = try reader.read(UInt64.self, "incarnation")
            let sequence = try reader.read(UInt64.self, "sequence")
            let count = try reader.readCount("chains", maxCount: WorkerMessageLimits.maxEntryCount, minimumBytes: 13)
            var chains: [CachedChain] = []
            chains.reserveCapacity(count)
            for _ in 0..<count {
                chains.append(CachedChain(
                    namespace: try reader.read(UInt64.self, "namespace"), parentHash: try reader.readOptional("parentHash"),
                    pageHashes: try reader.readHashes("pageHashes")))
            }
            message = .snapshot(CacheSnapshot(incarnation: incarnation, sequence: sequence, chains: chains))
        case WireMessageKind.workerHeartbeat:
            message = .heartbeat(WorkerHeartbeat(
                incarnation: try reader.read(UInt64.self, "incarnation"),
                sequence: try reader.read(UInt64.self, "sequence"),
                load: LoadReport(
                    runningCount: Int(try reader.read(UInt32.self, "runningCount")),
                    waitingCount: Int(try reader.read(UInt32.self, "waitingCount")),
                    waitingPrefillTokens: Int(try reader.read(UInt32.self, "waitingPrefillTokens")),
                    freePages: Int(try reader.read(UInt32.self, "freePages")),
                    evictablePages: Int(try reader.read(UInt32.self, "evictablePages")),
                    cachedPages: Int(try reader.read(UInt32.self, "cachedPages")),
                    totalPages: Int(try reader.read(UInt32.self, "totalPages")),
                    prefillTokensPerSecond: try reader.readDouble("prefillTokensPerSecond"),
                    decodeTokensPerSecond: try reader.readDouble("decodeTokensPerSecond"))))
        case WireMessageKind.workerDraining:
            message = .draining(deadlineMilliseconds: try reader.read(UInt32.self, "deadlineMilliseconds"))
        case WireMessageKind.workerLeaving:
            message = .leaving
        default:
            throw unknownKind(reader.header.kind, direction: "worker → router")
        }
        try reader.finish()
        return message
    }

    private static func decodeTokens(_ reader: inout WireReader) throws(WireError) -> [TokenOutput] {
        // An output takes at least 20 bytes (id, index, two counts).
        let count = try reader.readCount("outputs", maxCount: WorkerMessageLimits.maxEntryCount, minimumBytes: 20)
        var outputs: [TokenOutput] = []
        outputs.reserveCapacity(count)
        for _ in 0..<count {
            let requestID = try reader.read(UInt64.self, "requestID")
            let firstIndex = try reader.read(UInt32.self, "firstIndex")
            let tokenIDs = try reader.readTokens("tokenIDs")
            guard !tokenIDs.isEmpty else { throw WireError(.invalidValue, "request \(requestID): empty token output") }
            let logprobCount = try reader.readCount("logprobs", maxCount: tokenIDs.count, minimumBytes: 8)
            guard logprobCount == 0 || logprobCount == tokenIDs.count else {
                throw WireError(.invalidValue, "request \(requestID): \(logprobCount) logprobs for \(tokenIDs.count) tokens")
            }
            var logprobs: [TokenLogprobs] = []
            logprobs.reserveCapacity(logprobCount)
            for _ in 0..<logprobCount {
                let logprob = try reader.readFloat("logprob")
                let topCount = try reader.readCount("top", maxCount: WorkerMessageLimits.maxTopLogprobs, minimumBytes: 8)
                var top: [TokenLogprob] = []
                top.reserveCapacity(topCount)
                for _ in 0..<topCount {
                    top.append(TokenLogprob(tokenID: try reader.read(Int32.self, "top.tokenID"), logprob: try reader.readFloat("top.logprob")))
                }
                logprobs.append(TokenLogprobs(logprob: logprob, top: top))
            }
            outputs.append(TokenOutput(requestID: requestID, firstIndex: firstIndex, tokenIDs: tokenIDs, logprobs: logprobs))
        }
        return outputs
    }

    private static func decodeFinish(_ reader: inout WireReader) throws(WireError) -> RequestFinish {
        let requestID = try reader.read(UInt64.self, "requestID")
        let code = try reader.read(UInt8.self, "reason")
        let stopTokenID = try reader.read(Int32.self, "stopTokenID")
        let message = try reader.readText("message")
        let reason: FinishReason
        switch code {
        case 0:
            guard stopTokenID >= 0 else { throw WireError(.invalidValue, "request \(requestID): stop token \(stopTokenID)") }
            reason = .stop(tokenID: stopTokenID)
        case 1: reason = .length
        case 2: reason = .abort
        case 3: reason = .error(message: message)
        default: throw WireError(.invalidValue, "request \(requestID): unknown finish reason \(code)")
        }
        return RequestFinish(
            requestID: requestID, reason: reason, promptTokens: try reader.read(UInt32.self, "promptTokens"),
            completionTokens: try reader.read(UInt32.self, "completionTokens"),
            cachedTokens: try reader.read(UInt32.self, "cachedTokens"))
    }

    private static func decodeKVEvent(_ reader: inout WireReader) throws(WireError) -> CacheEvent {
        switch try reader.read(UInt8.self, "event.tag") {
        case 1:
            let namespace = try reader.read(UInt64.self, "namespace")
            let parentHash = try reader.readOptional("parentHash")
            let pageHashes = try reader.readHashes("pageHashes")
            guard !pageHashes.isEmpty else { throw WireError(.invalidValue, "stored event without pages") }
            return .stored(namespace: namespace, parentHash: parentHash, pageHashes: pageHashes)
        case 2:
            return .removed(pageHashes: try reader.readHashes("pageHashes"))
        case 3:
            return .cleared
        case let tag:
            throw WireError(.invalidValue, "unknown cache event tag \(tag)")
        }
    }
}
