// RadixServe: how every process writes its log — one line per event on standard error.

import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one line per event:
///
/// ```
/// radixserve router: registered worker 3 (model demo, tp 1, 4096 KV pages) worker=3
/// radixserve worker: warning: dropped a malformed message from the router: … worker=3
/// ```
/// The logger's label names the process (`radixserve.router` prints as `radixserve router`);
/// levels from `warning` up are spelled out; metadata follows as `key=value`, sorted by key.
/// Lines are written whole, so lines of several threads never interleave.
package struct LineLogHandler: LogHandler {
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    private let prefix: String
    private let sink: LineSink

    /// A handler for `label` at `level`, writing to standard error or to `sink`.
    package init(label: String, level: Logger.Level = .info, sink: LineSink = .standardError) {
        prefix = label.replacingOccurrences(of: ".", with: " ")
        logLevel = level
        self.sink = sink
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        sink.write(line(event.level, event.message, event.metadata))
    }

    /// The line an event becomes, without its newline.
    package func line(_ level: Logger.Level, _ message: Logger.Message, _ extra: Logger.Metadata?) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra { merged.merge(extra) { _, new in new } }
        var text = prefix + ": "
        if level >= .warning { text += "\(level): " }
        text += message.description
        for key in merged.keys.sorted() { text += " \(key)=\(merged[key]!)" }
        return text
    }
}

/// Where ``LineLogHandler`` writes: standard error, or a buffer that tests read.
package final class LineSink: Sendable {
    private let lines = Mutex<[String]>([])
    private let isStandardError: Bool

    private init(isStandardError: Bool) { self.isStandardError = isStandardError }

    /// Standard error of the process.
    package static let standardError = LineSink(isStandardError: true)

    /// A sink that keeps the lines in memory.
    package static func memory() -> LineSink { LineSink(isStandardError: false) }

    /// The lines written so far (always empty for standard error).
    package var written: [String] { lines.withLock { $0 } }

    func write(_ line: String) {
        if isStandardError {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        } else {
            lines.withLock { $0.append(line) }
        }
    }
}

/// Process-wide logging set-up of the `radixserve` commands.
package enum ProcessLogging {
    /// Routes every `Logger` of the process to ``LineLogHandler``. Call once, first thing in
    /// `main`; later calls are ignored (swift-log allows one bootstrap per process). Loggers
    /// made afterwards start at ``level``.
    package static func bootstrap() {
        guard configured.withLock({ done in defer { done = true }; return !done }) else { return }
        LoggingSystem.bootstrap { LineLogHandler(label: $0, level: level) }
    }

    /// The level of loggers made from now on (`--log-level`); `info` until set.
    package static var level: Logger.Level {
        get { currentLevel.withLock { $0 } }
        set { currentLevel.withLock { $0 = newValue } }
    }

    private static let configured = Mutex(false)
    private static let currentLevel = Mutex(Logger.Level.info)
}

extension Logger {
    /// A logger that writes nothing (for tests and for library code nobody configured).
    package static func discarding(label: String = "radixserve") -> Logger {
        Logger(label: label) { _ in SwiftLogNoOpLogHandler() }
    }
}
