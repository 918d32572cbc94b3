// Errors of tensor-parallel group formation and lock-step execution.

/// A tensor-parallel group could not form or lost a member. The message names the ranks and
/// values involved and is meant to be shown to the user as is.
public struct TensorParallelError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public enum Code: Hashable, Sendable {
        /// Ranks disagree on protocol version, model or group size.
        case mismatch
        /// A peer died, closed or stopped answering.
        case peerLost
        /// The leader sent something a rank cannot run.
        case invalidMessage
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
