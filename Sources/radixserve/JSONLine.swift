import Foundation

extension Encodable {
    /// One JSON object on its own line (sorted keys, snake_case), as every `--json` output prints.
    /// Keys already in snake_case (explicit `CodingKeys`) pass through unchanged.
    func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}
