// RadixServe: one message of a chat conversation.

/// One chat message: a request's `messages` entry, or a response's `message`.
///
/// `content` decodes from a string, `null` (empty), or a list of `{"type": "text", "text": …}`
/// parts (joined); other part types are refused. It always encodes as a string.
public struct ChatMessage: Codable, Sendable, Hashable {
    /// `system`, `user` or `assistant`.
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// A system message.
    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    /// A user message.
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    /// An assistant message.
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }

    enum CodingKeys: String, CodingKey { case role, content }

    private struct Part: Decodable {
        var type: String
        var text: String?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        role = try container.decode(String.self, forKey: .role)
        if let text = try? container.decode(String.self, forKey: .content) {
            content = text
        } else if try container.decodeNil(forKey: .content) {
            content = ""
        } else {
            let parts = try container.decode([Part].self, forKey: .content)
            if let other = parts.first(where: { $0.type != "text" }) {
                throw DecodingError.dataCorruptedError(
                    forKey: .content, in: container,
                    debugDescription: "content part type '\(other.type)' is not supported (text only)")
            }
            content = parts.compactMap(\.text).joined()
        }
    }
}
