// RadixServe fuzzing: inputs for decoders that read files.

import Foundation

/// A file (or a directory holding named files) that a target rewrites with every input, for
/// decoders that take paths (`SafetensorsFile`, `AutoTokenizer`). It lives in `/dev/shm` where
/// that exists, so each input costs a write to memory, and is removed at exit by the OS's tmp
/// cleaning only (libFuzzer exits with `_exit`); the path includes the process id.
public struct ScratchDirectory: Sendable {
    /// The directory, created on init.
    public let url: URL

    /// Creates `<tmp>/radixserve-fuzz-<name>-<pid>`.
    public init(name: String) {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        url = URL(fileURLWithPath: base).appendingPathComponent("radixserve-fuzz-\(name)-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `bytes` to the file `name` in the directory (replacing it) and returns its URL.
    /// Traps when the write fails: the harness, not the decoder, is broken then.
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer, to name: String) -> URL {
        let file = url.appendingPathComponent(name)
        do {
            try Data(bytes).write(to: file)
        } catch {
            preconditionFailure("cannot write the fuzz input to \(file.path): \(error)")
        }
        return file
    }

    /// Removes the file `name` if it exists.
    public func remove(_ name: String) {
        try? FileManager.default.removeItem(at: url.appendingPathComponent(name))
    }
}
