// RadixServe: where the demo model that ships in the repository is.

import Foundation

/// Finds the demo model that ships in the repository (`models/demo`), so commands work without
/// `--model`: `$RADIXSERVE_MODEL` first, then `models/demo` under the current directory, then
/// relative to the executable (`.build/<config>/radixserve` → `../../models/demo`).
public enum BundledModel {
    static let relativePath = "models/demo"

    /// The checkpoint directory of this process's commands when no `--model` is given.
    public static let defaultPath: String = locate(
        environment: ProcessInfo.processInfo.environment, currentDirectory: FileManager.default.currentDirectoryPath,
        executable: CommandLine.arguments[0])

    /// Held-out text of the demo model's corpus (`scripts/demo_model/held-out.txt`, found beside
    /// the repository's `models/demo` as ``locate(environment:currentDirectory:executable:)`` finds
    /// it, ignoring `$RADIXSERVE_MODEL`).
    public static var heldOutText: URL {
        let demo = locate(
            environment: [:], currentDirectory: FileManager.default.currentDirectoryPath, executable: CommandLine.arguments[0])
        return URL(fileURLWithPath: demo).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/demo_model/held-out.txt")
    }

    static let hint = " (the bundled demo model lives in models/demo of the repository; run from there or pass --model DIR)"

    /// `$RADIXSERVE_MODEL` of `environment` when set; else the first `models/demo` holding a
    /// `config.json` under `currentDirectory` or one to four levels above the directory of
    /// `executable` (symlinks resolved); else the one under `currentDirectory`.
    public static func locate(environment: [String: String], currentDirectory: String, executable: String) -> String {
        if let path = environment["RADIXSERVE_MODEL"], !path.isEmpty { return path }
        let fileManager = FileManager.default
        var candidates = [URL(fileURLWithPath: currentDirectory).appendingPathComponent(relativePath)]
        var directory = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            directory = directory.deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent(relativePath))
        }
        let found = candidates.first { fileManager.fileExists(atPath: $0.appendingPathComponent("config.json").path) }
        return (found ?? candidates[0]).path
    }

    /// Nil when the checkpoint directory `model` (a `--model` value) exists; otherwise the message
    /// for the user, which tells where the demo model lives when `model` is ``defaultPath``.
    public static func problem(model: String) -> String? {
        guard !FileManager.default.fileExists(atPath: model) else { return nil }
        return "--model '\(model)' does not exist" + (model == defaultPath ? hint : "")
    }
}
