import Foundation
import ServingTypes
import Testing
import WireProtocol

/// The golden frames of `docs/wire-vectors/`: one file per message kind, which another
/// implementation decodes and re-encodes byte for byte. Each file must decode to the message listed
/// here, and the message must encode to exactly the file's bytes.
///
/// `RADIXSERVE_WRITE_WIRE_VECTORS=1 swift test --filter WireVectorTests` rewrites the files from
/// this table (after a deliberate change of the protocol; review the diff).
@Suite struct WireVectorTests {
    /// One golden frame.
    struct Vector: CustomTestStringConvertible, Sendable {
        var file: String
        var direction: String
        var fields: String
        var message: Message
        var testDescription: String { file }
    }

    enum Message: Sendable {
        case router(RouterToWorker)
        case worker(WorkerToRouter)
        case rank(RankMessage)

        var encoded: [UInt8] {
            switch self {
            case .router(let message): message.encoded
            case .worker(let message): message.encoded
            case .rank(let message): message.encoded
            }
        }

        /// Decodes `frame` as this message's family and re-encodes the result.
        func roundTrip(_ frame: [UInt8]) throws -> (matches: Bool, reencoded: [UInt8]) {
            switch self {
            case .router(let message):
                let decoded = try RouterToWorker.decode(frame)
                return (decoded == message, decoded.encoded)
            case .worker(let message):
                let decoded = try WorkerToRouter.decode(frame)
                return (decoded == message, decoded.encoded)
            case .rank(let message):
                let decoded = try RankMessage.decode(frame)
                return (decoded == message, decoded.encoded)
            }
        }
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/wire-vectors")

    static let vectors: [Vector] = rankVectors + routerVectors + workerVectors

    static let rankVectors: [Vector] = [
        Vector(
            file: "0x0101-rank-hello.hex", direction: "every rank → all ranks",
            fields: "rank 1, tensorParallelSize 2, maxStepTokens 2048, maxLogitRows 256, modelFingerprint \"d6eba23b1b75d4e6\", modelName \"models/demo\"",
            message: .rank(.hello(RankHello(
                rank: 1, tensorParallelSize: 2, modelFingerprint: "d6eba23b1b75d4e6", modelName: "models/demo",
                maxStepTokens: 2048, maxLogitRows: 256)))),
        Vector(
            file: "0x0102-rank-step.hex", direction: "leader → followers",
            fields: """
                sequence 42, pageCount 8, pageSize 4, tokenIDs [5, 6, 7, 9], positions [0, 1, 2, 7], \
                slotMapping [0, 1, 2, 15], queryStarts [0, 3, 4], contextLengths [3, 8], pageTableStarts [0, 1, 3], \
                pageIDs [0, 2, 3], logitRows [2, 3]
                """,
            message: .rank(.step(StepPlan(
                sequence: 42, pageCount: 8, pageSize: 4, tokenIDs: [5, 6, 7, 9], positions: [0, 1, 2, 7],
                slotMapping: [0, 1, 2, 15], queryStarts: [0, 3, 4], contextLengths: [3, 8], pageTableStarts: [0, 1, 3],
                pageIDs: [0, 2, 3], logitRows: [2, 3])))),
        Vector(
            file: "0x0103-rank-heartbeat.hex", direction: "leader → followers", fields: "sequence 0x0102030405060708",
            message: .rank(.heartbeat(sequence: 0x0102_0304_0506_0708))),
        Vector(
            file: "0x0104-rank-shutdown.hex", direction: "leader → followers", fields: "reason \"done\"",
            message: .rank(.shutdown(reason: "done"))),
    ]

    static let routerVectors: [Vector] = [
        Vector(
            file: "0x0202-registered.hex", direction: "router → worker",
            fields: "workerID 7, heartbeatMilliseconds 500",
            message: .router(.registered(workerID: 7, heartbeatMilliseconds: 500))),
        Vector(
            file: "0x0203-refused.hex", direction: "router → worker",
            fields: "reason \"page size 32 ≠ router's 16\" (UTF-8: ≠ is 3 bytes)",
            message: .router(.refused(reason: "page size 32 ≠ router's 16"))),
        Vector(
            file: "0x0204-submit.hex", direction: "router → worker",
            fields: """
                requestID 0x0000000100000002, tokenIDs [1, 396, 300, 40000], maxTokens 32, temperature 0.5, topK 40, \
                topP 0.875, minP 0.0625, seed 42 (present), frequencyPenalty 0.25, presencePenalty -0.5, \
                repetitionPenalty 1.5, stopTokenIDs [2, 7], ignoreEOS true, logprobs 5 (present), namespace 0xfeed, \
                logitBias [(7, -100), (396, 2.5)], minTokens 4, constraint regex "[a-z]+( [a-z]+)*", \
                resumedOutputCount 1
                """,
            message: .router(.submit(WorkerSubmit(
                requestID: 0x0000_0001_0000_0002, tokenIDs: [1, 396, 300, 40_000],
                params: SamplingParams(
                    maxTokens: 32, temperature: 0.5, topK: 40, topP: 0.875, minP: 0.0625, seed: 42,
                    frequencyPenalty: 0.25, presencePenalty: -0.5, repetitionPenalty: 1.5, stopTokenIDs: [2, 7],
                    ignoreEOS: true, logprobs: 5, namespace: 0xfeed, logitBias: [396: 2.5, 7: -100], minTokens: 4,
                    constraint: .regex("[a-z]+( [a-z]+)*")), resumedOutputCount: 1)))),
        Vector(
            file: "0x0204-submit-json-schema.hex", direction: "router → worker",
            fields: """
                requestID 10, tokenIDs [1], maxTokens 64, temperature 1, as defaults otherwise, constraint jsonSchema \
                "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}"
                """,
            message: .router(.submit(WorkerSubmit(
                requestID: 10, tokenIDs: [1], params: SamplingParams(
                    maxTokens: 64, constraint: .jsonSchema(#"{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"#)))))),
        Vector(
            file: "0x0204-submit-json-object.hex", direction: "router → worker",
            fields: "requestID 11, tokenIDs [1], maxTokens 64, temperature 1, as defaults otherwise, constraint jsonObject",
            message: .router(.submit(WorkerSubmit(requestID: 11, tokenIDs: [1], params: SamplingParams(maxTokens: 64, constraint: .jsonObject))))),
        Vector(
            file: "0x0204-submit-defaults.hex", direction: "router → worker",
            fields: """
                requestID 9, tokenIDs [1, 2, 3], maxTokens 16, temperature 0 (greedy), topK 0, topP 1, minP 0, \
                seed absent, penalties 0, 0, 1, stopTokenIDs [], ignoreEOS false, logprobs absent, namespace 0, \
                logitBias [], minTokens 0, constraint none, resumedOutputCount 0
                """,
            message: .router(.submit(WorkerSubmit(
                requestID: 9, tokenIDs: [1, 2, 3], params: SamplingParams(maxTokens: 16, temperature: 0))))),
        Vector(
            file: "0x0205-abort.hex", direction: "router → worker", fields: "requestID 0x0102030405060708",
            message: .router(.abort(requestID: 0x0102_0304_0506_0708))),
        Vector(
            file: "0x0206-flush-cache.hex", direction: "router → worker", fields: "(empty)",
            message: .router(.flushCache)),
        Vector(
            file: "0x0207-snapshot-request.hex", direction: "router → worker", fields: "(empty)",
            message: .router(.snapshotRequest)),
        Vector(
            file: "0x0208-register-again.hex", direction: "router → worker", fields: "(empty)",
            message: .router(.registerAgain)),
    ]

    static let workerVectors: [Vector] = [
        Vector(
            file: "0x0201-register.hex", direction: "worker → router",
            fields: """
                protocolRevision 3, workerID 7, incarnation 0x0123456789abcdef, modelID "demo", \
                modelFingerprint "d6eba23b1b75d4e6", pageSize 16, hashSeed 0, tensorParallelSize 1, \
                capacityPages 4096, maxModelLength 2048, features 1 (deterministic)
                """,
            message: .worker(.register(WorkerRegistration(
                workerID: 7, incarnation: 0x0123_4567_89ab_cdef, modelID: "demo", modelFingerprint: "d6eba23b1b75d4e6",
                pageSize: 16, hashSeed: 0, tensorParallelSize: 1, capacityPages: 4096, maxModelLength: 2048,
                features: .deterministic)))),
        Vector(
            file: "0x0210-tokens.hex", direction: "worker → router",
            fields: """
                2 outputs: (requestID 1, firstIndex 0, tokenIDs [5], no logprobs); \
                (requestID 2, firstIndex 9, tokenIDs [6, 7], logprobs [(-0.25, top [(6, -0.25), (8, -2)]), (-inf, top [])])
                """,
            message: .worker(.tokens([
                TokenOutput(requestID: 1, firstIndex: 0, tokenIDs: [5]),
                TokenOutput(
                    requestID: 2, firstIndex: 9, tokenIDs: [6, 7],
                    logprobs: [
                        TokenLogprobs(
                            logprob: -0.25,
                            top: [TokenLogprob(tokenID: 6, logprob: -0.25), TokenLogprob(tokenID: 8, logprob: -2)]),
                        TokenLogprobs(logprob: -.infinity, top: []),
                    ]),
            ]))),
        Vector(
            file: "0x0211-finished-stop.hex", direction: "worker → router",
            fields: "requestID 1, reason 0 (stop), stopTokenID 2, message \"\", promptTokens 40, completionTokens 3 (the stop token included), cachedTokens 32",
            message: .worker(.finished(RequestFinish(
                requestID: 1, reason: .stop(tokenID: 2), promptTokens: 40, completionTokens: 3, cachedTokens: 32)))),
        Vector(
            file: "0x0211-finished-error.hex", direction: "worker → router",
            fields: "requestID 4, reason 3 (error), stopTokenID -1, message \"invalid top_p 0.0: must be in (0, 1]\", promptTokens 9, completionTokens 0, cachedTokens 0",
            message: .worker(.finished(RequestFinish(
                requestID: 4, reason: .error(message: "invalid top_p 0.0: must be in (0, 1]"), promptTokens: 9, completionTokens: 0,
                cachedTokens: 0)))),
        Vector(
            file: "0x0212-failed.hex", direction: "worker → router",
            fields: "requestID 5, code 3 (unavailable), message \"worker is shutting down\"",
            message: .worker(.failed(requestID: 5, code: .unavailable, message: "worker is shutting down"))),
        Vector(
            file: "0x0213-kv-events.hex", direction: "worker → router",
            fields: """
                incarnation 11, sequence 1, 4 events: stored(namespace 0, parentHash absent, pageHashes \
                [0x8752c74bc787fd40, 0xb5c80a0ef58bfcdd]), stored(namespace 7, parentHash 0x648088a3f5e04c22, \
                pageHashes [0x1d3ada946bea56d1]), removed([0xb5c80a0ef58bfcdd]), cleared
                """,
            message: .worker(.kvEvents(KVEventBatch(incarnation: 11, sequence: 1, events: [
                .stored(namespace: 0, parentHash: nil, pageHashes: [0x8752_c74b_c787_fd40, 0xb5c8_0a0e_f58b_fcdd]),
                .stored(namespace: 7, parentHash: 0x6480_88a3_f5e0_4c22, pageHashes: [0x1d3a_da94_6bea_56d1]),
                .removed(pageHashes: [0xb5c8_0a0e_f58b_fcdd]),
                .cleared,
            ])))),
        Vector(
            file: "0x0214-snapshot.hex", direction: "worker → router",
            fields: """
                incarnation 11, sequence 9, 2 chains: (namespace 0, parentHash absent, pageHashes \
                [0x8752c74bc787fd40]), (namespace 0, parentHash 0x8752c74bc787fd40, pageHashes [0xb5c80a0ef58bfcdd])
                """,
            message: .worker(.snapshot(CacheSnapshot(incarnation: 11, sequence: 9, chains: [
                CachedChain(namespace: 0, parentHash: nil, pageHashes: [0x8752_c74b_c787_fd40]),
                CachedChain(namespace: 0, parentHash: 0x8752_c74b_c787_fd40, pageHashes: [0xb5c8_0a0e_f58b_fcdd]),
            ])))),
        Vector(
            file: "0x0215-heartbeat.hex", direction: "worker → router",
            fields: """
                incarnation 11, sequence 9, runningCount 3, waitingCount 4, waitingPrefillTokens 100, freePages 10, \
                evictablePages 20, cachedPages 30, totalPages 64, prefillTokensPerSecond 1234.5, decodeTokensPerSecond 67.5
                """,
            message: .worker(.heartbeat(WorkerHeartbeat(
                incarnation: 11, sequence: 9,
                load: LoadReport(
                    runningCount: 3, waitingCount: 4, waitingPrefillTokens: 100, freePages: 10, evictablePages: 20,
                    cachedPages: 30, totalPages: 64, prefillTokensPerSecond: 1234.5, decodeTokensPerSecond: 67.5))))),
        Vector(
            file: "0x0216-draining.hex", direction: "worker → router", fields: "deadlineMilliseconds 30000",
            message: .worker(.draining(deadlineMilliseconds: 30_000))),
        Vector(
            file: "0x0217-leaving.hex", direction: "worker → router", fields: "(empty)", message: .worker(.leaving)),
    ]

    /// The bytes of a vector file: hex pairs; `#` starts a comment to the end of the line.
    static func bytes(ofVectorFile text: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let data = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for pair in data.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                guard pair.count == 2, let byte = UInt8(pair, radix: 16) else {
                    throw VectorFileError(message: "'\(pair)' is not a hex byte")
                }
                bytes.append(byte)
            }
        }
        return bytes
    }

    struct VectorFileError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The text of a vector file: a comment naming the message and its fields, then 16 bytes a line.
    static func text(of vector: Vector) -> String {
        let frame = vector.message.encoded
        let kind = UInt16(frame[6]) | UInt16(frame[7]) << 8
        var lines = ["# kind 0x\(String(kind, radix: 16, uppercase: false).leftPadded(to: 4)), \(vector.direction)"]
        lines += wrap(vector.fields, width: 98).map { "# \($0)" }
        lines.append("# \(frame.count) bytes: 16-byte header, then \(frame.count - 16) payload bytes")
        for start in stride(from: 0, to: frame.count, by: 16) {
            lines.append(frame[start..<min(start + 16, frame.count)].map { String($0, radix: 16).leftPadded(to: 2) }
                .joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    @Test(arguments: vectors)
    func goldenFrameDecodesAndReencodesByteForByte(vector: Vector) throws {
        let url = Self.directory.appendingPathComponent(vector.file)
        if ProcessInfo.processInfo.environment["RADIXSERVE_WRITE_WIRE_VECTORS"] != nil {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try Self.text(of: vector).write(to: url, atomically: true, encoding: .utf8)
        }
        let frame = try Self.bytes(ofVectorFile: String(contentsOf: url, encoding: .utf8))
        #expect(frame == vector.message.encoded, "\(vector.file) differs from the encoder's bytes")
        let (matches, reencoded) = try vector.message.roundTrip(frame)
        #expect(matches, "\(vector.file) decodes to another message")
        #expect(reencoded == frame, "\(vector.file) does not re-encode byte for byte")
    }

    @Test func everyMessageKindHasAGoldenFrame() throws {
        let kinds = Set(Self.vectors.map { vector in
            let frame = vector.message.encoded
            return UInt16(frame[6]) | UInt16(frame[7]) << 8
        })
        let expected: Set<UInt16> = Set(0x0101...0x0104).union(0x0201...0x0208).union(0x0210...0x0217)
        #expect(kinds == expected)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".hex") }
        #expect(Set(files) == Set(Self.vectors.map(\.file)), "docs/wire-vectors has files no test reads")
    }

    @Test func vectorFileParserRejectsNonHex() {
        #expect(throws: VectorFileError.self) { try Self.bytes(ofVectorFile: "52 58 zz") }
        #expect(throws: VectorFileError.self) { try Self.bytes(ofVectorFile: "525") }
        #expect((try? Self.bytes(ofVectorFile: "# 99\n52 58 # 53\n")) == [0x52, 0x58])
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
