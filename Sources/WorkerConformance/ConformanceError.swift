// RadixServe: why the conformance kit could not start.

/// Why a conformance run could not start (a bad endpoint, an unreadable model, a command that
/// cannot run). Problems of the worker under test are never thrown: they are report lines.
public struct ConformanceError: Error, Hashable, CustomStringConvertible, Sendable {
    /// What went wrong, for the user.
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
