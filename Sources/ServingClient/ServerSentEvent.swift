/// One Server-Sent Event as dispatched by a blank line.
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field, if any (OpenAI streams send none).
    public var type: String?
    /// The `data:` lines joined with `"\n"`.
    public var data: String
    /// The last `id:` field seen in the stream, if any.
    public var id: String?
    /// When the bytes that completed this event were received.
    public var arrival: ContinuousClock.Instant

    public init(type: String? = nil, data: String, id: String? = nil, arrival: ContinuousClock.Instant = .now) {
        self.type = type
        self.data = data
        self.id = id
        self.arrival = arrival
    }

    /// Whether this is the OpenAI end-of-stream sentinel, `data: [DONE]`.
    public var isDone: Bool { data == "[DONE]" }

    /// Field-wise equality ignoring ``arrival``.
    public static func == (lhs: ServerSentEvent, rhs: ServerSentEvent) -> Bool {
        lhs.type == rhs.type && lhs.data == rhs.data && lhs.id == rhs.id
    }
}
