import BackendCatalog
import Backends
import Engine
import Models
import Scheduling
import ServingTypes
import Testing
import TestSupport

/// Sampling through a device's argmax and top-k hooks gives exactly the tokens of host sampling
/// over the full logits, and reads back only ids (argmax) or K candidates (top-k) where every row
/// of a step allows it; rows that need the whole distribution make the step download it.
@Suite struct DeviceSamplingTests {
    /// Requests on `device` (which claims both hooks), with or without device sampling.
    func run(_ params: [SamplingParams], device: String, deviceSampling: Bool) throws -> (tokens: [[Int32]], bytesPerStep: Double) {
        let backend = try BackendCatalog.device(named: device).makeBackend(threads: 1)
        #expect(backend.device.capabilities.hooks.isSuperset(of: [.deviceArgmax, .deviceTopK]))
        let model = try LlamaModel(directory: Fixtures.model("llama-gqa"), backend: backend, maxStepTokens: 64)
        let config = EngineConfig(
            pageSize: 4, kvMemory: .pages(256), maxBatchedTokens: 64, isCheckingIntegrity: true,
            usesDeviceSampling: deviceSampling)
        let collector = EventCollector()
        let engine = try EngineLoop(model: model, config: config, sink: collector.receive)
        defer { engine.shutdown() }
        let requests = params.enumerated().map { index, params in
            EngineRequest(id: RequestID(UInt64(index + 1)), promptTokenIDs: [1, 5, 9, Int32(20 + index), 7], params: params)
        }
        let outputs = try EngineHarness.run(requests, on: engine, collector: collector)
        let stats = engine.load.stats
        return (outputs.map(\.tokenIDs), Double(stats.logitsBytes) / Double(max(1, stats.stepCount)))
    }

    static let greedy = SamplingParams(maxTokens: 12, temperature: 0, ignoreEOS: true)
    static let topK = SamplingParams(maxTokens: 12, temperature: 0.9, topK: 5, seed: 7, ignoreEOS: true)
    static let nucleus = SamplingParams(maxTokens: 12, temperature: 1.3, topK: 40, topP: 0.8, minP: 0.02, seed: 11, ignoreEOS: true)
    static let wholeVocabulary = SamplingParams(maxTokens: 12, temperature: 0.8, seed: 3, ignoreEOS: true)
    static let penalised = SamplingParams(maxTokens: 12, temperature: 0, repetitionPenalty: 1.5, ignoreEOS: true)
    static let withLogprobs = SamplingParams(maxTokens: 12, temperature: 0, ignoreEOS: true, logprobs: 3)

    /// Each request set, and the bytes per step it may read back on the device path (nil: the
    /// whole logits rows).
    static let cases: [(name: String, params: [SamplingParams], bytesPerRow: Int?)] = [
        ("greedy: argmax", [greedy, greedy], 4),
        ("top_k 5", [topK], 5 * 8),
        ("top_k 40, top_p, min_p, with a greedy row", [nucleus, greedy], 40 * 8),
        ("no top_k: whole rows", [wholeVocabulary], nil),
        ("repetition penalty: whole rows", [penalised], nil),
        ("logprobs: whole rows", [withLogprobs], nil),
        ("mixed: one row needs the whole distribution", [greedy, topK, wholeVocabulary], nil),
    ]

    /// The Swift reference backend and the reference C plugin (whose logits never leave its memory
    /// but through its hooks or a download).
    static let devices = ["reference", Fixtures.referencePluginBackend]

    @Test(arguments: devices, 0..<cases.count)
    func deviceSamplingMatchesHostSampling(device name: String, index: Int) throws {
        let testCase = Self.cases[index]
        let host = try run(testCase.params, device: name, deviceSampling: false)
        let device = try run(testCase.params, device: name, deviceSampling: true)
        #expect(device.tokens == host.tokens, "\(testCase.name)")
        #expect(host.tokens.allSatisfy { $0.count == 12 })
        let vocabulary = try ModelConfig.load(directory: Fixtures.model("llama-gqa")).vocabularySize
        // Every step samples between 1 and `params.count` rows (prefill chunks sample one each).
        let rows = Double(testCase.params.count)
        #expect(host.bytesPerStep >= Double(vocabulary * 4) && host.bytesPerStep <= rows * Double(vocabulary * 4))
        if let bytesPerRow = testCase.bytesPerRow {
            #expect(device.bytesPerStep >= Double(bytesPerRow) && device.bytesPerStep <= rows * Double(bytesPerRow), "\(testCase.name)")
        } else if testCase.params.count == 1 {
            #expect(device.bytesPerStep == host.bytesPerStep, "\(testCase.name)")
        } else {
            // Steps holding the row that needs the distribution download whole rows; steps without
            // it (prefill chunks of the other requests, which depend on arrival timing) may not.
            #expect(device.bytesPerStep <= rows * Double(vocabulary * 4), "\(testCase.name)")
        }
    }

    /// The candidate path is the full path restricted to the top k: equal logits keep the lower id
    /// first in both, and top-p/min-p see the same renormalised candidates.
    /// The row sampler selects its top-k with a heap instead of sorting the row: the draws must be
    /// those of the k first candidates in sorted order, with many ties, -inf, NaN and +inf in the
    /// row, and k beyond the number of finite logits.
    @Test func topKSelectionDrawsAsTheSortedCandidates() {
        var generator = SeededRandom(seed: 5)
        for trial in 0..<40 {
            var row = (0..<2000).map { _ in Float(generator.next() % 40) / 8 - 2 }  // 40 distinct values: ties everywhere
            for _ in 0..<50 { row[Int(generator.next() % 2000)] = -.infinity }
            row[Int(generator.next() % 2000)] = .nan
            if trial % 5 == 0 { row[Int(generator.next() % 2000)] = .infinity }
            if trial % 7 == 0 { for i in 10..<2000 { row[i] = -.infinity } }  // fewer finite logits than k
            let order = row.indices.filter { row[$0] > -.infinity }
                .sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
            let k = [1, 2, 7, 40, 64, 500][trial % 6]
            let settings = SamplerSettings(temperature: 0.9, topK: k, topP: trial % 2 == 0 ? 1 : 0.8)
            var candidateSettings = settings
            candidateSettings.topK = min(k, order.count)
            let differing = Self.seedsDrawingDifferently(
                row: row, ids: order.prefix(k).map(Int32.init), settings: settings, candidateSettings: candidateSettings, seeds: 0..<10)
            #expect(differing.isEmpty, "trial \(trial) k \(k) seeds \(differing)")
        }
    }

    /// The seeds for which sampling `row` with `settings` draws another token than sampling its
    /// candidates `ids` (with their values, in order) with `candidateSettings`.
    static func seedsDrawingDifferently(
        row: [Float], ids: [Int32], settings: SamplerSettings, candidateSettings: SamplerSettings, seeds: Range<UInt64>
    ) -> [UInt64] {
        let values = ids.map { row[Int($0)] }
        var sampler = Sampler()
        return seeds.filter { seed in
            var full = SeededRandom(seed: seed)
            var candidates = SeededRandom(seed: seed)
            let expected = row.withUnsafeBufferPointer { sampler.sample($0, settings: settings, random: &full) }
            let got = ids.withUnsafeBufferPointer { ids in
                values.withUnsafeBufferPointer {
                    sampler.sample(topCandidates: ids, values: $0, settings: candidateSettings, random: &candidates)
                }
            }
            return got != expected
        }
    }

    @Test func samplerOverCandidatesEqualsSamplerOverTheRow() {
        var generator = SeededRandom(seed: 99)
        var row = (0..<300).map { _ in Float(generator.next() % 1000) / 100 - 5 }
        row[17] = row[250]  // a tie
        let order = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
        for settings in [
            SamplerSettings(temperature: 0.7, topK: 10), SamplerSettings(temperature: 1.5, topK: 64, topP: 0.6),
            SamplerSettings(temperature: 1, topK: 3, minP: 0.3), SamplerSettings(temperature: 0, topK: 8),
        ] {
            let ids = order.prefix(max(settings.topK, 1)).map(Int32.init)
            let differing = Self.seedsDrawingDifferently(
                row: row, ids: ids, settings: settings, candidateSettings: settings, seeds: 0..<20)
            #expect(differing.isEmpty, "\(settings) seeds \(differing)")
        }
    }
}
