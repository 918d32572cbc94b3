// Locating and reading the tokenizer fixtures shared with other test targets.

import Foundation
import Tokenizers

/// Fixture directories under `Tests/Fixtures/tokenizers`, found relative to this file.
enum Fixtures {
    /// The fixture families; each directory holds tokenizer files and `golden.json`.
    static let names = ["llama3-style", "qwen2-style", "gpt2-style", "llama2-style", "metaspace-style"]

    /// `Tests/Fixtures/tokenizers`.
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
        .appendingPathComponent("tokenizers")

    static func directory(_ name: String) -> URL {
        root.appendingPathComponent(name)
    }

    /// One golden case produced by the Python `tokenizers` library.
    struct GoldenCase: Decodable, Sendable {
        let text: String
        let ids: [Int]
        let ids_no_special: [Int]
        let decoded: String
        let decoded_skip_special: String
    }

    static func goldenCases(_ name: String) throws -> [GoldenCase] {
        let data = try Data(contentsOf: directory(name).appendingPathComponent("golden.json"))
        return try JSONDecoder().decode([GoldenCase].self, from: data)
    }

    static func tokenizer(_ name: String) throws -> any Tokenizer {
        try AutoTokenizer.load(directory: directory(name))
    }

    /// A fresh empty directory under the system temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tokenizers-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension String {
    /// Scalars for exact comparison (`==` on String uses canonical equivalence).
    var exactScalars: [UInt32] {
        unicodeScalars.map(\.value)
    }
}
