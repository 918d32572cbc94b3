// RadixServe: why an output constraint cannot be compiled.

/// A regex or JSON Schema outside the supported subset, or one too large to compile.
///
/// The message names the construct or keyword and where it is, so a client's 400 answer tells
/// it what to change (`unsupported JSON Schema keyword 'patternProperties' at #/properties/x`).
public struct ConstraintError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A sentence for the client.
    public let message: String

    /// Creates an error with `message`.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
