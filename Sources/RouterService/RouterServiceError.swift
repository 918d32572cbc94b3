// RadixServe: the RouterService module's error.

/// A router start-up or administration failure, with a message for the operator.
public struct RouterServiceError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public let message: String

    init(_ message: String) { self.message = message }

    public var description: String { message }
}
