import Engine
import Foundation
import ServingTypes
import Testing

/// Sampling without top_k never sorts the whole vocabulary: plain temperature sampling draws in
/// vocabulary order, min-p sorts only the tokens it keeps, top-p only a top-k large enough to
/// reach top_p. The draws must follow the same distribution as the sorted definition: only the
/// tokens it keeps, each as often as its renormalised probability.
@Suite struct SamplerWithoutTopKTests {
    /// A row of `count` logits, peaked or flat, with -inf and NaN entries that must never be drawn.
    static func row(_ count: Int, spread: Float, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        var row = (0..<count).map { _ in (random.nextUnitFloat() * 2 - 1) * spread }
        for _ in 0..<count / 20 { row[Int(random.next() % UInt64(count))] = -.infinity }
        row[Int(random.next() % UInt64(count))] = .nan
        return row
    }

    /// The kept tokens and their renormalised probabilities by the definition: sort, softmax,
    /// the smallest prefix reaching top_p, then min-p against the largest (in Double).
    static func kept(_ row: [Float], _ settings: SamplerSettings) -> [Int: Double] {
        let order = row.indices.filter { row[$0] > -.infinity }
            .sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
        let top = Double(row[order[0]]) / Double(settings.temperature)
        let weights = order.map { exp(Double(row[$0]) / Double(settings.temperature) - top) }
        let total = weights.reduce(0, +)
        var keep = order.count
        var cumulative = 0.0
        for (i, weight) in weights.enumerated() where settings.topP < 1 {
            cumulative += weight / total
            if cumulative >= Double(settings.topP) { keep = i + 1; break }
        }
        if settings.minP > 0 { keep = min(keep, weights.firstIndex { $0 < Double(settings.minP) } ?? keep) }
        let kept = weights.prefix(keep).reduce(0, +)
        return Dictionary(uniqueKeysWithValues: (0..<keep).map { (order[$0], weights[$0] / kept) })
    }

    @Test(arguments: [
        SamplerSettings(temperature: 1), SamplerSettings(temperature: 0.6, topP: 0.9),
        SamplerSettings(temperature: 1.2, minP: 0.2), SamplerSettings(temperature: 0.8, topP: 0.7, minP: 0.05),
        SamplerSettings(temperature: 1, topP: 0.999),
    ])
    func drawsFollowTheSortedDefinition(settings: SamplerSettings) {
        var sampler = Sampler()
        // A 60-token row (every probability is large enough to count), and a 5,000-token row
        // flat enough that top-p needs more than the first 64 and 512 candidates.
        for (count, spread, draws) in [(60, Float(4), 20_000), (5_000, Float(1.5), 1_000)] {
            let row = Self.row(count, spread: spread, seed: UInt64(count))
            let expected = Self.kept(row, settings)
            var counts: [Int: Int] = [:]
            var random = SeededRandom(seed: 42)
            for _ in 0..<draws {
                let token = Int(row.withUnsafeBufferPointer { sampler.sample($0, settings: settings, random: &random) })
                counts[token, default: 0] += 1
            }
            let strays = counts.keys.filter { expected[$0] == nil }
            #expect(strays.isEmpty, "\(settings), \(count) tokens: drew tokens outside the kept set: \(strays.prefix(5))")
            // The large row: about as many distinct tokens as the kept set yields in this many
            // draws (a sampler that stopped at the first 64 or 512 candidates gives far fewer).
            let distinct = expected.values.reduce(0) { $0 + 1 - pow(1 - $1, Double(draws)) }
            #expect(Double(counts.count) >= 0.9 * distinct, "\(settings), \(count) tokens: \(counts.count) distinct, expected ~\(Int(distinct))")
            guard count == 60 else { continue }
            // Each kept token's frequency within 5 standard deviations of its probability.
            for (token, probability) in expected {
                let observed = Double(counts[token, default: 0]) / Double(draws)
                let deviation = (probability * (1 - probability) / Double(draws)).squareRoot()
                #expect(abs(observed - probability) <= 5 * deviation + 1e-4, "\(settings): token \(token) \(observed) vs \(probability)")
            }
        }
    }

    @Test func aPositiveInfinityTakesEverythingAndAnEmptyRowGivesZero() {
        var sampler = Sampler()
        var random = SeededRandom(seed: 1)
        var row = Self.row(300, spread: 2, seed: 3)
        row[123] = .infinity
        for settings in [SamplerSettings(temperature: 1), SamplerSettings(temperature: 1, topP: 0.5), SamplerSettings(temperature: 1, minP: 0.1)] {
            #expect(row.withUnsafeBufferPointer { sampler.sample($0, settings: settings, random: &random) } == 123)
            let empty = [Float](repeating: -.infinity, count: 10)
            #expect(empty.withUnsafeBufferPointer { sampler.sample($0, settings: settings, random: &random) } == 0)
        }
    }
}
