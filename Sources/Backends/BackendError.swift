/// Errors raised by backends; messages say what was asked and what is wrong.
public struct BackendError: Error, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case outOfMemory
        case unsupportedOp
        case invalidArgument
        case deviceFailure
        /// The device lacks a capability a model or configuration needs (see ``DeviceRequirements``).
        case missingCapability
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static func unsupported(_ op: OpDescriptor, device: String) -> BackendError {
        BackendError(.unsupportedOp, "device '\(device)' does not support \(op)")
    }
}
