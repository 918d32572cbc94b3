
/// Settings that turn logits into a token. Temperature 0 means greedy.
public struct SamplerSettings: Sendable, Hashable {
    public var temperature: Float
    /// Keep the `topK` most likely tokens (0 = off).
    public var topK: Int
    /// Keep the smallest set whose probability reaches `topP` (1 = off).
    public var topP: Float
    /// Drop tokens less likely than `minP` × the most likely one (0 = off).
    public var minP: Float

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
    }

    /// Below this temperature sampling is greedy (as in SGLang).
    public static let greedyTemperature: Float = 1e-6

    public var isGreedy: Bool { temperature < Self.greedyTemperature || topK == 1 }
}

/// Picks tokens from a row of logits. Keeps its candidate buffers between calls, so sampling
/// allocates nothing after the first call. Not thread-safe.
public struct Sampler {
    private var candidates: [(id: Int32, value: Float)] = []

    public init() {}

    /// The index of the largest logit; the first one on ties (as `torch.argmax`). NaNs are never
    /// chosen; a row with nothing above -infinity gives 0.
    ///
    /// Runs once per row per decode step over the whole vocabulary, so it finds the maximum 16 lanes
    /// at a time (a lane only takes a strictly larger value, so NaNs drop out) and then the first
    /// index holding it.
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        guard let base = logits.baseAddress else { return 0 }
        let count = logits.count
        let raw = UnsafeRawPointer(base)
        var lanes = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i &+ 16 <= count {
            let values = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            lanes.replace(with: values, where: values .> lanes)
            i &+= 16
        }
        var maximum = lanes.max()
        while i < count {
            if base[i] > maximum { maximum = base[i] }
            i &+= 1
        }
        guard maximum > -.infinity else { return 0 }
        let target = SIMD16<Float>(repeating: maximum)
        var j = 0
        while j &+ 16 <= count {
            if any(raw.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self) .== target) { break }
            j &+= 16
        }
        while j < count {
            if base[j] == maximum { return Int32(j) }
            j &+= 1
        }
        return 0
    }

    /// Samples a token id from one row of logits (vocabulary-sized): greedy at zero temperature or
    /// `topK == 1`, else softmax sampling over the candidates left by top-k, top-p and min-p.
    public mutating func sample(
        _ logits: UnsafeBufferPointer<Float>, settings: SamplerSettings, random: inout SeededRandom
    ) -> Int32 {
        if settings.isGreedy { return Self.argmax(logits) }
        guard settings.topK == 0 else {
            selectTop(settings.topK, of: logits)
            guard !candidates.isEmpty else { return Self.argmax(logits) }
            return pick(settings: settings, random: &random)
        }
        let best = Int(Self.argmax(logits))
        // Nothing above -inf: argmax's 0; a +inf logit: its token has all the probability.
        guard logits[best] > -.infinity && logits[best] < .infinity else { return Int32(best) }
        let inverseTemperature = 1 / settings.temperature
        let maximum = logits[best] * inverseTemperature
        if settings.topP >= 1 && settings.minP <= 0 {
            return drawFromWholeRow(logits, inverseTemperature: inverseTemperature, maximum: maximum, random: &random)
        }
        if settings.topP >= 1 {
            // min-p alone keeps the tokens whose probability is at least min_p times the largest
            // (`pick` applies the same test to the same values): only those need sorting.
            candidates.removeAll(keepingCapacity: true)
            for (i, value) in logits.enumerated() where value > -.infinity {
                if expf(value * inverseTemperature - maximum) >= settings.minP { candidates.append((Int32(i), value)) }
            }
            candidates.sort(by: Self.precedes)
            return pick(settings: settings, random: &random)
        }
        // top-p keeps a prefix of the sorted row that reaches top_p of the whole row's mass: sort
        // only a top-k that holds it, k growing eightfold from 64 (one heap pass each), and the
        // whole row once k would pass half of it.
        var total: Float = 0
        var finite = 0
        for value in logits where value > -.infinity {
            total += expf(value * inverseTemperature - maximum)
            finite += 1
        }
        var k = 64
        while true {
            if 2 * k >= finite {
                selectTop(finite, of: logits)
                break
            }
            selectTop(k, of: logits)
            var cumulative: Float = 0
            let reaches = candidates.contains {
                cumulative += expf($0.value * inverseTemperature - maximum) / total
                return cumulative >= settings.topP
            }
            if reaches { break }
            k *= 8
        }
        return pick(settings: settings, random: &random, total: total)
    }

    /// Samples from the softmax of the whole row without sorting it: one pass for the total, one
    /// for the draw, both in vocabulary order (so a given draw maps to a token through that order;
    /// the distribution is the same).
    private func drawFromWholeRow(
        _ logits: UnsafeBufferPointer<Float>, inverseTemperature: Float, maximum: Float, random: inout SeededRandom
    ) -> Int32 {
        var total: Float = 0
        for value in logits where value > -.infinity { total += expf(value * inverseTemperature - maximum) }
        var target = random.nextUnitFloat() * total
        var last = 0
        for (i, value) in logits.enumerated() where value > -.infinity {
            target -= expf(value * inverseTemperature - maximum)
            if target < 0 { return Int32(i) }
            last = i
        }
        return Int32(last)
    }

    /// The candidate order: larger value first, equal values by lower id.
    @inline(__always)
    private static func precedes(_ a: (id: Int32, value: Float), _ b: (id: Int32, value: Float)) -> Bool {
        a.value > b.value || (a.value == b.value && a.id < b.id)
    }

    /// Leaves in ``candidates`` the first `k` of the row's finite-or-`+inf` logits in
    /// ``precedes(_:_:)`` order, exactly what sorting them all and keeping `k` gives, in
    /// O(vocabulary · log k): a heap of the best `k` so far whose root is the worst of them, so
    /// most logits are turned away by one comparison.
    private mutating func selectTop(_ k: Int, of logits: UnsafeBufferPointer<Float>) {
        candidates.removeAll(keepingCapacity: true)
        for (i, value) in logits.enumerated() where value > -Float.infinity {
            let candidate = (id: Int32(i), value: value)
            if candidates.count < k {
                candidates.append(candidate)
                var child = candidates.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard Self.precedes(candidates[parent], candidates[child]) else { break }
                    candidates.swapAt(parent, child)
                    child = parent
                }
            } else if Self.precedes(candidate, candidates[0]) {
                candidates[0] = candidate
                var parent = 0
                while true {
                    let left = 2 * parent + 1
                    guard left < k else { break }
                    var worse = left
                    if left + 1 < k && Self.precedes(candidates[left], candidates[left + 1]) { worse = left + 1 }
                    guard Self.precedes(candidates[parent], candidates[worse]) else { break }
                    candidates.swapAt(parent, worse)
                    parent = worse
                }
            }
        }
        candidates.sort(by: Self.precedes)
    }

    /// Samples as ``sample(_:settings:random:)`` would from the whole row, given only the row's
    /// largest logits as a device's top-k returns them (`ids`/`values`, largest first, equal
    /// values by lower id). Exact when the row is greedy or `settings.topK` is in `1...ids.count`:
    /// top-p and min-p then only ever look inside the top-k.
    public mutating func sample(
        topCandidates ids: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>, settings: SamplerSettings,
        random: inout SeededRandom
    ) -> Int32 {
        precondition(!ids.isEmpty && ids.count == values.count, "no candidates")
        if settings.isGreedy { return ids[0] }
        precondition(settings.topK >= 1 && settings.topK <= ids.count, "top-k candidates do not cover the request's top_k")
        candidates.removeAll(keepingCapacity: true)
        for j in 0..<settings.topK where values[j] > -Float.infinity {
            candidates.append((ids[j], values[j]))
        }
        guard !candidates.isEmpty else { return ids[0] }
        return pick(settings: settings, random: &random)
    }

    /// Draws from ``candidates`` (raw logits, largest first): top-k, temperature, softmax, top-p,
    /// min-p, then one uniform draw. `total` is the softmax denominator of the whole row where the
    /// candidates are only its top (without top-k); nil: the candidates' own.
    private mutating func pick(settings: SamplerSettings, random: inout SeededRandom, total rowTotal: Float? = nil) -> Int32 {
        if settings.topK > 0 && settings.topK < candidates.count {
            candidates.removeSubrange(settings.topK...)
        }
        // Softmax over what is left, in descending order.
        let inverseTemperature = 1 / settings.temperature
        let maximum = candidates[0].value * inverseTemperature
        var total: Float = 0
        for i in candidates.indices {
            candidates[i].value = expf(candidates[i].value * inverseTemperature - maximum)
            total += candidates[i].value
        }
        total = rowTotal ?? total
        var keep = candidates.count
        if settings.topP < 1 {
            var cumulative: Float = 0
            for i in candidates.indices {
                cumulative += candidates[i].value / total
                if cumulative >= settings.topP {
                    keep = i + 1
                    break
                }
            }
        }
        if settings.minP > 0 {
            let threshold = settings.minP * candidates[0].value
            keep = min(keep, candidates.prefix(keep).firstIndex { $0.value < threshold } ?? keep)
        }
        keep = max(1, keep)
        let kept = candidates.prefix(keep).reduce(Float(0)) { $0 + $1.value }
        var target = random.nextUnitFloat() * kept
        for candidate in candidates.prefix(keep) {
            target -= candidate.value
            if target < 0 { return candidate.id }
        }
        return candidates[keep - 1].id
    }
}

#if canImport(Glibc)
import Glibc
import ServingTypes
#endif
