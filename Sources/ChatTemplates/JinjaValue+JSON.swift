// RadixServe: JSON in and out of template values, keeping key order.

import OrderedJSON

extension JinjaValue {
    /// Parses JSON text (RFC 8259) into a value, keeping object key order.
    /// Integers that fit `Int` become `.int`, other numbers `.double`; `null` becomes `.none`.
    /// Throws ``ChatTemplateError`` (code `.invalidJSON`) on malformed input.
    public init(json text: String) throws(ChatTemplateError) {
        do {
            self.init(try JSONValue.parse(Array(text.utf8)))
        } catch {
            throw .invalidJSON(error.description)
        }
    }

    /// The template value of a parsed JSON value (`null` becomes `.none`).
    init(_ json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let value): self = .bool(value)
        case .integer(let value): self = .int(value)
        case .number(let value): self = .double(value)
        case .string(let value): self = .string(value)
        case .array(let values): self = .array(values.map(JinjaValue.init))
        case .object(let members):
            var dictionary = JinjaDictionary()
            for (key, value) in members { dictionary[key] = JinjaValue(value) }
            self = .dictionary(dictionary)
        }
    }

    /// Serialises like Python's `json.dumps(value, ensure_ascii=False, indent=indent)`, which is
    /// what transformers' `tojson` filter calls: `", "`/`": "` separators without indent, one item
    /// per line with `indent` spaces otherwise. Undefined values serialise as `null`.
    public func jsonString(indent: Int? = nil) -> String {
        var output = ""
        writeJSON(into: &output, indent: indent, depth: 0)
        return output
    }

    private func writeJSON(into output: inout String, indent: Int?, depth: Int) {
        switch self {
        case .undefined, .none, .namespace: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .int(let value): output += String(value)
        case .double(let value):
            output += value.isNaN ? "NaN" : value.isInfinite ? (value < 0 ? "-Infinity" : "Infinity") : Self.pythonFloat(value)
        case .string(let value): Self.writeJSONString(value, into: &output)
        case .array(let values):
            writeContainer(values.count, open: "[", close: "]", into: &output, indent: indent, depth: depth) { index, out in
                values[index].writeJSON(into: &out, indent: indent, depth: depth + 1)
            }
        case .dictionary(let dictionary):
            let keys = dictionary.keys
            writeContainer(keys.count, open: "{", close: "}", into: &output, indent: indent, depth: depth) { index, out in
                Self.writeJSONString(keys[index], into: &out)
                out += ": "
                dictionary[keys[index]]!.writeJSON(into: &out, indent: indent, depth: depth + 1)
            }
        }
    }

    private func writeContainer(
        _ count: Int, open: String, close: String, into output: inout String, indent: Int?, depth: Int,
        item: (Int, inout String) -> Void
    ) {
        output += open
        guard count > 0 else { return output += close }
        for index in 0..<count {
            if let indent {
                output += (index == 0 ? "\n" : ",\n") + String(repeating: " ", count: indent * (depth + 1))
            } else if index > 0 {
                output += ", "
            }
            item(index, &output)
        }
        if let indent { output += "\n" + String(repeating: " ", count: indent * depth) }
        output += close
    }

    private static func writeJSONString(_ text: String, into output: inout String) {
        JSONValue.writeString(text, into: &output)
    }
}

/// A small recursive-descent JSON reader over UTF-8 bytes.
