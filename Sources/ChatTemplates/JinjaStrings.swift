// RadixServe: the Python `str` methods that chat templates call.

/// Python string methods over Unicode scalars (Python strings are code-point sequences).
enum JinjaStrings {
    /// Python's `str.isspace` set for the characters templates meet.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// `str.strip/lstrip/rstrip([chars])`.
    static func strip(_ text: String, chars: String?, leading: Bool, trailing: Bool) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        let remove: (Unicode.Scalar) -> Bool = { set?.contains($0) ?? isWhitespace($0) }
        var scalars = Array(text.unicodeScalars)[...]
        if leading { while let first = scalars.first, remove(first) { scalars.removeFirst() } }
        if trailing { while let last = scalars.last, remove(last) { scalars.removeLast() } }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// `str.split(sep=None, maxsplit=-1)`.
    static func split(_ text: String, separator: String?, maxSplit: Int) -> [String] {
        guard let separator, !separator.isEmpty else {
            var parts: [String] = []
            var current = String.UnicodeScalarView()
            var rest = Array(text.unicodeScalars)[...]
            while let scalar = rest.first {
                if isWhitespace(scalar) {
                    if !current.isEmpty {
                        parts.append(String(current))
                        current = String.UnicodeScalarView()
                        if maxSplit >= 0 && parts.count == maxSplit {
                            while let next = rest.first, isWhitespace(next) { rest.removeFirst() }
                            if !rest.isEmpty { parts.append(String(String.UnicodeScalarView(rest))) }
                            return parts
                        }
                    }
                } else {
                    current.append(scalar)
                }
                rest.removeFirst()
            }
            if !current.isEmpty { parts.append(String(current)) }
            return parts
        }
        var parts: [String] = []
        var remainder = Substring(text)
        while maxSplit < 0 || parts.count < maxSplit, let range = remainder.firstRange(of: separator) {
            parts.append(String(remainder[..<range.lowerBound]))
            remainder = remainder[range.upperBound...]
        }
        parts.append(String(remainder))
        return parts
    }

    /// Python `str.title()`: upper-case letters that follow a non-letter, lower-case the rest.
    static func title(_ text: String) -> String {
        var result = ""
        var previousIsLetter = false
        for character in text {
            let isLetter = character.isLetter
            result += isLetter ? (previousIsLetter ? character.lowercased() : character.uppercased()) : String(character)
            previousIsLetter = isLetter
        }
        return result
    }

    /// Python `str.capitalize()`.
    static func capitalize(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst().lowercased()
    }

    /// `str.replace(old, new[, count])` with Python's empty-pattern behaviour.
    static func replace(_ text: String, _ old: String, _ new: String, count: Int) -> String {
        guard !old.isEmpty else {
            var result = new
            for (index, character) in text.enumerated() {
                result.append(character)
                if count < 0 || index + 1 < count { result += new }
            }
            return result
        }
        var result = ""
        var remainder = Substring(text)
        var replaced = 0
        while count < 0 || replaced < count, let range = remainder.firstRange(of: old) {
            result += remainder[..<range.lowerBound] + new
            remainder = remainder[range.upperBound...]
            replaced += 1
        }
        return result + remainder
    }

    /// Evaluates a string method call; nil when the method or its arguments are unsupported.
    static func method(_ name: String, on text: String, _ arguments: [JinjaValue]) -> JinjaValue? {
        func string(_ index: Int) -> String? {
            guard index < arguments.count else { return nil }
            if case .string(let value) = arguments[index] { return value }
            return nil
        }
        func integer(_ index: Int, _ fallback: Int) -> Int {
            guard index < arguments.count, case .int(let value) = arguments[index] else { return fallback }
            return value
        }
        func affixes() -> [String] {
            switch arguments.first {
            case .string(let value)?: return [value]
            case .array(let values)?: return values.compactMap { if case .string(let v) = $0 { v } else { nil } }
            default: return []
            }
        }
        switch name {
        case "strip": return .string(strip(text, chars: string(0), leading: true, trailing: true))
        case "lstrip": return .string(strip(text, chars: string(0), leading: true, trailing: false))
        case "rstrip": return .string(strip(text, chars: string(0), leading: false, trailing: true))
        case "upper": return .string(text.uppercased())
        case "lower": return .string(text.lowercased())
        case "title": return .string(title(text))
        case "capitalize": return .string(capitalize(text))
        case "startswith": return .bool(affixes().contains { text.hasPrefix($0) })
        case "endswith": return .bool(affixes().contains { text.hasSuffix($0) })
        case "split": return .array(split(text, separator: string(0), maxSplit: integer(1, -1)).map(JinjaValue.string))
        case "replace":
            guard let old = string(0), let new = string(1) else { return nil }
            return .string(replace(text, old, new, count: integer(2, -1)))
        case "join":
            guard case .array(let values)? = arguments.first else { return nil }
            return .string(values.map(\.printed).joined(separator: text))
        case "find":
            guard let needle = string(0) else { return nil }
            guard let range = text.firstRange(of: needle) else { return .int(-1) }
            return .int(text.unicodeScalars.distance(from: text.startIndex, to: range.lowerBound))
        case "count":
            guard let needle = string(0), !needle.isEmpty else { return nil }
            return .int(split(text, separator: needle, maxSplit: -1).count - 1)
        default: return nil
        }
    }
}
