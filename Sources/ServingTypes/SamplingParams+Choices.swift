// RadixServe: the parameters of each of a request's `n` samples.

extension SamplingParams {
    /// The parameters of sample `index` of a request that asked for several (`n`): the same, with
    /// the seed derived from the request's seed, so a seeded request gives the same `n` samples on
    /// every run. Sample 0 keeps the request's own seed, so it equals the answer to the same
    /// request with `n` = 1; sample `i` > 0 seeds with the first output of ``SeededRandom`` seeded
    /// with `seed + i · 0xD1B54A32D192ED03`. Without a seed every sample draws its own.
    public func forChoice(_ index: Int) -> SamplingParams {
        guard index > 0, let seed else { return self }
        var choice = self
        var random = SeededRandom(seed: seed &+ UInt64(index) &* 0xD1B5_4A32_D192_ED03)
        choice.seed = random.next()
        return choice
    }
}
