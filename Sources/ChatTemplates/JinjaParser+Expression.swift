// RadixServe: expression grammar, following jinja2's precedence levels.

extension JinjaParser {
    /// `or_expr ['if' or_expr ['else' expression]]`; a missing else yields undefined.
    mutating func parseExpression() throws(ChatTemplateError) -> JinjaExpression {
        let value = try parseOr()
        guard skipName("if") else { return value }
        let condition = try parseOr()
        let otherwise = skipName("else") ? try parseExpression() : nil
        return .conditional(condition: condition, then: value, otherwise: otherwise)
    }

    mutating func parseOr() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parseAnd()
        while isName("or") {
            let offset = advance().offset
            left = .binary("or", left, try parseAnd(), offset: offset)
        }
        return left
    }

    private mutating func parseAnd() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parseNot()
        while isName("and") {
            let offset = advance().offset
            left = .binary("and", left, try parseNot(), offset: offset)
        }
        return left
    }

    private mutating func parseNot() throws(ChatTemplateError) -> JinjaExpression {
        guard isName("not") else { return try parseCompare() }
        let offset = advance().offset
        return .unary("not", try parseNot(), offset: offset)
    }

    private mutating func parseCompare() throws(ChatTemplateError) -> JinjaExpression {
        let first = try parseMath1()
        var result: JinjaExpression?
        var left = first
        while true {
            let offset = current.offset
            var op: String
            if current.kind == .op, ["==", "!=", "<", ">", "<=", ">="].contains(current.text) {
                op = advance().text
            } else if isName("in") {
                index += 1
                op = "in"
            } else if isName("not"), index + 1 < tokens.count, tokens[index + 1].kind == .name, tokens[index + 1].text == "in" {
                index += 2
                op = "not in"
            } else {
                break
            }
            let right = try parseMath1()
            let comparison = JinjaExpression.binary(op, left, right, offset: offset)
            // Python chains comparisons: a < b < c means (a < b) and (b < c).
            result = result.map { .binary("and", $0, comparison, offset: offset) } ?? comparison
            left = right
        }
        return result ?? first
    }

    private mutating func parseMath1() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parseConcat()
        while current.kind == .op, current.text == "+" || current.text == "-" {
            let token = advance()
            left = .binary(token.text, left, try parseConcat(), offset: token.offset)
        }
        return left
    }

    private mutating func parseConcat() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parseMath2()
        while isOperator("~") {
            let offset = advance().offset
            left = .binary("~", left, try parseMath2(), offset: offset)
        }
        return left
    }

    private mutating func parseMath2() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parsePow()
        while current.kind == .op, ["*", "/", "//", "%"].contains(current.text) {
            let token = advance()
            left = .binary(token.text, left, try parsePow(), offset: token.offset)
        }
        return left
    }

    private mutating func parsePow() throws(ChatTemplateError) -> JinjaExpression {
        var left = try parseUnary(withFilter: true)
        while isOperator("**") {
            let offset = advance().offset
            left = .binary("**", left, try parseUnary(withFilter: true), offset: offset)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool) throws(ChatTemplateError) -> JinjaExpression {
        var node: JinjaExpression
        if current.kind == .op, current.text == "-" || current.text == "+" {
            let token = advance()
            node = .unary(token.text, try parseUnary(withFilter: false), offset: token.offset)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        return withFilter ? try parseFilters(node) : node
    }

    private mutating func parsePrimary() throws(ChatTemplateError) -> JinjaExpression {
        let token = advance()
        switch token.kind {
        case .name:
            switch token.text {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(token.text, offset: token.offset)
            }
        case .string:
            var text = token.text
            while current.kind == .string { text += advance().text }
            return .literal(.string(text))
        case .integer: return .literal(Int(token.text).map(JinjaValue.int) ?? .double(Double(token.text) ?? 0))
        case .float: return .literal(.double(Double(token.text) ?? 0))
        case .op where token.text == "(":
            if skipOperator(")") { return .list([]) }
            let first = try parseExpression()
            guard isOperator(",") else {
                try expectOperator(")")
                return first
            }
            var items = [first]
            while skipOperator(","), !isOperator(")") { items.append(try parseExpression()) }
            try expectOperator(")")
            return .list(items)
        case .op where token.text == "[":
            var items: [JinjaExpression] = []
            while !skipOperator("]") {
                if !items.isEmpty { try expectOperator(",") }
                if skipOperator("]") { break }
                items.append(try parseExpression())
            }
            return .list(items)
        case .op where token.text == "{":
            var pairs: [(key: JinjaExpression, value: JinjaExpression)] = []
            while !skipOperator("}") {
                if !pairs.isEmpty { try expectOperator(",") }
                if skipOperator("}") { break }
                let key = try parseExpression()
                try expectOperator(":")
                pairs.append((key, try parseExpression()))
            }
            return .dictionary(pairs)
        default:
            throw error("unexpected \(describe(token)) in expression", at: token.offset)
        }
    }

    private mutating func parsePostfix(_ base: JinjaExpression) throws(ChatTemplateError) -> JinjaExpression {
        var node = base
        while true {
            let offset = current.offset
            if skipOperator(".") {
                let token = advance()
                guard token.kind == .name || token.kind == .integer else {
                    throw error("expected attribute name after '.'", at: token.offset)
                }
                node = token.kind == .integer
                    ? .item(node, .literal(.int(Int(token.text) ?? 0)), offset: offset)
                    : .attribute(node, token.text, offset: offset)
            } else if skipOperator("[") {
                node = try parseSubscript(node, offset: offset)
            } else if isOperator("(") {
                node = .call(node, try parseArguments(), offset: offset)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ base: JinjaExpression, offset: Int) throws(ChatTemplateError) -> JinjaExpression {
        var parts: [JinjaExpression?] = [nil]
        var isSlice = false
        while !skipOperator("]") {
            if skipOperator(":") {
                isSlice = true
                parts.append(nil)
                guard parts.count <= 3 else { throw error("too many ':' in slice") }
            } else {
                guard parts[parts.count - 1] == nil else { throw error("expected ']' or ':' in subscript") }
                parts[parts.count - 1] = try parseExpression()
            }
        }
        guard isSlice else {
            guard let key = parts[0] else { throw error("empty subscript", at: offset) }
            return .item(base, key, offset: offset)
        }
        while parts.count < 3 { parts.append(nil) }
        return .slice(base, start: parts[0], stop: parts[1], step: parts[2], offset: offset)
    }

    /// Parses `( args )`: positional arguments, then `name=value` keywords.
    mutating func parseArguments() throws(ChatTemplateError) -> JinjaArguments {
        try expectOperator("(")
        var arguments = JinjaArguments()
        while !skipOperator(")") {
            if !arguments.positional.isEmpty || !arguments.keywords.isEmpty { try expectOperator(",") }
            if skipOperator(")") { break }
            if current.kind == .name, index + 1 < tokens.count, tokens[index + 1].kind == .op, tokens[index + 1].text == "=" {
                let name = advance().text
                index += 1
                arguments.keywords.append((name, try parseExpression()))
            } else {
                guard arguments.keywords.isEmpty else { throw error("positional argument after keyword argument") }
                arguments.positional.append(try parseExpression())
            }
        }
        return arguments
    }

    private mutating func parseFilters(_ base: JinjaExpression) throws(ChatTemplateError) -> JinjaExpression {
        var node = base
        while true {
            if isOperator("|") {
                let offset = advance().offset
                let name = try expectName()
                let arguments = isOperator("(") ? try parseArguments() : JinjaArguments()
                node = .filter(node, name, arguments, offset: offset)
            } else if isName("is") {
                let offset = advance().offset
                let isNegated = skipName("not")
                let token = advance()
                guard token.kind == .name else { throw error("expected a test name after 'is'", at: token.offset) }
                var arguments = JinjaArguments()
                if isOperator("(") {
                    arguments = try parseArguments()
                } else if [.name, .string, .integer, .float].contains(current.kind) || isOperator("[") || isOperator("{"),
                    !["else", "or", "and", "if"].contains(current.text) || current.kind != .name
                {
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                }
                let name = token.text
                node = .test(node, name, arguments, isNegated: isNegated, offset: offset)
            } else if isOperator("(") {
                let offset = current.offset
                node = .call(node, try parseArguments(), offset: offset)
            } else {
                return node
            }
        }
    }
}
