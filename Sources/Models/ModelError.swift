/// Errors loading a model; every message names the file and, where one is involved, the tensor.
public struct ModelError: Error, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case missingFile
        case invalidConfig
        case unsupportedArchitecture
        case invalidCheckpoint
        case missingTensor
        case unsupportedDType
        case shapeMismatch
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
