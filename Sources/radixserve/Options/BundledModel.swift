import Foundation

/// Finds the demo model that ships in the repository (`models/demo`), so commands work without
/// `--model`: `$RADIXSERVE_MODEL` first, then `models/demo` under the current directory, then
/// relative to the executable (`.build/<config>/radixserve` → `../../models/demo`).
enum BundledModel {
    static let relativePath = "models/demo"

    static let defaultPath: String = {
        if let path = ProcessInfo.processInfo.environment["RADIXSERVE_MODEL"], !path.isEmpty { return path }
        let fileManager = FileManager.default
        var candidates = [URL(fileURLWithPath: fileManager.currentDirectoryPath).appendingPathComponent(relativePath)]
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            directory = directory.deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent(relativePath))
        }
        let found = candidates.first { fileManager.fileExists(atPath: $0.appendingPathComponent("config.json").path) }
        return (found ?? candidates[0]).path
    }()

    static let hint = " (the bundled demo model lives in models/demo of the repository; run from there or pass --model DIR)"
}
