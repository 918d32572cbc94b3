// RadixServe: the error thrown by integrity checks of the policy modules.

/// A broken invariant found by a `checkIntegrity()` method.
///
/// Integrity checks are debugging and testing aids: they walk whole data structures and are
/// too slow for every engine step in release builds. A violation means a bug, never bad input.
public struct IntegrityViolation: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, naming the structure and the offending element.
    public var message: String

    /// Creates a violation with a message.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "integrity violation: \(message)" }
}
