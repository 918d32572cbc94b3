// RadixServe: expression evaluation with Python semantics.

extension JinjaRenderer {
    mutating func evaluate(_ expression: JinjaExpression) throws(ChatTemplateError) -> JinjaValue {
        switch expression {
        case .literal(let value): return value
        case .name(let name, _): return lookup(name)
        case .list(let items):
            var values: [JinjaValue] = []
            for item in items { values.append(try evaluate(item)) }
            return .array(values)
        case .dictionary(let pairs):
            var dictionary = JinjaDictionary()
            for pair in pairs {
                let key = try evaluate(pair.key)
                dictionary[key.printed] = try evaluate(pair.value)
            }
            return .dictionary(dictionary)
        case .attribute(let base, let name, let offset):
            return try attribute(name, of: try evaluate(base), offset: offset, base: base)
        case .item(let base, let key, let offset):
            let container = try evaluate(base)
            let keyValue = try evaluate(key)
            if case .string(let name) = keyValue { return try attribute(name, of: container, offset: offset, base: base) }
            return try item(keyValue, of: container, offset: offset, base: base)
        case .slice(let base, let start, let stop, let step, let offset):
            let value = try evaluate(base)
            return try slice(value, start: try start.map { e throws(ChatTemplateError) in try evaluate(e) },
                stop: try stop.map { e throws(ChatTemplateError) in try evaluate(e) },
                step: try step.map { e throws(ChatTemplateError) in try evaluate(e) }, offset: offset)
        case .call(let callee, let arguments, let offset):
            return try call(callee, arguments, offset: offset)
        case .filter(let base, let name, let arguments, let offset):
            let value = try evaluate(base)
            let (positional, keywords) = try evaluateArguments(arguments)
            return try applyFilter(name, to: value, positional, keywords, offset: offset)
        case .test(let base, let name, let arguments, let isNegated, let offset):
            let value = try evaluate(base)
            let (positional, _) = try evaluateArguments(arguments)
            return .bool(try applyTest(name, to: value, positional, offset: offset) != isNegated)
        case .unary(let op, let operand, let offset):
            let value = try evaluate(operand)
            switch op {
            case "not": return .bool(!value.isTruthy)
            case "-":
                if case .int(let number) = value { return .int(-number) }
                guard let number = value.number else { throw error("bad operand type for unary -: '\(value.typeName)'", at: offset) }
                return .double(-number)
            default: return value
            }
        case .binary(let op, let left, let right, let offset):
            let lhs = try evaluate(left)
            if op == "and" { return lhs.isTruthy ? try evaluate(right) : lhs }
            if op == "or" { return lhs.isTruthy ? lhs : try evaluate(right) }
            return try binary(op, lhs, try evaluate(right), offset: offset)
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(then) }
            return try otherwise.map { e throws(ChatTemplateError) in try evaluate(e) } ?? .undefined
        }
    }

    mutating func evaluateArguments(_ arguments: JinjaArguments) throws(ChatTemplateError) -> ([JinjaValue], [String: JinjaValue]) {
        var positional: [JinjaValue] = []
        for argument in arguments.positional { positional.append(try evaluate(argument)) }
        var keywords: [String: JinjaValue] = [:]
        for keyword in arguments.keywords { keywords[keyword.name] = try evaluate(keyword.value) }
        return (positional, keywords)
    }

    /// Names the undefined expression the way jinja2 does ("'x' is undefined").
    private func undefinedError(_ base: JinjaExpression, offset: Int) -> ChatTemplateError {
        switch base {
        case .name(let name, _): error("'\(name)' is undefined", at: offset)
        case .attribute(_, let name, _): error("undefined attribute '\(name)' was accessed further", at: offset)
        default: error("value is undefined", at: offset)
        }
    }

    private func attribute(_ name: String, of value: JinjaValue, offset: Int, base: JinjaExpression) throws(ChatTemplateError) -> JinjaValue {
        switch value {
        case .undefined: throw undefinedError(base, offset: offset)
        case .dictionary(let dictionary): return dictionary[name] ?? .undefined
        case .namespace(let id): return namespaces[id][name] ?? .undefined
        default: return .undefined
        }
    }

    private func item(_ key: JinjaValue, of value: JinjaValue, offset: Int, base: JinjaExpression) throws(ChatTemplateError) -> JinjaValue {
        switch (value, key) {
        case (.undefined, _): throw undefinedError(base, offset: offset)
        case (.array(let values), .int(let index)):
            let resolved = index < 0 ? values.count + index : index
            return values.indices.contains(resolved) ? values[resolved] : .undefined
        case (.string(let text), .int(let index)):
            let scalars = Array(text.unicodeScalars)
            let resolved = index < 0 ? scalars.count + index : index
            return scalars.indices.contains(resolved) ? .string(String(scalars[resolved])) : .undefined
        case (.dictionary(let dictionary), _): return dictionary[key.printed] ?? .undefined
        default: return .undefined
        }
    }

    private func slice(_ value: JinjaValue, start: JinjaValue?, stop: JinjaValue?, step: JinjaValue?, offset: Int) throws(ChatTemplateError) -> JinjaValue {
        func bound(_ value: JinjaValue?) throws(ChatTemplateError) -> Int? {
            switch value {
            case nil, .none?, .undefined?: return nil
            case .int(let number)?: return number
            default: throw error("slice indices must be integers or none", at: offset)
            }
        }
        let stepValue = try bound(step) ?? 1
        guard stepValue != 0 else { throw error("slice step cannot be zero", at: offset) }
        func pick<T>(_ items: [T]) throws(ChatTemplateError) -> [T] {
            let count = items.count
            func clamp(_ index: Int?, _ fallback: Int) -> Int {
                guard var index else { return fallback }
                if index < 0 { index += count }
                return stepValue > 0 ? min(max(index, 0), count) : min(max(index, -1), count - 1)
            }
            let first = clamp(try bound(start), stepValue > 0 ? 0 : count - 1)
            let last = clamp(try bound(stop), stepValue > 0 ? count : -1)
            var result: [T] = []
            var index = first
            while stepValue > 0 ? index < last : index > last {
                result.append(items[index])
                index += stepValue
            }
            return result
        }
        switch value {
        case .array(let values): return .array(try pick(values))
        case .string(let text):
            var scalars = String.UnicodeScalarView()
            scalars.append(contentsOf: try pick(Array(text.unicodeScalars)))
            return .string(String(scalars))
        case .undefined: return .undefined
        default: throw error("'\(value.typeName)' object is not subscriptable", at: offset)
        }
    }

    /// Python equality: numbers compare by value across int/float/bool, everything else structurally.
    static func isEqual(_ lhs: JinjaValue, _ rhs: JinjaValue) -> Bool {
        if let left = lhs.number, let right = rhs.number { return left == right }
        switch (lhs, rhs) {
        case (.array(let left), .array(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { isEqual($0, $1) }
        default: return lhs == rhs
        }
    }
}
