// RadixServe: JSON in and out of template values, keeping key order.

extension JinjaValue {
    /// Parses JSON text (RFC 8259) into a value, keeping object key order.
    /// Integers that fit `Int` become `.int`, other numbers `.double`; `null` becomes `.none`.
    /// Throws ``ChatTemplateError`` (code `.invalidJSON`) on malformed input.
    public init(json text: String) throws(ChatTemplateError) {
        var parser = JSONReader(bytes: Array(text.utf8))
        self = try parser.readDocument()
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
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}

/// A small recursive-descent JSON reader over UTF-8 bytes.
private struct JSONReader {
    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func readDocument() throws(ChatTemplateError) -> JinjaValue {
        let value = try readValue(depth: 0)
        skipWhitespace()
        guard offset == bytes.count else { throw failure("trailing characters") }
        return value
    }

    private func failure(_ problem: String) -> ChatTemplateError {
        .invalidJSON("\(problem) at byte \(offset)")
    }

    private mutating func skipWhitespace() {
        while offset < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[offset]) { offset += 1 }
    }

    private mutating func readValue(depth: Int) throws(ChatTemplateError) -> JinjaValue {
        guard depth < 512 else { throw failure("nesting too deep") }
        skipWhitespace()
        guard offset < bytes.count else { throw failure("unexpected end") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            offset += 1
            var dictionary = JinjaDictionary()
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") { offset += 1; return .dictionary(dictionary) }
            while true {
                skipWhitespace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw failure("expected key") }
                let key = try readString()
                skipWhitespace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw failure("expected ':'") }
                offset += 1
                dictionary[key] = try readValue(depth: depth + 1)
                skipWhitespace()
                guard offset < bytes.count else { throw failure("unterminated object") }
                offset += 1
                if bytes[offset - 1] == UInt8(ascii: "}") { return .dictionary(dictionary) }
                guard bytes[offset - 1] == UInt8(ascii: ",") else { throw failure("expected ',' or '}'") }
            }
        case UInt8(ascii: "["):
            offset += 1
            var values: [JinjaValue] = []
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(values) }
            while true {
                values.append(try readValue(depth: depth + 1))
                skipWhitespace()
                guard offset < bytes.count else { throw failure("unterminated array") }
                offset += 1
                if bytes[offset - 1] == UInt8(ascii: "]") { return .array(values) }
                guard bytes[offset - 1] == UInt8(ascii: ",") else { throw failure("expected ',' or ']'") }
            }
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): return try readKeyword("true", .bool(true))
        case UInt8(ascii: "f"): return try readKeyword("false", .bool(false))
        case UInt8(ascii: "n"): return try readKeyword("null", .none)
        default: return try readNumber()
        }
    }

    private mutating func readKeyword(_ word: String, _ value: JinjaValue) throws(ChatTemplateError) -> JinjaValue {
        let utf8 = Array(word.utf8)
        guard offset + utf8.count <= bytes.count, Array(bytes[offset..<offset + utf8.count]) == utf8 else {
            throw failure("invalid literal")
        }
        offset += utf8.count
        return value
    }

    private mutating func readNumber() throws(ChatTemplateError) -> JinjaValue {
        let start = offset
        let allowed = Array("0123456789+-.eE".utf8)
        while offset < bytes.count, allowed.contains(bytes[offset]) { offset += 1 }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let value = Int(text) { return .int(value) }
        guard !text.isEmpty, let value = Double(text) else { throw failure("invalid number") }
        return .double(value)
    }

    private mutating func readHex4() throws(ChatTemplateError) -> UInt32 {
        guard offset + 4 <= bytes.count,
            let value = UInt32(String(decoding: bytes[offset..<offset + 4], as: UTF8.self), radix: 16)
        else { throw failure("invalid \\u escape") }
        offset += 4
        return value
    }

    private mutating func readString() throws(ChatTemplateError) -> String {
        offset += 1
        var scalars = String.UnicodeScalarView()
        var run: [UInt8] = []
        while true {
            guard offset < bytes.count else { throw failure("unterminated string") }
            let byte = bytes[offset]
            offset += 1
            if byte == UInt8(ascii: "\"") { break }
            guard byte == UInt8(ascii: "\\") else { run.append(byte); continue }
            scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
            run.removeAll(keepingCapacity: true)
            guard offset < bytes.count else { throw failure("unterminated escape") }
            offset += 1
            switch bytes[offset - 1] {
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "u"):
                var code = try readHex4()
                if (0xD800..<0xDC00).contains(code), offset + 6 <= bytes.count, bytes[offset] == UInt8(ascii: "\\"),
                    bytes[offset + 1] == UInt8(ascii: "u")
                {
                    offset += 2
                    let low = try readHex4()
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            case let other: scalars.append(Unicode.Scalar(other))
            }
        }
        scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
        return String(scalars)
    }
}
