// RadixServe: the engine's own errors.

/// Errors of requests or engines that cannot run (the engine thread could not start, the engine
/// is shut down, a benchmark request failed).
public struct EngineError: Error, Hashable, CustomStringConvertible {
    /// What went wrong.
    public let message: String
    /// Creates an error with `message`.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
