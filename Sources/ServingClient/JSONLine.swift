import Foundation

extension Encodable {
    /// One JSON object on its own line (sorted keys, snake_case, `/` unescaped), as every `--json`
    /// output of the command line prints. Keys already in snake_case (explicit `CodingKeys`) pass
    /// through unchanged.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}
