import Engine
import RadixTree

/// The seeded generator property tests use: the engine's own SplitMix64 (``SeededRandom``), so a
/// seed reproduces a failure on any machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var base: SeededRandom

    public init(seed: UInt64) {
        base = SeededRandom(seed: seed)
    }

    public mutating func next() -> UInt64 { base.next() }
}
