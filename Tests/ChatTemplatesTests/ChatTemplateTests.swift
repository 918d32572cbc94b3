import ChatTemplates
import Foundation
import Testing

/// Test data: `Data/cases.json` (written by `Data/make_cases.py` with Python jinja2 3.1) and the
/// tokenizer fixtures' `chat_golden.json` (written by transformers' `apply_chat_template`).
enum TemplateData {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let tokenizerFixtures = directory.deletingLastPathComponent().appendingPathComponent("Fixtures/tokenizers")
    static let tokenizerNames = ["gpt2-style", "llama2-style", "llama3-style", "metaspace-style", "qwen2-style"]

    static func json(_ url: URL) throws -> JinjaValue {
        try JinjaValue(json: String(decoding: try Data(contentsOf: url), as: UTF8.self))
    }

    static let cases: [JinjaDictionary] = {
        guard case .array(let items)? = try? json(directory.appendingPathComponent("Data/cases.json")) else { return [] }
        return items.compactMap { if case .dictionary(let item) = $0 { item } else { nil } }
    }()

    static var caseNames: [String] { cases.map { $0["name"]!.printed } }
}

@Suite struct ChatTemplateGoldenTests {
    @Test(arguments: TemplateData.tokenizerNames)
    func rendersLikeTransformers(tokenizer: String) throws {
        let directory = TemplateData.tokenizerFixtures.appendingPathComponent(tokenizer)
        let configText = String(decoding: try Data(contentsOf: directory.appendingPathComponent("tokenizer_config.json")), as: UTF8.self)
        let config = try ChatTemplateConfig(tokenizerConfigJSON: configText)
        guard case .array(let goldens) = try TemplateData.json(directory.appendingPathComponent("chat_golden.json")) else {
            Issue.record("chat_golden.json is not an array")
            return
        }
        #expect(!goldens.isEmpty)
        for case .dictionary(let golden) in goldens {
            guard case .array(let messages)? = golden["messages"] else { continue }
            let rendered = try config.template.render(
                messages: messages, addGenerationPrompt: golden["add_generation_prompt"]?.isTruthy ?? false,
                bosToken: config.bosToken, eosToken: config.eosToken)
            #expect(rendered == golden["rendered"]?.printed, "\(tokenizer)")
        }
    }

    @Test(arguments: TemplateData.caseNames)
    func matchesPythonJinja(name: String) throws {
        let testCase = try #require(TemplateData.cases.first { $0["name"]?.printed == name })
        let template = try ChatTemplate(testCase["template"]!.printed)
        guard case .dictionary(let contextDictionary)? = testCase["context"] else { return }
        var context: [String: JinjaValue] = [:]
        for (key, value) in contextDictionary { context[key] = value }
        if let expected = testCase["expected"] {
            #expect(try template.render(context: context) == expected.printed)
        } else {
            let error = #expect(throws: ChatTemplateError.self) { try template.render(context: context) }
            #expect(error?.code == .raised)
            #expect(error?.message == testCase["error"]?.printed)
        }
    }
}
