// Loading errors and the optional files next to tokenizer.json.

import Foundation
import Testing
import Tokenizers

@Suite struct LoadingTests {
    /// Copies a fixture's tokenizer.json into a temp directory after editing it with `edit`.
    private func directory(editing edit: (inout [String: Any]) -> Void) throws -> URL {
        let source = Fixtures.directory("llama3-style").appendingPathComponent("tokenizer.json")
        var json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
        edit(&json)
        let directory = try Fixtures.temporaryDirectory()
        try JSONSerialization.data(withJSONObject: json).write(to: directory.appendingPathComponent("tokenizer.json"))
        return directory
    }

    private func loadError(_ directory: URL) -> TokenizerError? {
        do {
            _ = try AutoTokenizer.load(directory: directory)
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Errors

    @Test func missingFileIsReported() throws {
        let directory = try Fixtures.temporaryDirectory()
        let error = try #require(loadError(directory))
        #expect(error.code == .fileNotFound)
        #expect(error.description.contains("tokenizer.json"))
        #expect(error.description.contains("not found"))
    }

    @Test func invalidJSONIsReported() throws {
        let directory = try Fixtures.temporaryDirectory()
        try Data("{\"model\": [1, 2,".utf8).write(to: directory.appendingPathComponent("tokenizer.json"))
        let error = try #require(loadError(directory))
        #expect(error.code == .invalidJSON)
        #expect(error.description.contains("tokenizer.json"))
        #expect(error.description.contains("invalid JSON"))
    }

    @Test func invalidConfigJSONNamesTheConfigFile() throws {
        let directory = try directory { _ in }
        try Data("not json".utf8).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        let error = try #require(loadError(directory))
        #expect(error.code == .invalidJSON)
        #expect(error.description.contains("tokenizer_config.json"))
    }

    /// A vocabulary id near 2^50 made the id table allocate petabytes (found by FuzzTokenizer,
    /// docs/FUZZING.md); ids beyond Int32 in added tokens or a post-processor would trap when the
    /// router narrows prompt ids. All are refused while loading.
    @Test(arguments: [-1, Int(Int32.max) + 1, 3_008_457_275_996_432])
    func tokenIDsOutsideInt32AreRefused(id: Int) throws {
        var error = try #require(loadError(try directory { json in
            var model = json["model"] as! [String: Any]
            var vocab = model["vocab"] as! [String: Any]
            vocab["far"] = id
            model["vocab"] = vocab
            json["model"] = model
        }))
        #expect(error.code == .invalidValue)
        #expect(error.message.contains("'far'"), "\(error)")
        error = try #require(loadError(try directory { json in
            json["added_tokens"] = [["id": id, "content": "<far>", "special": true]]
        }))
        #expect(error.code == .invalidValue)
        #expect(error.description.contains("added_tokens"), "\(error)")
    }

    @Test func unsupportedNormalizerIsNamed() throws {
        let error = try #require(loadError(try directory { $0["normalizer"] = ["type": "Precompiled"] }))
        #expect(error.code == .unsupportedType)
        #expect(error.message.contains("normalizer"))
        #expect(error.message.contains("Precompiled"))
    }

    @Test func unsupportedPreTokenizerAndDecoderAreNamed() throws {
        let preTokenizer = try #require(loadError(try directory { $0["pre_tokenizer"] = ["type": "UnicodeScripts"] }))
        #expect(preTokenizer.message.contains("pre_tokenizer") && preTokenizer.message.contains("UnicodeScripts"))
        let decoder = try #require(loadError(try directory { $0["decoder"] = ["type": "CTC"] }))
        #expect(decoder.message.contains("decoder") && decoder.message.contains("CTC"))
    }

    @Test func nonBPEModelIsRejected() throws {
        let error = try #require(
            loadError(
                try directory { json in
                    var model = json["model"] as! [String: Any]
                    model["type"] = "WordPiece"
                    json["model"] = model
                }))
        #expect(error.code == .unsupportedType)
        #expect(error.message.contains("model"))
        #expect(error.message.contains("WordPiece"))
    }

    @Test func missingMergesIsReported() throws {
        let error = try #require(
            loadError(
                try directory { json in
                    var model = json["model"] as! [String: Any]
                    model["merges"] = nil
                    json["model"] = model
                }))
        #expect(error.code == .missingField)
        #expect(error.message.contains("merges"))
    }

    @Test func mergeOfUnknownTokenIsReported() throws {
        let error = try #require(
            loadError(
                try directory { json in
                    var model = json["model"] as! [String: Any]
                    model["merges"] = [["nope", "missing"]]
                    json["model"] = model
                }))
        #expect(error.code == .invalidVocabulary)
        #expect(error.message.contains("merge 0"))
    }

    // MARK: - Optional files

    @Test func chatTemplateComesFromConfigString() throws {
        let directory = try directory { _ in }
        let config = #"{"chat_template": "{{ messages }}", "eos_token": "<|eot_id|>"}"#
        try Data(config.utf8).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        let tokenizer = try AutoTokenizer.load(directory: directory)
        #expect(tokenizer.chatTemplate == "{{ messages }}")
        #expect(tokenizer.eosTokenIDs == [tokenizer.tokenID(for: "<|eot_id|>")])
    }

    @Test func chatTemplateListUsesDefaultEntry() throws {
        let directory = try directory { _ in }
        let config = #"""
            {"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}],
             "bos_token": {"content": "<|begin_of_text|>", "special": true}}
            """#
        try Data(config.utf8).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        let tokenizer = try AutoTokenizer.load(directory: directory)
        #expect(tokenizer.chatTemplate == "D")
        #expect(tokenizer.bosTokenID == tokenizer.tokenID(for: "<|begin_of_text|>"))
    }

    @Test func chatTemplateFileWinsOverConfig() throws {
        let directory = try directory { _ in }
        try Data(#"{"chat_template": "from config"}"#.utf8).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        try Data("from file".utf8).write(to: directory.appendingPathComponent("chat_template.jinja"))
        let tokenizer = try AutoTokenizer.load(directory: directory)
        #expect(tokenizer.chatTemplate == "from file")
    }

    @Test func fixtureChatTemplateIsLoaded() throws {
        let tokenizer = try Fixtures.tokenizer("llama3-style")
        #expect(tokenizer.chatTemplate?.contains("messages") == true)
    }

    @Test func generationConfigAddsEOSIDs() throws {
        let directory = try directory { _ in }
        try Data(#"{"eos_token": "<|end_of_text|>"}"#.utf8).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        try Data(#"{"eos_token_id": [817, 820]}"#.utf8).write(to: directory.appendingPathComponent("generation_config.json"))
        let tokenizer = try AutoTokenizer.load(directory: directory)
        #expect(tokenizer.eosTokenIDs == [817, 820])
        try Data(#"{"eos_token_id": 818}"#.utf8).write(to: directory.appendingPathComponent("generation_config.json"))
        #expect(try AutoTokenizer.load(directory: directory).eosTokenIDs == [817, 818])
    }
}
