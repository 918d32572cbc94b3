// Encoding of router ⇄ worker frames.

import ServingTypes

extension WireWriter {
    /// `f64`: the IEEE-754 bit pattern as a little-endian u64.
    mutating func write(double value: Double) { write(value.bitPattern) }
    /// `f32`: the IEEE-754 bit pattern as a little-endian u32.
    mutating func write(float value: Float) { write(value.bitPattern) }
    /// `u8` 0 or 1.
    mutating func write(bool value: Bool) { write(UInt8(value ? 1 : 0)) }
    /// `opt u64`: a flag byte, then the value when present.
    mutating func write(optional value: UInt64?) {
        write(bool: value != nil)
        if let value { write(value) }
    }
    /// `u64[]`: a u32 count, then the values.
    mutating func write(hashes: [UInt64]) {
        write(UInt32(hashes.count))
        for hash in hashes { write(hash) }
    }
    /// `string(n)` truncated to at most `maxBytes` bytes on a character boundary.
    mutating func write(text: String, maxBytes: Int) {
        guard text.utf8.count > maxBytes else { return write(text) }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: maxBytes)
        while String.Index(end, within: text) == nil { end = text.utf8.index(before: end) }
        write(String(text[..<end]))
    }
}

extension RouterToWorker {
    /// Writes this message as one frame into `writer` (reusing its buffer).
    public func encode(into writer: inout WireWriter) {
        switch self {
        case .registered(let workerID, let heartbeatMilliseconds):
            writer.begin(kind: WireMessageKind.workerRegistered)
            writer.write(workerID)
            writer.write(heartbeatMilliseconds)
        case .refused(let reason):
            writer.begin(kind: WireMessageKind.workerRefused)
            writer.write(text: reason, maxBytes: WorkerMessageLimits.maxTextBytes)
        case .submit(let submit):
            writer.begin(kind: WireMessageKind.workerSubmit)
            writer.write(submit.requestID)
            writer.write(submit.tokenIDs)
            let params = submit.params
            writer.write(UInt32(clamping: params.maxTokens))
            writer.write(double: params.temperature)
            writer.write(Int32(clamping: params.topK))
            writer.write(double: params.topP)
            writer.write(double: params.minP)
            writer.write(optional: params.seed)
            writer.write(double: params.frequencyPenalty)
            writer.write(double: params.presencePenalty)
            writer.write(double: params.repetitionPenalty)
            writer.write(params.stopTokenIDs.sorted())
            writer.write(bool: params.ignoreEOS)
            writer.write(optional: params.logprobs.map { UInt64(clamping: $0) })
            writer.write(params.namespace)
            let biases = params.logitBias.sorted { $0.key < $1.key }
            writer.write(UInt32(biases.count))
            for (token, bias) in biases {
                writer.write(token)
                writer.write(float: bias)
            }
            writer.write(UInt32(clamping: params.minTokens))
            switch params.constraint {
            case nil: writer.write(UInt8(0))
            case .jsonObject: writer.write(UInt8(1))
            case .jsonSchema(let schema):
                writer.write(UInt8(2))
                writer.write(schema)
            case .regex(let pattern):
                writer.write(UInt8(3))
                writer.write(pattern)
            }
            writer.write(submit.resumedOutputCount)
        case .abort(let requestID):
            writer.begin(kind: WireMessageKind.workerAbort)
            writer.write(requestID)
        case .flushCache:
            writer.begin(kind: WireMessageKind.workerFlushCache)
        case .snapshotRequest:
            writer.begin(kind: WireMessageKind.workerSnapshotRequest)
        case .registerAgain:
            writer.begin(kind: WireMessageKind.workerRegisterAgain)
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

extension WorkerToRouter {
    /// Writes this message as one frame into `writer` (reusing its buffer).
    public func encode(into writer: inout WireWriter) {
        switch self {
        case .register(let registration):
            writer.begin(kind: WireMessageKind.workerRegister)
            writer.write(registration.protocolRevision)
            writer.write(registration.workerID)
            writer.write(registration.incarnation)
            writer.write(text: registration.modelID, maxBytes: WorkerMessageLimits.maxTextBytes)
            writer.write(text: registration.modelFingerprint, maxBytes: WorkerMessageLimits.maxFingerprintBytes)
            writer.write(registration.pageSize)
            writer.write(registration.hashSeed)
            writer.write(registration.tensorParallelSize)
            writer.write(registration.capacityPages)
            writer.write(registration.maxModelLength)
            writer.write(registration.features.rawValue)
        case .tokens(let outputs):
            writer.begin(kind: WireMessageKind.workerTokens)
            writer.write(UInt32(outputs.count))
            for output in outputs {
                writer.write(output.requestID)
                writer.write(output.firstIndex)
                writer.write(output.tokenIDs)
                writer.write(UInt32(output.logprobs.count))
                for record in output.logprobs {
                    writer.write(float: record.logprob)
                    writer.write(UInt32(record.top.count))
                    for pair in record.top {
                        writer.write(pair.tokenID)
                        writer.write(float: pair.logprob)
                    }
                }
            }
        case .finished(let finish):
            writer.begin(kind: WireMessageKind.workerFinished)
            writer.write(finish.requestID)
            let (code, stopToken, message): (UInt8, Int32, String) =
                switch finish.reason {
                case .stop(let tokenID): (0, tokenID, "")
                case .length: (1, -1, "")
                case .abort: (2, -1, "")
                case .error(let message): (3, -1, message)
                }
            writer.write(code)
            writer.write(stopToken)
            writer.write(text: message, maxBytes: WorkerMessageLimits.maxTextBytes)
            writer.write(finish.promptTokens)
            writer.write(finish.completionTokens)
            writer.write(finish.cachedTokens)
        case .failed(let requestID, let code, let message):
            writer.begin(kind: WireMessageKind.workerFailed)
            writer.write(requestID)
            writer.write(code.rawValue)
            writer.write(text: message, maxBytes: WorkerMessageLimits.maxTextBytes)
        case .kvEvents(let batch):
            writer.begin(kind: WireMessageKind.workerKVEvents)
            writer.write(batch.incarnation)
            writer.write(batch.sequence)
            writer.write(UInt32(batch.events.count))
            for event in batch.events {
                switch event {
                case .stored(let namespace, let parentHash, let pageHashes):
                    writer.write(UInt8(1))
                    writer.write(namespace)
                    writer.write(optional: parentHash)
                    writer.write(hashes: pageHashes)
                case .removed(let pageHashes):
                    writer.write(UInt8(2))
                    writer.write(hashes: pageHashes)
                case .cleared:
                    writer.write(UInt8(3))
                }
            }
        case .snapshot(let snapshot):
            writer.begin(kind: WireMessageKind.workerSnapshot)
            writer.write(snapshot.incarnation)
            writer.write(snapshot.sequence)
            writer.write(UInt32(snapshot.chains.count))
            for chain in snapshot.chains {
                writer.write(chain.namespace)
                writer.write(optional: chain.parentHash)
                writer.write(hashes: chain.pageHashes)
            }
        case .heartbeat(let beat):
            writer.begin(kind: WireMessageKind.workerHeartbeat)
            writer.write(beat.incarnation)
            writer.write(beat.sequence)
            let load = beat.load
            for count in [load.runningCount, load.waitingCount, load.waitingPrefillTokens, load.freePages,
                load.evictablePages, load.cachedPages, load.totalPages]
            {
                writer.write(UInt32(clamping: count))
            }
            writer.write(double: load.prefillTokensPerSecond)
            writer.write(double: load.decodeTokensPerSecond)
        case .draining(let deadlineMilliseconds):
            writer.begin(kind: WireMessageKind.workerDraining)
            writer.write(deadlineMilliseconds)
        case .leaving:
            writer.begin(kind: WireMessageKind.workerLeaving)
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
