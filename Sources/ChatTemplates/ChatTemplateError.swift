// RadixServe: the one error type of the chat-template module.

/// A failure to parse or render a chat template, naming the template position when known.
///
/// Equality compares `code` and the position only, so tests can match without the wording.
public struct ChatTemplateError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case syntax, render, raised, invalidJSON
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The template is not valid in the supported Jinja subset.
        public static let syntax = Code(.syntax)
        /// Evaluation failed (undefined attribute, type mismatch, unknown filter, ...).
        public static let render = Code(.render)
        /// The template called `raise_exception(message)`; ``message`` is the template's text.
        public static let raised = Code(.raised)
        /// A JSON document (a config or a context value) is malformed.
        public static let invalidJSON = Code(.invalidJSON)

        public var description: String {
            switch base {
            case .syntax: "syntax"
            case .render: "render"
            case .raised: "raised"
            case .invalidJSON: "invalidJSON"
            }
        }
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong, in words.
    public let message: String
    /// 1-based template line, when the failure has a position.
    public let line: Int?
    /// 1-based column (in UTF-8 bytes) within ``line``.
    public let column: Int?

    /// Creates an error; prefer the static factories.
    public init(code: Code, message: String, line: Int? = nil, column: Int? = nil) {
        self.code = code
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        guard let line, let column else { return "chat template \(code) error: \(message)" }
        return "chat template \(code) error at line \(line), column \(column): \(message)"
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code && lhs.line == rhs.line && lhs.column == rhs.column
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(line)
        hasher.combine(column)
    }

    static func invalidJSON(_ message: String) -> Self { Self(code: .invalidJSON, message: message) }
}

/// Maps byte offsets of a template to 1-based line and column numbers.
struct SourceLocator: Sendable {
    private let lineStarts: [Int]

    init(_ bytes: [UInt8]) {
        var starts = [0]
        for (index, byte) in bytes.enumerated() where byte == 0x0A { starts.append(index + 1) }
        lineStarts = starts
    }

    /// The 1-based line and column of `offset`.
    func position(of offset: Int) -> (line: Int, column: Int) {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return (low + 1, offset - lineStarts[low] + 1)
    }

    func error(_ code: ChatTemplateError.Code, _ message: String, at offset: Int) -> ChatTemplateError {
        let (line, column) = position(of: offset)
        return ChatTemplateError(code: code, message: message, line: line, column: column)
    }
}
