// RadixServe: binary operators, global functions and Python methods on values.

import Foundation

extension JinjaRenderer {
    func binary(_ op: String, _ lhs: JinjaValue, _ rhs: JinjaValue, offset: Int) throws(ChatTemplateError) -> JinjaValue {
        switch op {
        case "==": return .bool(Self.isEqual(lhs, rhs))
        case "!=": return .bool(!Self.isEqual(lhs, rhs))
        case "<", ">", "<=", ">=":
            let order: Int
            if let left = lhs.number, let right = rhs.number {
                order = left < right ? -1 : left > right ? 1 : 0
            } else if case .string(let left) = lhs, case .string(let right) = rhs {
                order = Array(left.unicodeScalars.map(\.value)).lexicographicallyPrecedes(right.unicodeScalars.map(\.value))
                    ? -1 : left == right ? 0 : 1
            } else {
                throw error("'\(op)' not supported between '\(lhs.typeName)' and '\(rhs.typeName)'", at: offset)
            }
            switch op {
            case "<": return .bool(order < 0)
            case ">": return .bool(order > 0)
            case "<=": return .bool(order <= 0)
            default: return .bool(order >= 0)
            }
        case "in", "not in":
            let found: Bool
            switch rhs {
            case .string(let text):
                guard case .string(let needle) = lhs else {
                    throw error("'in <string>' requires string as left operand, not '\(lhs.typeName)'", at: offset)
                }
                found = needle.isEmpty || text.contains(needle)
            case .array(let values): found = values.contains { Self.isEqual($0, lhs) }
            case .dictionary(let dictionary): found = dictionary[lhs.printed] != nil
            case .undefined: found = false
            default: throw error("argument of type '\(rhs.typeName)' is not iterable", at: offset)
            }
            return .bool(found == (op == "in"))
        case "~": return .string(lhs.printed + rhs.printed)
        default: return try arithmetic(op, lhs, rhs, offset: offset)
        }
    }

    private func arithmetic(_ op: String, _ lhs: JinjaValue, _ rhs: JinjaValue, offset: Int) throws(ChatTemplateError) -> JinjaValue {
        switch (op, lhs, rhs) {
        case ("+", .string(let left), .string(let right)): return .string(left + right)
        case ("+", .array(let left), .array(let right)): return .array(left + right)
        case ("*", .string(let text), .int(let count)), ("*", .int(let count), .string(let text)):
            return .string(String(repeating: text, count: max(count, 0)))
        case (_, .int(let left), .int(let right)) where op != "/" && op != "**" || op == "**" && right >= 0:
            switch op {
            case "+": return .int(left &+ right)
            case "-": return .int(left &- right)
            case "*": return .int(left &* right)
            case "**":
                var result = 1
                for _ in 0..<min(right, 64) { result = result &* left }
                return .int(result)
            default:
                guard right != 0 else { throw error("integer division or modulo by zero", at: offset) }
                let quotient = left / right
                let floored = (left % right != 0 && (left < 0) != (right < 0)) ? quotient - 1 : quotient
                return op == "//" ? .int(floored) : .int(left - floored * right)
            }
        default:
            guard let left = lhs.number, let right = rhs.number else {
                throw error("unsupported operand types for \(op): '\(lhs.typeName)' and '\(rhs.typeName)'", at: offset)
            }
            switch op {
            case "+": return .double(left + right)
            case "-": return .double(left - right)
            case "*": return .double(left * right)
            case "**": return .double(Self.power(left, right))
            default:
                guard right != 0 else { throw error("division by zero", at: offset) }
                if op == "/" { return .double(left / right) }
                let floored = Self.floor(left / right)
                return op == "//" ? .double(floored) : .double(left - floored * right)
            }
        }
    }

    private static func formatNow(_ format: String) -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 256)
        let length = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Floor without libm (values beyond 2^52 are already integral).
    private static func floor(_ value: Double) -> Double {
        guard abs(value) < 4_503_599_627_370_496 else { return value }
        let truncated = Double(Int64(value))
        return truncated > value ? truncated - 1 : truncated
    }

    private static func power(_ base: Double, _ exponent: Double) -> Double {
        guard abs(exponent) < 1024, exponent == Double(Int(exponent)) else { return .nan }
        var result = 1.0
        for _ in 0..<Int(abs(exponent)) { result *= base }
        return exponent < 0 ? 1 / result : result
    }

    // MARK: - Calls

    mutating func call(_ callee: JinjaExpression, _ arguments: JinjaArguments, offset: Int) throws(ChatTemplateError) -> JinjaValue {
        if case .attribute(let base, let method, _) = callee {
            let receiver = try evaluate(base)
            let (positional, keywords) = try evaluateArguments(arguments)
            return try callMethod(method, on: receiver, positional, keywords, offset: offset)
        }
        guard case .name(let name, _) = callee else { throw error("expression is not callable", at: offset) }
        let (positional, keywords) = try evaluateArguments(arguments)
        if let macro = macros[name] {
            return try callMacro(macro, positional: positional, keywords: keywords, offset: offset)
        }
        switch name {
        case "raise_exception":
            let message = positional.first?.printed ?? "raise_exception called"
            throw locator.error(.raised, message, at: offset)
        case "namespace":
            var storage = JinjaDictionary()
            if case .dictionary(let initial)? = positional.first { storage = initial }
            for key in keywords.keys.sorted() { storage[key] = keywords[key] }
            namespaces.append(storage)
            return .namespace(namespaces.count - 1)
        case "range":
            let bounds = positional.compactMap { value -> Int? in if case .int(let number) = value { number } else { nil } }
            guard bounds.count == positional.count, (1...3).contains(bounds.count) else {
                throw error("range() expects 1 to 3 integer arguments", at: offset)
            }
            let start = bounds.count == 1 ? 0 : bounds[0]
            let stop = bounds.count == 1 ? bounds[0] : bounds[1]
            let step = bounds.count == 3 ? bounds[2] : 1
            guard step != 0, abs(stop - start) / abs(step) <= 1_000_000 else { throw error("bad range() arguments", at: offset) }
            return .array(stride(from: start, to: stop, by: step).map(JinjaValue.int))
        case "strftime_now":
            // transformers' global: the current local time, formatted by C strftime.
            guard case .string(let format)? = positional.first else { throw error("strftime_now expects a format string", at: offset) }
            return .string(Self.formatNow(format))
        case "dict":
            var dictionary = JinjaDictionary()
            for key in keywords.keys.sorted() { dictionary[key] = keywords[key] }
            return .dictionary(dictionary)
        default:
            if case .undefined = lookup(name) { throw error("'\(name)' is undefined", at: offset) }
            throw error("'\(name)' is not callable", at: offset)
        }
    }

    private func callMethod(
        _ method: String, on receiver: JinjaValue, _ arguments: [JinjaValue], _ keywords: [String: JinjaValue], offset: Int
    ) throws(ChatTemplateError) -> JinjaValue {
        switch receiver {
        case .string(let text):
            if let result = JinjaStrings.method(method, on: text, arguments) { return result }
        case .dictionary(let dictionary):
            switch method {
            case "items": return .array(dictionary.map { .array([.string($0.key), $0.value]) })
            case "keys": return .array(dictionary.keys.map(JinjaValue.string))
            case "values": return .array(dictionary.values)
            case "get":
                guard let key = arguments.first else { break }
                return dictionary[key.printed] ?? (arguments.count > 1 ? arguments[1] : .none)
            default: break
            }
        case .undefined:
            throw error("cannot call '\(method)' on an undefined value", at: offset)
        default: break
        }
        throw error("'\(receiver.typeName)' object has no method '\(method)' (or bad arguments)", at: offset)
    }
}
