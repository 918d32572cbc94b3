// RadixServe: recursive-descent parser for the supported Jinja statements.

/// Builds a ``JinjaNode`` tree from lexer tokens. Expression grammar lives in
/// `JinjaParser+Expression.swift`; precedence follows jinja2's parser.
struct JinjaParser {
    let tokens: [JinjaToken]
    let locator: SourceLocator
    var index = 0

    init(tokens: [JinjaToken], locator: SourceLocator) {
        self.tokens = tokens
        self.locator = locator
    }

    /// Parses the whole template.
    mutating func parseTemplate() throws(ChatTemplateError) -> [JinjaNode] {
        let (nodes, end) = try parseNodes(until: [])
        if let end { throw error("unexpected '\(end)' tag", at: previous.offset) }
        return nodes
    }

    // MARK: - Token helpers

    var current: JinjaToken { tokens[index] }
    var previous: JinjaToken { tokens[max(index - 1, 0)] }

    func error(_ message: String, at offset: Int? = nil) -> ChatTemplateError {
        locator.error(.syntax, message, at: offset ?? current.offset)
    }

    func isOperator(_ text: String) -> Bool { current.kind == .op && current.text == text }
    func isName(_ text: String) -> Bool { current.kind == .name && current.text == text }

    mutating func advance() -> JinjaToken {
        let token = tokens[index]
        if token.kind != .end { index += 1 }
        return token
    }

    mutating func skipOperator(_ text: String) -> Bool {
        guard isOperator(text) else { return false }
        index += 1
        return true
    }

    mutating func skipName(_ text: String) -> Bool {
        guard isName(text) else { return false }
        index += 1
        return true
    }

    mutating func expectOperator(_ text: String) throws(ChatTemplateError) {
        guard skipOperator(text) else { throw error("expected '\(text)', found \(describe(current))") }
    }

    mutating func expectName() throws(ChatTemplateError) -> String {
        guard current.kind == .name else { throw error("expected a name, found \(describe(current))") }
        return advance().text
    }

    mutating func expect(_ kind: JinjaToken.Kind) throws(ChatTemplateError) {
        guard current.kind == kind else { throw error("expected end of tag, found \(describe(current))") }
        index += 1
    }

    func describe(_ token: JinjaToken) -> String {
        switch token.kind {
        case .end: "end of template"
        case .blockEnd, .variableEnd: "end of tag"
        case .string: "string literal"
        case .text: "text"
        default: "'\(token.text)'"
        }
    }

    // MARK: - Statements

    /// Parses nodes until a block tag whose keyword is in `endTags`; consumes that keyword and
    /// returns it (nil at end of template). The rest of the end tag is left to the caller.
    mutating func parseNodes(until endTags: Set<String>) throws(ChatTemplateError) -> ([JinjaNode], String?) {
        var nodes: [JinjaNode] = []
        while true {
            let token = advance()
            switch token.kind {
            case .end:
                if !endTags.isEmpty {
                    throw error("missing end tag (expected one of \(endTags.sorted().joined(separator: ", ")))", at: token.offset)
                }
                return (nodes, nil)
            case .text: nodes.append(.text(token.text))
            case .variableBegin:
                nodes.append(.output(try parseExpression()))
                try expect(.variableEnd)
            case .blockBegin:
                guard current.kind == .name else { throw error("expected a statement keyword") }
                if endTags.contains(current.text) { return (nodes, advance().text) }
                nodes.append(contentsOf: try parseStatement())
            default: throw error("unexpected \(describe(token))", at: token.offset)
            }
        }
    }

    private mutating func parseStatement() throws(ChatTemplateError) -> [JinjaNode] {
        let keyword = advance()
        switch keyword.text {
        case "if": return [try parseIf()]
        case "for": return [try parseFor(offset: keyword.offset)]
        case "set": return [try parseSet(offset: keyword.offset)]
        case "macro": return [try parseMacro()]
        case "break", "continue":
            try expect(.blockEnd)
            return [keyword.text == "break" ? .breakLoop : .continueLoop]
        case "generation":
            // transformers' assistant-mask extension: render the body unchanged.
            try expect(.blockEnd)
            let (body, _) = try parseNodes(until: ["endgeneration"])
            try expect(.blockEnd)
            return body
        default: throw error("unknown statement '\(keyword.text)'", at: keyword.offset)
        }
    }

    private mutating func parseIf() throws(ChatTemplateError) -> JinjaNode {
        var branches: [(condition: JinjaExpression, body: [JinjaNode])] = []
        var condition = try parseExpression()
        while true {
            try expect(.blockEnd)
            let (body, end) = try parseNodes(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            switch end {
            case "elif": condition = try parseExpression()
            case "else":
                try expect(.blockEnd)
                let (otherwise, _) = try parseNodes(until: ["endif"])
                try expect(.blockEnd)
                return .conditional(branches: branches, otherwise: otherwise)
            default:
                try expect(.blockEnd)
                return .conditional(branches: branches, otherwise: [])
            }
        }
    }

    private mutating func parseFor(offset: Int) throws(ChatTemplateError) -> JinjaNode {
        var names = [try expectName()]
        while skipOperator(",") { names.append(try expectName()) }
        guard skipName("in") else { throw error("expected 'in' in for loop") }
        let iterable = try parseOr()
        let filter = skipName("if") ? try parseOr() : nil
        _ = skipName("recursive")
        try expect(.blockEnd)
        let (body, end) = try parseNodes(until: ["else", "endfor"])
        var otherwise: [JinjaNode] = []
        if end == "else" {
            try expect(.blockEnd)
            (otherwise, _) = try parseNodes(until: ["endfor"])
        }
        try expect(.blockEnd)
        let target: JinjaTarget = names.count == 1 ? .name(names[0]) : .names(names)
        return .loop(JinjaLoop(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise, offset: offset))
    }

    private mutating func parseSet(offset: Int) throws(ChatTemplateError) -> JinjaNode {
        let first = try expectName()
        var target = JinjaTarget.name(first)
        if skipOperator(".") {
            target = .attribute(namespace: first, attribute: try expectName())
        } else if isOperator(",") {
            var names = [first]
            while skipOperator(",") { names.append(try expectName()) }
            target = .names(names)
        }
        if skipOperator("=") {
            let value = try parseExpression()
            try expect(.blockEnd)
            return .assign(target, value, offset: offset)
        }
        guard case .name(let name) = target else { throw error("block assignment needs a plain name") }
        try expect(.blockEnd)
        let (body, _) = try parseNodes(until: ["endset"])
        try expect(.blockEnd)
        return .assignBlock(name, body: body)
    }

    private mutating func parseMacro() throws(ChatTemplateError) -> JinjaNode {
        let name = try expectName()
        try expectOperator("(")
        var parameters: [(name: String, defaultValue: JinjaExpression?)] = []
        while !skipOperator(")") {
            if !parameters.isEmpty { try expectOperator(",") }
            if skipOperator(")") { break }
            let parameter = try expectName()
            parameters.append((parameter, skipOperator("=") ? try parseExpression() : nil))
        }
        try expect(.blockEnd)
        let (body, _) = try parseNodes(until: ["endmacro"])
        if current.kind == .name { index += 1 }
        try expect(.blockEnd)
        return .macro(JinjaMacro(name: name, parameters: parameters, body: body))
    }
}
