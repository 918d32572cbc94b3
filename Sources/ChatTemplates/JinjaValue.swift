// RadixServe: values seen by chat templates.

/// A value in a template's render context, with Python/Jinja semantics for truthiness, printing
/// and comparison (templates are written against Python's `jinja2`).
///
/// Dictionaries keep insertion order, as Python dicts do: `tojson` and `items()` depend on it.
public enum JinjaValue: Hashable, Sendable {
    /// A name that was never set. Prints as the empty string and is falsy; reading an attribute
    /// of it is an error (jinja2's default `Undefined`).
    case undefined
    /// Python `None`.
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JinjaValue])
    case dictionary(JinjaDictionary)
    /// A `namespace()` object; the id indexes the renderer's namespace storage.
    case namespace(Int)

    /// Python truthiness: `undefined`, `none`, `false`, zero, empty strings and empty
    /// collections are false.
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let value): value
        case .int(let value): value != 0
        case .double(let value): value != 0
        case .string(let value): !value.isEmpty
        case .array(let value): !value.isEmpty
        case .dictionary(let value): !value.isEmpty
        case .namespace: true
        }
    }

    /// The string the value contributes to the output (Python `str()`).
    public var printed: String {
        switch self {
        case .undefined: ""
        case .string(let value): value
        default: pythonRepresentation
        }
    }

    /// Python `repr()`, used for values nested in printed lists and dicts.
    public var pythonRepresentation: String {
        switch self {
        case .undefined: ""
        case .none: "None"
        case .bool(let value): value ? "True" : "False"
        case .int(let value): String(value)
        case .double(let value): Self.pythonFloat(value)
        case .string(let value): Self.pythonQuoted(value)
        case .array(let values): "[" + values.map(\.pythonRepresentation).joined(separator: ", ") + "]"
        case .dictionary(let dictionary):
            "{" + dictionary.map { Self.pythonQuoted($0.key) + ": " + $0.value.pythonRepresentation }
                .joined(separator: ", ") + "}"
        case .namespace: "<Namespace>"
        }
    }

    /// The type name jinja2 uses in error messages.
    var typeName: String {
        switch self {
        case .undefined: "undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .double: "float"
        case .string: "str"
        case .array: "list"
        case .dictionary: "dict"
        case .namespace: "Namespace"
        }
    }

    /// Numeric view for arithmetic and ordering (`bool` counts as an int, as in Python).
    var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        case .bool(let value): value ? 1 : 0
        default: nil
        }
    }

    /// Python `repr` of a float: shortest round-trip digits, always with a fraction or exponent.
    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        var text = "\(value)"
        if let exponent = text.firstIndex(of: "e") {
            // Swift writes "1e-05" as "1e-05"; Python too, but Swift may omit the sign or padding.
            let mantissa = text[..<exponent]
            var digits = String(text[text.index(after: exponent)...])
            var sign = "+"
            if digits.hasPrefix("-") || digits.hasPrefix("+") {
                sign = digits.hasPrefix("-") ? "-" : "+"
                digits.removeFirst()
            }
            if digits.count < 2 { digits = "0" + digits }
            text = mantissa + "e" + sign + digits
        } else if !text.contains(".") {
            text += ".0"
        }
        return text
    }

    /// Python's `repr` of a string: single quotes unless the text holds `'` but no `"`.
    static func pythonQuoted(_ text: String) -> String {
        let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var result = String(quote)
        for character in text {
            switch character {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case quote: result += "\\" + String(quote)
            default: result.append(character)
            }
        }
        result.append(quote)
        return result
    }
}

extension JinjaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .none }
    public init(dictionaryLiteral elements: (String, JinjaValue)...) {
        var dictionary = JinjaDictionary()
        for (key, value) in elements { dictionary[key] = value }
        self = .dictionary(dictionary)
    }
}
