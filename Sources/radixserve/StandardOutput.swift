import Foundation

/// Unbuffered writes to stdout and stderr (Swift 6 forbids touching the C `stdout` global).
enum StandardOutput {
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
