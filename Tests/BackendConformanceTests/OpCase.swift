import Backends
import ServingTypes
import TestSupport

/// Random inputs for one op, built identically on the backend under test and on `reference`.
struct OpInputs {
    var random: SeededRandom

    init(seed: UInt64) {
        random = SeededRandom(seed: seed)
    }

    mutating func values(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in Float.random(in: -scale...scale, using: &random) }
    }
}

/// Runs the same op on two backends and returns both f32 outputs.
func compare(
    _ backends: (any ComputeBackend, any ComputeBackend), rows: Int, columns: Int,
    _ body: (any ComputeBackend, Tensor) throws -> Void
) throws -> ([Float], [Float]) {
    var results: [[Float]] = []
    for backend in [backends.0, backends.1] {
        let out = try backend.makeTensor(rows: rows, columns: columns)
        try body(backend, out)
        backend.synchronize()
        results.append(backend.read(out))
    }
    return (results[0], results[1])
}

/// Largest |a − b| relative to max(1, |b|).
func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        if x.isNaN != y.isNaN { return .infinity }
        worst = max(worst, abs(x - y) / max(1, abs(y)))
    }
    return worst
}
