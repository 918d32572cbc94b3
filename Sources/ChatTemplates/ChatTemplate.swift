// RadixServe: Hugging Face chat templates, rendered in Swift.

/// A compiled chat template (the Jinja source in `tokenizer_config.json`'s `chat_template`
/// or a `chat_template.jinja` file), rendered like transformers' `apply_chat_template`:
/// jinja2 with `trim_blocks` and `lstrip_blocks`, `raise_exception(msg)` and a `tojson` that
/// matches Python's `json.dumps(..., ensure_ascii=False)`.
///
/// Supported: `{{ }}`, `{% %}`, `{# #}`, whitespace control, `if/elif/else`, `for` (with `loop.*`,
/// a filter clause, `else`, `break`/`continue`), `set` (names, tuples, blocks, `namespace`
/// attributes), `macro`, the expression grammar of jinja2, and the filters, tests and
/// string/dict methods found in common templates. Anything else is a `.syntax` or `.render`
/// ``ChatTemplateError`` naming the line and column; rendering never traps on bad templates.
///
/// Immutable and `Sendable`: compile once, render from any thread.
public struct ChatTemplate: Sendable {
    /// The template source.
    public let source: String
    private let nodes: [JinjaNode]
    private let locator: SourceLocator

    /// Compiles `source`. Throws a `.syntax` error with the position of the first problem.
    public init(_ source: String) throws(ChatTemplateError) {
        let bytes = Array(source.utf8)
        let locator = SourceLocator(bytes)
        var lexer = JinjaLexer(bytes: bytes, locator: locator)
        var parser = JinjaParser(tokens: try lexer.tokenize(), locator: locator)
        self.nodes = try parser.parseTemplate()
        self.source = source
        self.locator = locator
    }

    /// Renders with an arbitrary context (every top-level name the template reads).
    /// Names that are absent are undefined, as in jinja2.
    public func render(context: [String: JinjaValue]) throws(ChatTemplateError) -> String {
        var renderer = JinjaRenderer(context: context, locator: locator)
        _ = try renderer.render(nodes)
        return renderer.output
    }

    /// Renders a conversation with the standard variables of `apply_chat_template`.
    ///
    /// - Parameters:
    ///   - messages: a list of `{"role", "content", ...}` dictionaries.
    ///   - addGenerationPrompt: whether to open an assistant turn at the end.
    ///   - bosToken, eosToken: the tokenizer's special tokens (`nil` renders as `None`, like
    ///     transformers does when the config has none).
    ///   - tools: tool definitions; omitted (undefined) when `nil`.
    ///   - extra: further variables (e.g. `enable_thinking`, `date_string`); they override nothing above.
    public func render(
        messages: [JinjaValue], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?,
        tools: [JinjaValue]? = nil, extra: [String: JinjaValue] = [:]
    ) throws(ChatTemplateError) -> String {
        var context = extra
        context["messages"] = .array(messages)
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        context["bos_token"] = bosToken.map(JinjaValue.string) ?? JinjaValue.none
        context["eos_token"] = eosToken.map(JinjaValue.string) ?? JinjaValue.none
        if let tools { context["tools"] = .array(tools) }
        return try render(context: context)
    }
}

/// The chat-template-related fields of a `tokenizer_config.json`.
public struct ChatTemplateConfig: Sendable {
    /// The default template.
    public var template: ChatTemplate
    /// Named alternatives when the config holds a list of `{name, template}` (e.g. `tool_use`).
    public var namedTemplates: [String: ChatTemplate]
    /// `bos_token`, as text (the `content` of an added-token object), or `nil`.
    public var bosToken: String?
    /// `eos_token`, as text, or `nil`.
    public var eosToken: String?

    /// Reads the config JSON text. Throws `.invalidJSON` when it is malformed or has no template,
    /// and `.syntax` when a template does not compile.
    public init(tokenizerConfigJSON text: String) throws(ChatTemplateError) {
        guard case .dictionary(let config) = try JinjaValue(json: text) else {
            throw .invalidJSON("tokenizer_config.json is not an object")
        }
        var named: [String: ChatTemplate] = [:]
        var defaultTemplate: ChatTemplate?
        switch config["chat_template"] {
        case .string(let source)?: defaultTemplate = try ChatTemplate(source)
        case .array(let entries)?:
            for case .dictionary(let entry) in entries {
                guard case .string(let name)? = entry["name"], case .string(let source)? = entry["template"] else { continue }
                named[name] = try ChatTemplate(source)
            }
            defaultTemplate = named["default"]
        default: break
        }
        guard let defaultTemplate else { throw .invalidJSON("tokenizer_config.json has no chat_template") }
        self.template = defaultTemplate
        self.namedTemplates = named
        self.bosToken = Self.tokenText(config["bos_token"])
        self.eosToken = Self.tokenText(config["eos_token"])
    }

    private static func tokenText(_ value: JinjaValue?) -> String? {
        switch value {
        case .string(let text)?: text
        case .dictionary(let token)?: if case .string(let text)? = token["content"] { text } else { nil }
        default: nil
        }
    }
}
