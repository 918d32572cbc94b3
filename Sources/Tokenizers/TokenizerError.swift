// Errors raised while loading tokenizer files.

/// A failure to load a tokenizer. The message names the file and the problem.
///
/// Equality compares `code` only, so tests and callers can match on the kind of failure.
public struct TokenizerError: Error, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case fileNotFound
            case unreadableFile
            case invalidJSON
            case missingField
            case invalidValue
            case unsupportedType
            case invalidVocabulary
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A required file does not exist.
        public static let fileNotFound = Code(.fileNotFound)
        /// A file exists but could not be read.
        public static let unreadableFile = Code(.unreadableFile)
        /// A file is not valid JSON.
        public static let invalidJSON = Code(.invalidJSON)
        /// A required JSON field is absent.
        public static let missingField = Code(.missingField)
        /// A JSON field has the wrong type or an invalid value.
        public static let invalidValue = Code(.invalidValue)
        /// A model, normalizer, pre-tokenizer, post-processor or decoder type is not supported.
        public static let unsupportedType = Code(.unsupportedType)
        /// Vocabulary and merges disagree (for example a merge names an unknown token).
        public static let invalidVocabulary = Code(.invalidVocabulary)

        /// A short name of the code.
        public var description: String {
            "\(base)"
        }
    }

    /// The kind of failure.
    public let code: Code
    /// Human-readable explanation naming the problem.
    public let message: String
    /// Path of the file being loaded when the failure happened, if known.
    public let path: String?

    /// Creates an error; prefer the static factories.
    public init(code: Code, message: String, path: String?) {
        self.code = code
        self.message = message
        self.path = path
    }

    /// `"<path>: <message>"`, or the message alone when there is no path.
    public var description: String {
        if let path { return "\(path): \(message)" }
        return message
    }

    /// Errors are equal when their codes are equal.
    public static func == (lhs: TokenizerError, rhs: TokenizerError) -> Bool {
        lhs.code == rhs.code
    }

    /// Hashes the code only, consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
    }

    static func fileNotFound(_ path: String) -> TokenizerError {
        TokenizerError(code: .fileNotFound, message: "file not found", path: path)
    }

    static func invalidJSON(_ detail: String, path: String?) -> TokenizerError {
        TokenizerError(code: .invalidJSON, message: "invalid JSON: \(detail)", path: path)
    }

    static func missingField(_ field: String, path: String?) -> TokenizerError {
        TokenizerError(code: .missingField, message: "missing field '\(field)'", path: path)
    }

    static func invalidValue(_ field: String, _ detail: String, path: String?) -> TokenizerError {
        TokenizerError(code: .invalidValue, message: "invalid value for '\(field)': \(detail)", path: path)
    }

    static func unsupported(_ component: String, type: String, path: String?) -> TokenizerError {
        TokenizerError(code: .unsupportedType, message: "unsupported \(component) type '\(type)'", path: path)
    }

    static func invalidVocabulary(_ detail: String, path: String?) -> TokenizerError {
        TokenizerError(code: .invalidVocabulary, message: detail, path: path)
    }
}
