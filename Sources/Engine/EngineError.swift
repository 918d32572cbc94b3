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

extension EngineError {
    /// Deterministic mode asked of a tensor-parallel model: with more than two ranks the ring
    /// all-reduce adds a row's partial sums in an order that depends on where the row falls in the
    /// step's buffer, and ranks are started without batch-invariant kernels.
    static func deterministicTensorParallel(ranks: Int) -> EngineError {
        EngineError("deterministic mode runs on one rank; this model has \(ranks) tensor-parallel ranks (use --tp 1)")
    }
}
