// RadixServe: the OpenAI error body.

/// `{"error": {"message", "type", "param", "code"}}`: the body of a 4xx/5xx response, and the
/// event a stream sends when it fails after it started.
public struct APIErrorBody: Codable, Sendable, Hashable {
    /// What went wrong.
    public struct Detail: Codable, Sendable, Hashable {
        /// A sentence for the user.
        public var message: String?
        /// E.g. `invalid_request_error`.
        public var type: String?
        /// The request parameter at fault, as the client spelled it.
        public var param: String?
        /// A machine-readable code such as `context_length_exceeded`.
        public var code: String?

        public init(message: String?, type: String?, param: String? = nil, code: String? = nil) {
            self.message = message
            self.type = type
            self.param = param
            self.code = code
        }

        enum CodingKeys: String, CodingKey { case message, type, param, code }

        /// Lenient: a numeric `code` (some servers send the status) is kept as text.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            message = try? container.decodeIfPresent(String.self, forKey: .message)
            type = try? container.decodeIfPresent(String.self, forKey: .type)
            param = try? container.decodeIfPresent(String.self, forKey: .param)
            code = (try? container.decodeIfPresent(String.self, forKey: .code))
                ?? (try? container.decodeIfPresent(Int.self, forKey: .code)).map { String($0) }
        }

        /// Every field, `param` and `code` as explicit `null`s when absent, as OpenAI does.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(message, forKey: .message)
            try container.encode(type, forKey: .type)
            try container.encode(param, forKey: .param)
            try container.encode(code, forKey: .code)
        }
    }

    public var error: Detail

    public init(error: Detail) {
        self.error = error
    }
}
