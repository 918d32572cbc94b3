// RadixServe: what a conformance run needs to know about the worker under test.

import Foundation
import Models

/// Settings of one run of the worker conformance kit.
public struct WorkerConformanceOptions: Sendable {
    /// How the kit's ROUTER socket meets the worker.
    public enum Endpoint: Sendable, Hashable {
        /// Bind here; the worker connects (`radixserve worker --router ENDPOINT`).
        case listen(String)
        /// Connect here to a worker that listens (`radixserve worker --listen ENDPOINT`).
        case connect(String)
    }

    public var endpoint: Endpoint
    /// The fingerprint the worker must register (`ModelFingerprint` of its model); `nil`: any.
    public var modelFingerprint: String?
    /// The model's vocabulary; prompt tokens are drawn from `3 ..< min(vocabularySize, 100)`.
    public var vocabularySize: Int
    /// The longest the kit waits for any one answer.
    public var timeout: Duration
    /// The heartbeat interval the kit asks for in `registered`.
    public var heartbeatMilliseconds: UInt32 = 100
    /// How long the kit counts heartbeats after the first one (it expects at least 3 more).
    public var heartbeatWindow: Duration = .milliseconds(1500)

    /// Options for a worker at `endpoint`. Precondition: `vocabularySize >= 4`.
    public init(endpoint: Endpoint, vocabularySize: Int = 100, timeout: Duration = .seconds(30)) {
        precondition(vocabularySize >= 4, "the vocabulary must hold token ids 3 and above")
        self.endpoint = endpoint
        self.vocabularySize = vocabularySize
        self.timeout = timeout
    }

    /// Options from the command line's flags: exactly one of `connect` and `listen`, an endpoint
    /// like `tcp://HOST:PORT` or `ipc://PATH`; `model` (a directory) or `vocabularySize` (at least
    /// 4, default 100), not both; `timeout` in seconds.
    /// - Throws: ``ConformanceError`` naming the flag at fault.
    public init(connect: String?, listen: String?, model: String?, vocabularySize: Int?, timeout: Double) throws(ConformanceError) {
        guard (connect == nil) != (listen == nil) else {
            throw ConformanceError("give exactly one of --connect ENDPOINT (a worker that listens) or --listen ENDPOINT")
        }
        for (flag, endpoint) in [("--connect", connect), ("--listen", listen)] {
            if let endpoint, !Self.isValidEndpoint(endpoint) {
                throw ConformanceError("\(flag) '\(endpoint)' is not an endpoint like tcp://HOST:PORT or ipc://PATH")
            }
        }
        if model != nil && vocabularySize != nil { throw ConformanceError("--vocab-size cannot be combined with --model") }
        if let vocabularySize, vocabularySize < 4 { throw ConformanceError("--vocab-size must be at least 4, got \(vocabularySize)") }
        guard timeout.isFinite && timeout > 0 && timeout <= 86_400 else {
            throw ConformanceError("--timeout must be in (0, 86400] seconds, got \(timeout)")
        }
        self.init(
            endpoint: connect.map { .connect($0) } ?? .listen(listen!), vocabularySize: vocabularySize ?? 100,
            timeout: .milliseconds(Int64(timeout * 1000)))
        if let model { try expectModel(in: URL(fileURLWithPath: model)) }
    }

    /// Whether `endpoint` is `ipc://PATH` or `tcp://HOST:PORT` with a port in 1...65535.
    static func isValidEndpoint(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") { return endpoint.count > "ipc://".count }
        guard endpoint.hasPrefix("tcp://") else { return false }
        let address = endpoint.dropFirst("tcp://".count)
        guard let colon = address.lastIndex(of: ":"), colon != address.startIndex else { return false }
        return Int(address[address.index(after: colon)...]).map { (1...65535).contains($0) } == true
    }

    /// Takes the fingerprint and `vocab_size` of the model in `directory`.
    /// - Throws: ``ConformanceError`` naming the directory when it holds no readable model.
    public mutating func expectModel(in directory: URL) throws(ConformanceError) {
        do {
            let config = try ModelConfig.load(directory: directory)
            modelFingerprint = try ModelFingerprint.compute(directory: directory, checkpoint: Checkpoint(directory: directory))
            vocabularySize = config.vocabularySize
        } catch {
            throw ConformanceError("--model: cannot read the model in \(directory.path): \(error)")
        }
        guard vocabularySize >= 4 else {
            throw ConformanceError("the model in \(directory.path) has vocab_size \(vocabularySize); the kit needs at least 4")
        }
    }
}
