// RadixServe: walks a parsed template and produces text.

/// Renders a node tree against a context. One renderer per render call; not thread-safe.
///
/// Scoping follows jinja2: each `for` iteration and each macro call gets a fresh scope that is
/// dropped afterwards (so `set` inside a loop does not leak; templates use `namespace()` for
/// that), while `if` bodies share the enclosing scope.
struct JinjaRenderer {
    /// What a node sequence asks its enclosing loop to do.
    enum Flow { case normal, breakLoop, continueLoop }

    let locator: SourceLocator
    var scopes: [[String: JinjaValue]]
    var namespaces: [JinjaDictionary] = []
    var macros: [String: JinjaMacro] = [:]
    var output = ""
    var depth = 0

    init(context: [String: JinjaValue], locator: SourceLocator) {
        self.locator = locator
        self.scopes = [context]
    }

    func error(_ message: String, at offset: Int) -> ChatTemplateError {
        locator.error(.render, message, at: offset)
    }

    func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        return .undefined
    }

    mutating func assign(_ name: String, _ value: JinjaValue) {
        scopes[scopes.count - 1][name] = value
    }

    // MARK: - Nodes

    mutating func render(_ nodes: [JinjaNode]) throws(ChatTemplateError) -> Flow {
        for node in nodes {
            switch node {
            case .text(let text): output += text
            case .output(let expression): output += try evaluate(expression).printed
            case .conditional(let branches, let otherwise):
                var chosen = otherwise
                for branch in branches where try evaluate(branch.condition).isTruthy {
                    chosen = branch.body
                    break
                }
                let flow = try render(chosen)
                if flow != .normal { return flow }
            case .loop(let loop): try renderLoop(loop)
            case .assign(let target, let expression, let offset):
                try assign(target, try evaluate(expression), offset: offset)
            case .assignBlock(let name, let body):
                let saved = output
                output = ""
                _ = try render(body)
                let captured = output
                output = saved
                assign(name, .string(captured))
            case .macro(let macro): macros[macro.name] = macro
            case .breakLoop: return .breakLoop
            case .continueLoop: return .continueLoop
            }
        }
        return .normal
    }

    private mutating func assign(_ target: JinjaTarget, _ value: JinjaValue, offset: Int) throws(ChatTemplateError) {
        switch target {
        case .name(let name): assign(name, value)
        case .names(let names):
            let items = try iterate(value, offset: offset)
            guard items.count == names.count else {
                throw error("cannot unpack \(items.count) values into \(names.count) names", at: offset)
            }
            for (name, item) in zip(names, items) { assign(name, item) }
        case .attribute(let namespaceName, let attribute):
            guard case .namespace(let id) = lookup(namespaceName) else {
                throw error("'\(namespaceName)' is not a namespace; cannot set '\(attribute)'", at: offset)
            }
            namespaces[id][attribute] = value
        }
    }

    private mutating func renderLoop(_ loop: JinjaLoop) throws(ChatTemplateError) {
        var items = try iterate(try evaluate(loop.iterable), offset: loop.offset)
        if let filter = loop.filter {
            var kept: [JinjaValue] = []
            for item in items {
                scopes.append([:])
                try bindLoopTarget(loop.target, item, offset: loop.offset)
                let keep = try evaluate(filter).isTruthy
                scopes.removeLast()
                if keep { kept.append(item) }
            }
            items = kept
        }
        guard !items.isEmpty else {
            _ = try render(loop.otherwise)
            return
        }
        for (position, item) in items.enumerated() {
            var info = JinjaDictionary()
            info["index"] = .int(position + 1)
            info["index0"] = .int(position)
            info["revindex"] = .int(items.count - position)
            info["revindex0"] = .int(items.count - position - 1)
            info["first"] = .bool(position == 0)
            info["last"] = .bool(position == items.count - 1)
            info["length"] = .int(items.count)
            info["previtem"] = position > 0 ? items[position - 1] : .undefined
            info["nextitem"] = position + 1 < items.count ? items[position + 1] : .undefined
            scopes.append(["loop": .dictionary(info)])
            try bindLoopTarget(loop.target, item, offset: loop.offset)
            let flow = try render(loop.body)
            scopes.removeLast()
            if flow == .breakLoop { break }
        }
    }

    private mutating func bindLoopTarget(_ target: JinjaTarget, _ item: JinjaValue, offset: Int) throws(ChatTemplateError) {
        try assign(target, item, offset: offset)
    }

    /// The items a `for` loop or unpacking visits: list elements, dict keys, string characters.
    func iterate(_ value: JinjaValue, offset: Int) throws(ChatTemplateError) -> [JinjaValue] {
        switch value {
        case .undefined: return []
        case .array(let values): return values
        case .dictionary(let dictionary): return dictionary.keys.map(JinjaValue.string)
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        default: throw error("'\(value.typeName)' object is not iterable", at: offset)
        }
    }

    /// Calls a macro with evaluated arguments; returns its rendered body.
    mutating func callMacro(
        _ macro: JinjaMacro, positional: [JinjaValue], keywords: [String: JinjaValue], offset: Int
    ) throws(ChatTemplateError) -> JinjaValue {
        guard depth < 64 else { throw error("macro recursion too deep", at: offset) }
        guard positional.count <= macro.parameters.count else {
            throw error("macro '\(macro.name)' takes \(macro.parameters.count) arguments", at: offset)
        }
        var scope: [String: JinjaValue] = [:]
        for (position, parameter) in macro.parameters.enumerated() {
            if position < positional.count {
                scope[parameter.name] = positional[position]
            } else if let value = keywords[parameter.name] {
                scope[parameter.name] = value
            } else if let defaultValue = parameter.defaultValue {
                scope[parameter.name] = try evaluate(defaultValue)
            } else {
                scope[parameter.name] = .undefined
            }
        }
        let saved = output
        output = ""
        scopes.append(scope)
        depth += 1
        defer {
            depth -= 1
            scopes.removeLast()
        }
        _ = try render(macro.body)
        let result = output
        output = saved
        return .string(result)
    }
}
