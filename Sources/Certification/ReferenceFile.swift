// RadixServe: transformers' outputs for a checkpoint, as `scripts/make-reference.py` writes them.

import Foundation

/// A checkpoint's `reference.json` (docs/REFERENCE_FORMAT.md): per prompt, the token ids, the f32
/// logits at the last prompt position, and the greedy continuation transformers computed.
public struct ReferenceFile: Decodable, Sendable {
    public struct Prompt: Decodable, Sendable {
        public var text: String
        public var promptTokenIDs: [Int32]
        /// f32 logits at the last prompt position, full vocabulary (6 significant digits).
        public var lastLogits: [Float]
        /// Greedy tokens (prefill, then one token at a time through the KV cache; no EOS stop).
        public var greedyTokenIDs: [Int32]
        public var greedyText: String
        /// Smallest top-1 − top-2 logit gap over the greedy steps.
        public var minMargin: Float
        /// The five largest logits of each greedy step as (id, logit), when the file has them.
        public var stepTop5: [[Candidate]]?

        enum CodingKeys: String, CodingKey {
            case text
            case promptTokenIDs = "prompt_token_ids"
            case lastLogits = "last_logits"
            case greedyTokenIDs = "greedy_token_ids"
            case greedyText = "greedy_text"
            case minMargin = "min_margin"
            case stepTop5 = "step_top5"
        }
    }

    /// A token id and its logit, stored as the pair `[id, logit]`.
    public struct Candidate: Decodable, Sendable, Equatable {
        public var id: Int32
        public var logit: Float

        public init(from decoder: any Decoder) throws {
            var pair = try decoder.unkeyedContainer()
            id = try pair.decode(Int32.self)
            logit = try pair.decode(Float.self)
        }
    }

    public var prompts: [Prompt]

    /// The reference file beside a checkpoint.
    public static func url(model directory: URL) -> URL {
        directory.appendingPathComponent("reference.json")
    }

    /// Loads `directory`'s `reference.json`.
    /// - Throws: ``ReferenceFileError`` naming the file and what is wrong.
    public static func load(model directory: URL) throws -> ReferenceFile {
        let url = url(model: directory)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ReferenceFileError(
                "\(url.path): no reference file; write one with scripts/make-reference.py \(directory.path)")
        }
        let file: ReferenceFile
        do {
            file = try JSONDecoder().decode(ReferenceFile.self, from: data)
        } catch {
            throw ReferenceFileError("\(url.path): not a reference file (docs/REFERENCE_FORMAT.md): \(error)")
        }
        guard !file.prompts.isEmpty else { throw ReferenceFileError("\(url.path): holds no prompts") }
        for (index, prompt) in file.prompts.enumerated() {
            guard !prompt.promptTokenIDs.isEmpty, !prompt.lastLogits.isEmpty, !prompt.greedyTokenIDs.isEmpty else {
                throw ReferenceFileError("\(url.path): prompt \(index) has no token ids, logits or greedy tokens")
            }
        }
        return file
    }

    /// The smallest top-1 margin over every prompt's greedy steps.
    public var minMargin: Float { prompts.map(\.minMargin).min() ?? 0 }
}

/// A reference file that is missing or malformed.
public struct ReferenceFileError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
