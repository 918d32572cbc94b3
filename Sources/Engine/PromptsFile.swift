// RadixServe: the prompts file of `generate --prompts-file`, one request per line.

import Foundation
import Scheduling
import ServingTypes

/// One line of a prompts file (JSONL): `{"prompt": "...", optional sampling fields}`.
public struct PromptLine: Sendable {
    /// The prompt text.
    public var prompt: String
    /// The defaults, overridden by the line's sampling fields.
    public var params: SamplingParams

    /// Fields a line may carry besides `prompt`.
    public static let samplingFields: Set<String> = [
        "max_tokens", "temperature", "top_p", "top_k", "min_p", "seed", "ignore_eos", "stop_token_ids",
        "frequency_penalty", "presence_penalty", "repetition_penalty",
    ]

    /// Reads a JSONL file; every non-blank line must be an object with a string `prompt`.
    /// Sampling fields override `defaults`. Errors name the file and line number.
    public static func load(path: String, defaults: SamplingParams) throws -> [PromptLine] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw LineError("cannot read prompts file \(path): \(error.localizedDescription)")
        }
        var lines: [PromptLine] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            do {
                lines.append(try parse(line, defaults: defaults))
            } catch {
                throw LineError("\(path) line \(index + 1): \(error)")
            }
        }
        guard !lines.isEmpty else { throw LineError("\(path) contains no prompts") }
        return lines
    }

    private static func parse(_ line: Substring, defaults: SamplingParams) throws -> PromptLine {
        let fields: [String: LineValue]
        do {
            fields = try JSONDecoder().decode([String: LineValue].self, from: Data(line.utf8))
        } catch {
            throw LineError("expected a JSON object like {\"prompt\": \"...\"}")
        }
        guard case .string(let prompt)? = fields["prompt"] else { throw LineError("missing string field \"prompt\"") }
        if let unknown = fields.keys.sorted().first(where: { $0 != "prompt" && !samplingFields.contains($0) }) {
            throw LineError("unknown field \"\(unknown)\"")
        }
        var params = defaults
        if let value = fields["max_tokens"] { params.maxTokens = try value.integer("max_tokens") }
        if let value = fields["temperature"] { params.temperature = try value.number("temperature") }
        if let value = fields["top_p"] { params.topP = try value.number("top_p") }
        if let value = fields["top_k"] { params.topK = try value.integer("top_k") }
        if let value = fields["min_p"] { params.minP = try value.number("min_p") }
        if let value = fields["seed"] { params.seed = UInt64(bitPattern: Int64(try value.integer("seed"))) }
        if let value = fields["frequency_penalty"] { params.frequencyPenalty = try value.number("frequency_penalty") }
        if let value = fields["presence_penalty"] { params.presencePenalty = try value.number("presence_penalty") }
        if let value = fields["repetition_penalty"] { params.repetitionPenalty = try value.number("repetition_penalty") }
        if let value = fields["ignore_eos"] {
            guard case .bool(let flag) = value else { throw LineError("\"ignore_eos\" must be true or false") }
            params.ignoreEOS = flag
        }
        if let value = fields["stop_token_ids"] {
            guard case .array(let list) = value else {
                throw LineError("\"stop_token_ids\" must be an array of integers")
            }
            params.stopTokenIDs = Set(try list.map { Int32(clamping: try $0.integer("stop_token_ids")) })
        }
        do {
            try params.validate()
        } catch {
            throw LineError(error.description)
        }
        return PromptLine(prompt: prompt, params: params)
    }
}

/// A JSON value of a prompts-file line, typed strictly (`1` is not `true`).
enum LineValue: Decodable {
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([LineValue])
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([LineValue].self) {
            self = .array(value)
        } else {
            self = .other
        }
    }

    func number(_ name: String) throws -> Double {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: throw LineError("\"\(name)\" must be a number")
        }
    }

    func integer(_ name: String) throws -> Int {
        guard case .integer(let value) = self else { throw LineError("\"\(name)\" must be an integer") }
        return value
    }
}

/// A problem with a prompts file or one of its lines; the description names the file and line.
public struct LineError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
