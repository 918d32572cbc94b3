// RadixServe: splits a template into text and tag tokens, applying whitespace control.

/// One lexical token. `text` holds literal text, a name, an operator, or a decoded string literal.
struct JinjaToken: Sendable {
    enum Kind: Sendable, Equatable {
        case text, variableBegin, variableEnd, blockBegin, blockEnd
        case name, string, integer, float, op, end
    }

    var kind: Kind
    var text: String
    /// Byte offset in the template source, for error positions.
    var offset: Int
}

/// Tokenises a template the way jinja2 does with `trim_blocks=True, lstrip_blocks=True`
/// (transformers' settings): the first newline after `%}`/`#}` is dropped, and spaces or tabs
/// before `{%`/`{#` at the start of a line are dropped. `-` beside a delimiter strips all
/// whitespace on that side; `{%+` keeps the leading whitespace.
struct JinjaLexer {
    private let bytes: [UInt8]
    private let locator: SourceLocator
    private var offset = 0
    private var tokens: [JinjaToken] = []

    init(bytes: [UInt8], locator: SourceLocator) {
        self.bytes = bytes
        self.locator = locator
    }

    /// Tokenises the whole source. Throws a `.syntax` error for unterminated tags or strings.
    mutating func tokenize() throws(ChatTemplateError) -> [JinjaToken] {
        var stripNextLeading = false
        var lineStarting = true
        while offset < bytes.count {
            let tagStart = findTagStart(from: offset)
            var text = Array(bytes[offset..<tagStart])
            let textOffset = offset
            if stripNextLeading {
                while let first = text.first, Self.isSpace(first) { text.removeFirst() }
            }
            guard tagStart < bytes.count else {
                appendText(text, at: textOffset)
                break
            }
            let opener = bytes[tagStart + 1]
            let marker = tagStart + 2 < bytes.count ? bytes[tagStart + 2] : 0
            var bodyStart = tagStart + 2
            if marker == UInt8(ascii: "-") {
                while let last = text.last, Self.isSpace(last) { text.removeLast() }
                bodyStart += 1
            } else if marker == UInt8(ascii: "+") && opener != UInt8(ascii: "{") {
                bodyStart += 1
            } else if opener != UInt8(ascii: "{") {
                lstrip(&text, lineStarting: lineStarting)
            }
            appendText(text, at: textOffset)
            switch opener {
            case UInt8(ascii: "#"):
                guard let close = find("#}", from: bodyStart) else {
                    throw locator.error(.syntax, "unterminated comment", at: tagStart)
                }
                stripNextLeading = bytes[close - 1] == UInt8(ascii: "-") && close - 1 >= bodyStart
                offset = close + 2
                if !stripNextLeading && bytes[close - 1] != UInt8(ascii: "+") { trimNewline() }
            default:
                let isBlock = opener == UInt8(ascii: "%")
                tokens.append(JinjaToken(kind: isBlock ? .blockBegin : .variableBegin, text: "", offset: tagStart))
                offset = bodyStart
                let (closeStart, stripRight) = try lexExpression(closer: isBlock ? UInt8(ascii: "%") : UInt8(ascii: "}"))
                tokens.append(JinjaToken(kind: isBlock ? .blockEnd : .variableEnd, text: "", offset: closeStart))
                stripNextLeading = stripRight
                if isBlock && !stripRight && bytes[offset - 3] != UInt8(ascii: "+") { trimNewline() }
            }
            lineStarting = offset > 0 && bytes[offset - 1] == 0x0A
        }
        tokens.append(JinjaToken(kind: .end, text: "", offset: bytes.count))
        return tokens
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }

    private mutating func appendText(_ text: [UInt8], at offset: Int) {
        guard !text.isEmpty else { return }
        tokens.append(JinjaToken(kind: .text, text: String(decoding: text, as: UTF8.self), offset: offset))
    }

    /// lstrip_blocks: drop spaces/tabs between the last newline (or a line start) and the tag.
    private func lstrip(_ text: inout [UInt8], lineStarting: Bool) {
        let newline = text.lastIndex(of: 0x0A)
        guard newline != nil || lineStarting else { return }
        let tailStart = newline.map { $0 + 1 } ?? 0
        if text[tailStart...].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { text.removeSubrange(tailStart...) }
    }

    /// trim_blocks: drop exactly one newline right after a block or comment tag.
    private mutating func trimNewline() {
        if offset < bytes.count, bytes[offset] == 0x0A { offset += 1 }
    }

    private func findTagStart(from start: Int) -> Int {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "{") {
                let next = bytes[index + 1]
                if next == UInt8(ascii: "{") || next == UInt8(ascii: "%") || next == UInt8(ascii: "#") { return index }
            }
            index += 1
        }
        return bytes.count
    }

    private func find(_ needle: String, from start: Int) -> Int? {
        let pattern = Array(needle.utf8)
        var index = start
        while index + pattern.count <= bytes.count {
            if bytes[index] == pattern[0] && bytes[index + 1] == pattern[1] { return index }
            index += 1
        }
        return nil
    }

    /// Lexes expression tokens until `closer` + `}`; returns where the closing delimiter
    /// (including a `-`) starts and whether it strips the following whitespace.
    private mutating func lexExpression(closer: UInt8) throws(ChatTemplateError) -> (Int, Bool) {
        let tagOffset = offset
        while true {
            while offset < bytes.count, Self.isSpace(bytes[offset]) { offset += 1 }
            guard offset < bytes.count else { throw locator.error(.syntax, "unterminated tag", at: tagOffset - 2) }
            let byte = bytes[offset]
            let next = offset + 1 < bytes.count ? bytes[offset + 1] : 0
            let afterNext = offset + 2 < bytes.count ? bytes[offset + 2] : 0
            if byte == closer && next == UInt8(ascii: "}") {
                offset += 2
                return (offset - 2, false)
            }
            if (byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")) && next == closer && afterNext == UInt8(ascii: "}") {
                offset += 3
                return (offset - 3, byte == UInt8(ascii: "-"))
            }
            try lexOne()
        }
    }

    private mutating func lexOne() throws(ChatTemplateError) {
        let start = offset
        let byte = bytes[offset]
        if Self.isNameStart(byte) {
            while offset < bytes.count, Self.isNameStart(bytes[offset]) || Self.isDigit(bytes[offset]) { offset += 1 }
            tokens.append(JinjaToken(kind: .name, text: String(decoding: bytes[start..<offset], as: UTF8.self), offset: start))
        } else if Self.isDigit(byte) {
            var isFloat = false
            while offset < bytes.count, Self.isDigit(bytes[offset]) || bytes[offset] == UInt8(ascii: "_") { offset += 1 }
            if offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "."), Self.isDigit(bytes[offset + 1]) {
                isFloat = true
                offset += 1
                while offset < bytes.count, Self.isDigit(bytes[offset]) { offset += 1 }
            }
            let text = String(decoding: bytes[start..<offset], as: UTF8.self).replacing("_", with: "")
            tokens.append(JinjaToken(kind: isFloat ? .float : .integer, text: text, offset: start))
        } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
            tokens.append(JinjaToken(kind: .string, text: try lexString(quote: byte), offset: start))
        } else {
            let pair = offset + 2 <= bytes.count ? String(decoding: bytes[offset..<offset + 2], as: UTF8.self) : ""
            let operators = ["//", "**", "==", "!=", "<=", ">="]
            let text = operators.contains(pair) ? pair : String(UnicodeScalar(byte))
            guard "+-*/%~<>=!()[]{}.,:|?".utf8.contains(byte) else {
                throw locator.error(.syntax, "unexpected character '\(UnicodeScalar(byte))'", at: start)
            }
            offset += text.utf8.count
            tokens.append(JinjaToken(kind: .op, text: text, offset: start))
        }
    }

    private mutating func lexString(quote: UInt8) throws(ChatTemplateError) -> String {
        let start = offset
        offset += 1
        var result: [UInt8] = []
        while offset < bytes.count, bytes[offset] != quote {
            if bytes[offset] == UInt8(ascii: "\\"), offset + 1 < bytes.count {
                offset += 1
                switch bytes[offset] {
                case UInt8(ascii: "n"): result.append(0x0A)
                case UInt8(ascii: "t"): result.append(0x09)
                case UInt8(ascii: "r"): result.append(0x0D)
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): result.append(bytes[offset])
                default: result += [UInt8(ascii: "\\"), bytes[offset]]
                }
            } else {
                result.append(bytes[offset])
            }
            offset += 1
        }
        guard offset < bytes.count else { throw locator.error(.syntax, "unterminated string literal", at: start) }
        offset += 1
        return String(decoding: result, as: UTF8.self)
    }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "_")
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
