import Certification
import Foundation
import Testing
import TestSupport

/// Runs the built `radixserve` executable on small prompts files.
@Suite struct GenerateCommandTests {
    /// The executable, next to the test bundle in the products directory.
    static let executable = Bundle.main.bundleURL.appendingPathComponent("radixserve")

    struct Run {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    static func run(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self))
    }

    static func writeFile(_ text: String) throws -> URL {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("prompts.jsonl")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func promptsFilePrintsOneJSONLinePerPromptInOrder() throws {
        let reference = try ModelReference.load("llama-gqa")
        let prompts = reference.prompts.map(\.text)
        var lines = prompts.map { "{\"prompt\": \(Self.quoted($0))}" }
        lines.append("")
        lines.append("{\"prompt\": \(Self.quoted(prompts[0])), \"max_tokens\": 3, \"temperature\": 0.8, \"seed\": 5}")
        let file = try Self.writeFile(lines.joined(separator: "\n") + "\n")
        let run = try Self.run([
            "generate", "--model", Fixtures.model("llama-gqa").path, "--prompts-file", file.path, "--json",
            "--max-tokens", "32", "--ignore-eos", "--kv-memory", "8M",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let records = try run.standardOutput.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        try #require(records.count == prompts.count + 1)
        for (record, prompt) in zip(records, reference.prompts) {
            #expect(record["prompt_token_ids"] as? [Int] == prompt.promptTokenIDs.map(Int.init))
            #expect(record["token_ids"] as? [Int] == prompt.greedyTokenIDs.map(Int.init))
            #expect(record["finish_reason"] as? String == "length")
            #expect(record["cached_tokens"] as? Int != nil)
            #expect(record["text"] as? String != nil)
        }
        #expect((records.last!["token_ids"] as? [Int])?.count == 3)
    }

    static func withoutEndOfSequence(_ text: String) -> String {
        text.replacingOccurrences(of: "<|endoftext|>", with: "").replacingOccurrences(of: "<|im_end|>", with: "")
    }

    @Test func regexAndJSONSchemaFlagsConstrainTheOutput() throws {
        let regex = try Self.run([
            "generate", "--model", Fixtures.demoModel.path, "--prompt", "Code:", "--regex", "[A-Z]{2}-[0-9]{3}",
            "--temperature", "1", "--seed", "4", "--max-tokens", "16", "--kv-memory", "8M", "--json",
        ])
        #expect(regex.status == 0, "\(regex.standardError)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(regex.standardOutput.utf8)) as? [String: Any])
        // The record's text decodes every generated token, the end-of-sequence token included
        // (the demo model has two: <|endoftext|> and <|im_end|>).
        let text = Self.withoutEndOfSequence(try #require(record["text"] as? String))
        #expect(text.wholeMatch(of: /[A-Z]{2}-[0-9]{3}/) != nil, "\(text)")
        let schema = #"{"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":9}},"required":["n"]}"#
        let json = try Self.run([
            "generate", "--model", Fixtures.demoModel.path, "--prompt", "JSON:", "--json-schema", schema, "--max-tokens", "24",
            "--kv-memory", "8M", "--json",
        ])
        #expect(json.status == 0, "\(json.standardError)")
        let generated = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let object = try JSONSerialization.jsonObject(
            with: Data(Self.withoutEndOfSequence(try #require(generated["text"] as? String)).utf8))
        let n = (object as? [String: Any])?["n"] as? Int
        #expect(n.map { (1...9).contains($0) } == true, "\(json.standardOutput)")
        let bad = try Self.run(["generate", "--model", Fixtures.demoModel.path, "--prompt", "x", "--json-schema", #"{"oneOf": []}"#])
        #expect(bad.status != 0 && bad.standardError.contains("oneOf"), "\(bad.standardError)")
    }

    @Test(arguments: [
        ("{\"prompt\": \"a\"}\n{\"prompt\": 3}\n", "line 2"),
        ("{\"prompt\": \"a\"}\n\n{\"prompt\": \"b\", \"temperature\": -1}\n", "line 3"),
        ("not json\n", "line 1"),
        ("{\"prompt\": \"a\", \"top_q\": 1}\n", "line 1"),
    ])
    func badPromptsFileFailsNamingTheLine(contents: String, expected: String) throws {
        let file = try Self.writeFile(contents)
        let run = try Self.run(["generate", "--model", Fixtures.model("llama-gqa").path, "--prompts-file", file.path, "--json"])
        #expect(run.status != 0)
        #expect(run.standardError.contains(expected), "\(run.standardError)")
        #expect(run.standardOutput.isEmpty)
    }

    static func quoted(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [text]), as: UTF8.self).dropFirst().dropLast()
            .description
    }
}
