// RadixServe fuzzing: chat templates (Jinja) from tokenizer_config.json or chat_template.jinja.

import ChatTemplates
import FuzzSupport

/// A conversation with every role and field common templates read.
private let messages: [JinjaValue] = {
    let json = #"""
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi <b>&\"x\"</b> 🦙"},
         {"role": "assistant", "content": "Hello.", "tool_calls": [{"type": "function",
          "function": {"name": "f", "arguments": {"a": 1, "b": [true, null, 2.5]}}}]},
         {"role": "tool", "content": "42", "name": "f"}, {"role": "user", "content": ""}]
        """#
    guard case .array(let values)? = try? JinjaValue(json: json) else { preconditionFailure("messages") }
    return values
}()

/// Compiles the input as a template (UTF-8; other bytes are replaced, as `String(decoding:)`
/// does) and renders it with a fixed conversation; it must either throw `ChatTemplateError` or
/// return text.
///
/// Templates run with no step or output limit, so a loop over a huge range is slow but not a bug
/// here: libFuzzer's `-timeout` and `-rss_limit_mb` bound each input (scripts/fuzz.sh).
func fuzzChatTemplate(_ bytes: UnsafeRawBufferPointer) {
    let source = String(decoding: bytes, as: UTF8.self)
    guard let template = try? ChatTemplate(source) else { return }
    _ = try? template.render(
        messages: messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>",
        tools: [.string("tool")], extra: ["enable_thinking": .bool(false)])
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzChatTemplate(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("FuzzChatTemplate_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc: argc, argv: argv, testOneInput)
}
