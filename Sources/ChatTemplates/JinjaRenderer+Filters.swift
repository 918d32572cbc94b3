// RadixServe: the filters and tests that chat templates use.

extension JinjaRenderer {
    /// Applies filter `name`. Arguments follow jinja2's signatures (positional or keyword).
    mutating func applyFilter(
        _ name: String, to value: JinjaValue, _ positional: [JinjaValue], _ keywords: [String: JinjaValue], offset: Int
    ) throws(ChatTemplateError) -> JinjaValue {
        func argument(_ index: Int, _ keyword: String) -> JinjaValue? {
            index < positional.count ? positional[index] : keywords[keyword]
        }
        func string(_ index: Int, _ keyword: String) -> String? {
            guard case .string(let text)? = argument(index, keyword) else { return nil }
            return text
        }
        switch name {
        case "trim":
            return .string(JinjaStrings.strip(value.printed, chars: string(0, "chars"), leading: true, trailing: true))
        case "upper": return .string(value.printed.uppercased())
        case "lower": return .string(value.printed.lowercased())
        case "title": return .string(JinjaStrings.title(value.printed))
        case "capitalize": return .string(JinjaStrings.capitalize(value.printed))
        case "string": return .string(value.printed)
        case "safe", "e", "escape": return value
        case "tojson":
            var indent: Int?
            if case .int(let width)? = argument(0, "indent") { indent = width }
            return .string(value.jsonString(indent: indent))
        case "length", "count":
            switch value {
            case .string(let text): return .int(text.unicodeScalars.count)
            case .array(let values): return .int(values.count)
            case .dictionary(let dictionary): return .int(dictionary.count)
            case .undefined: return .int(0)
            default: throw error("object of type '\(value.typeName)' has no len()", at: offset)
            }
        case "default", "d":
            let useFalsy = argument(1, "boolean")?.isTruthy ?? false
            let isMissing: Bool = if case .undefined = value { true } else { useFalsy && !value.isTruthy }
            return isMissing ? (argument(0, "default_value") ?? .string("")) : value
        case "first", "last":
            let items = try iterate(value, offset: offset)
            return (name == "first" ? items.first : items.last) ?? .undefined
        case "list": return .array(try iterate(value, offset: offset))
        case "reverse":
            if case .string(let text) = value { return .string(String(text.reversed())) }
            return .array(try iterate(value, offset: offset).reversed())
        case "join":
            var items = try iterate(value, offset: offset)
            if let attribute = string(1, "attribute") { items = items.map { Self.attributeValue($0, attribute) } }
            return .string(items.map(\.printed).joined(separator: string(0, "d") ?? ""))
        case "replace":
            guard let old = string(0, "old"), let new = string(1, "new") else {
                throw error("replace expects two string arguments", at: offset)
            }
            var count = -1
            if case .int(let limit)? = argument(2, "count") { count = limit }
            return .string(JinjaStrings.replace(value.printed, old, new, count: count))
        case "int":
            let fallback = argument(0, "default") ?? .int(0)
            switch value {
            case .int: return value
            case .bool(let flag): return .int(flag ? 1 : 0)
            case .double(let number): return number.isFinite ? .int(Int(number)) : fallback
            case .string(let text):
                let trimmed = JinjaStrings.strip(text, chars: nil, leading: true, trailing: true)
                if let number = Int(trimmed) { return .int(number) }
                if let number = Double(trimmed), number.isFinite { return .int(Int(number)) }
                return fallback
            default: return fallback
            }
        case "float":
            if let number = value.number { return .double(number) }
            if case .string(let text) = value, let number = Double(text) { return .double(number) }
            return argument(0, "default") ?? .double(0)
        case "abs":
            if case .int(let number) = value { return .int(abs(number)) }
            guard let number = value.number else { throw error("bad operand for abs", at: offset) }
            return .double(abs(number))
        case "items":
            guard case .dictionary(let dictionary) = value else {
                if case .undefined = value { return .array([]) }
                throw error("items filter expects a mapping, got '\(value.typeName)'", at: offset)
            }
            return .array(dictionary.map { .array([.string($0.key), $0.value]) })
        case "unique":
            var seen: [JinjaValue] = []
            for item in try iterate(value, offset: offset) where !seen.contains(where: { Self.isEqual($0, item) }) {
                seen.append(item)
            }
            return .array(seen)
        case "indent":
            var width = 4
            if case .int(let number)? = argument(0, "width") { width = number }
            let pad = String(repeating: " ", count: max(width, 0))
            let first = argument(1, "first")?.isTruthy ?? false
            let blank = argument(2, "blank")?.isTruthy ?? false
            let lines = JinjaStrings.split(value.printed, separator: "\n", maxSplit: -1)
            let indented = lines.enumerated().map { index, line in
                index == 0 && !first || line.isEmpty && !blank ? line : pad + line
            }
            return .string(indented.joined(separator: "\n"))
        case "select", "reject":
            var kept: [JinjaValue] = []
            for item in try iterate(value, offset: offset) {
                var passes = item.isTruthy
                if let test = string(0, "") { passes = try applyTest(test, to: item, Array(positional.dropFirst()), offset: offset) }
                if passes == (name == "select") { kept.append(item) }
            }
            return .array(kept)
        case "selectattr", "rejectattr":
            guard let attribute = string(0, "attr") else { throw error("\(name) expects an attribute name", at: offset) }
            var kept: [JinjaValue] = []
            for item in try iterate(value, offset: offset) {
                let field = Self.attributeValue(item, attribute)
                var passes = field.isTruthy
                if let test = string(1, "test") {
                    passes = try applyTest(test, to: field, Array(positional.dropFirst(2)), offset: offset)
                }
                if passes == (name == "selectattr") { kept.append(item) }
            }
            return .array(kept)
        case "map":
            let items = try iterate(value, offset: offset)
            if case .string(let attribute)? = keywords["attribute"] {
                let fallback = keywords["default"]
                return .array(items.map { item in
                    let field = Self.attributeValue(item, attribute)
                    if case .undefined = field, let fallback { return fallback }
                    return field
                })
            }
            guard let filter = string(0, "") else { throw error("map expects a filter name or attribute=", at: offset) }
            var mapped: [JinjaValue] = []
            for item in items {
                mapped.append(try applyFilter(filter, to: item, Array(positional.dropFirst()), [:], offset: offset))
            }
            return .array(mapped)
        default:
            throw error("unknown filter '\(name)'", at: offset)
        }
    }

    /// `value.attribute` for filters such as `map(attribute=...)`; dotted paths are followed.
    static func attributeValue(_ value: JinjaValue, _ path: String) -> JinjaValue {
        var current = value
        for part in JinjaStrings.split(path, separator: ".", maxSplit: -1) {
            switch current {
            case .dictionary(let dictionary): current = dictionary[part] ?? .undefined
            case .array(let values): current = Int(part).flatMap { values.indices.contains($0) ? values[$0] : nil } ?? .undefined
            default: return .undefined
            }
        }
        return current
    }

    /// Applies test `name` (`x is name(arguments)`).
    func applyTest(_ name: String, to value: JinjaValue, _ arguments: [JinjaValue], offset: Int) throws(ChatTemplateError) -> Bool {
        let argument = arguments.first ?? .undefined
        switch (name, value) {
        case ("defined", _): if case .undefined = value { return false } else { return true }
        case ("undefined", _): if case .undefined = value { return true } else { return false }
        case ("none", .none): return true
        case ("string", .string), ("mapping", .dictionary), ("boolean", .bool), ("integer", .int), ("float", .double):
            return true
        case ("number", .int), ("number", .double): return true
        case ("sequence", .array), ("sequence", .string), ("sequence", .dictionary): return true
        case ("iterable", .array), ("iterable", .string), ("iterable", .dictionary): return true
        case ("true", .bool(let flag)): return flag
        case ("false", .bool(let flag)): return !flag
        case ("odd", .int(let number)): return number % 2 != 0
        case ("even", .int(let number)): return number % 2 == 0
        case ("divisibleby", .int(let number)):
            guard case .int(let divisor) = argument, divisor != 0 else { throw error("divisibleby needs a non-zero int", at: offset) }
            return number % divisor == 0
        case ("equalto", _), ("eq", _), ("==", _), ("sameas", _): return Self.isEqual(value, argument)
        case ("ne", _), ("!=", _): return !Self.isEqual(value, argument)
        case ("lower", .string(let text)): return text == text.lowercased()
        case ("upper", .string(let text)): return text == text.uppercased()
        case ("in", _): return try binary("in", value, argument, offset: offset).isTruthy
        case ("gt", _), ("lt", _), ("ge", _), ("le", _), ("greaterthan", _), ("lessthan", _):
            let op = ["gt": ">", "greaterthan": ">", "lt": "<", "lessthan": "<", "ge": ">=", "le": "<="][name]!
            return try binary(op, value, argument, offset: offset).isTruthy
        case ("callable", _): return false
        default:
            let known: Set = [
                "none", "string", "mapping", "boolean", "integer", "float", "number", "sequence", "iterable", "true",
                "false", "odd", "even", "divisibleby", "lower", "upper",
            ]
            guard known.contains(name) else { throw error("unknown test '\(name)'", at: offset) }
            return false
        }
    }
}
