import BackendCatalog
import Backends
import Foundation
import ServingTypes
import Synchronization
import Testing
import TestSupport

/// The device communicator and step capture of every device that claims them: collectives give
/// the same sum (to f32 rounding of the rank-order sum) and the stacked slices on every rank; a replayed step computes exactly what
/// the same ops run eagerly compute, with each replay reading its own step inputs.
@Suite struct DeviceHookConformanceTests {
    static func claiming(_ hook: OptionalHooks) -> [String] {
        BackendConformanceTests.devices.filter { (try! BackendCatalog.device(named: $0)).capabilities.hooks.contains(hook) }
    }

    /// Runs `body(rank)` for every rank on its own thread, each with its own backend and its end
    /// of one communicator, and returns what each returned.
    func withGroup(device name: String, size: Int, _ body: @escaping @Sendable (any ComputeBackend, any DeviceCommunicator) throws -> [Float])
        throws -> [[Float]]
    {
        let device = try BackendCatalog.device(named: name)
        let id = try device.makeBackend(threads: 1).makeCommunicatorID()
        let results = Mutex<[Int: Result<[Float], any Error>]>([:])
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            Thread {
                let result = Result { () throws -> [Float] in
                    let backend = try device.makeBackend(threads: 1)
                    let communicator = try backend.makeCommunicator(id: id, rank: rank, worldSize: size)
                    #expect(communicator.rank == rank && communicator.worldSize == size)
                    return try body(backend, communicator)
                }
                results.withLock { $0[rank] = result }
                done.leave()
            }.start()
        }
        #expect(done.wait(timeout: .now() + 120) == .success, "the group did not finish")
        return try results.withLock { results in try (0..<size).map { try results[$0]!.get() } }
    }

    @Test(arguments: claiming(.deviceCommunicator), [2, 3])
    func allReduceGivesTheSameSumOnEveryRank(device name: String, size: Int) throws {
        // 300_000 floats: more than one transfer chunk of a device that moves data in pieces.
        let count = 300_000
        let inputs: [[Float]] = (0..<size).map { rank in
            (0..<count).map { (i: Int) -> Float in Float((i * 7 + rank * 13) % 1001) / 97 - 5 }
        }
        let outputs = try withGroup(device: name, size: size) { backend, communicator in
            let tensor = try backend.makeTensor(inputs[communicator.rank], rows: 300, columns: 1000)
            try communicator.allReduceSum(tensor)
            return backend.read(tensor)
        }
        var expected = inputs[0]
        for rank in 1..<size { for i in 0..<count { expected[i] += inputs[rank][i] } }
        // Any summation order (a ring, a tree) is allowed; every rank must hold the same bits.
        for (rank, output) in outputs.enumerated() {
            #expect(output.map(\.bitPattern) == outputs[0].map(\.bitPattern), "rank \(rank) of \(size) differs from rank 0")
        }
        let error = zip(outputs[0], expected).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        #expect(error <= 1e-6 * Float(size), "rank 0 is \(error) from the rank-order sum")
    }

    @Test(arguments: claiming(.deviceCommunicator))
    func allGatherStacksSlicesInRankOrder(device name: String) throws {
        let outputs = try withGroup(device: name, size: 3) { backend, communicator in
            let slice = (0..<8).map { Float(communicator.rank * 100 + $0) }
            let out = try backend.makeTensor(rows: 6, columns: 4)
            try communicator.allGather(try backend.makeTensor(slice, rows: 2, columns: 4), into: out)
            return backend.read(out)
        }
        let expected: [Float] = (0..<3).flatMap { (rank: Int) -> [Float] in (0..<8).map { Float(rank * 100 + $0) } }
        #expect(outputs.allSatisfy { $0 == expected })
    }

    /// One decode-shaped step of embedding, matmul, KV store, attention and row gather.
    func step(_ backend: any ComputeBackend, cache: any KVCacheStorage, tensors: [Tensor], inputs: StepInputs) {
        let (table, weight, hidden, projected, out) = (tensors[0], tensors[1], tensors[2], tensors[3], tensors[4])
        backend.embedding(table: table, out: hidden)
        backend.matmul(hidden, weight: weight, bias: nil, out: projected)
        backend.storeKV(key: projected.columns(0, count: 8), value: projected.columns(8, count: 8), cache: cache, layer: 0)
        backend.attention(query: projected.columns(16, count: 16), cache: cache, layer: 0, scale: 0.35, out: hidden.columns(0, count: 16))
        backend.gatherRows(hidden, out: out)
    }

    @Test(arguments: claiming(.stepCapture))
    func replayedStepsEqualEagerSteps(device name: String) throws {
        var random = SeededRandom(seed: 5)
        let table = (0..<50 * 32).map { _ in Float(random.next() % 200) / 100 - 1 }
        let weight = (0..<32 * 32).map { _ in Float(random.next() % 200) / 400 - 0.25 }
        // Two sequences, one new token each, over pages of 4 slots; three successive steps.
        func inputs(_ position: Int32) -> StepInputs {
            var attention = AttentionBatch()
            attention.append(queryCount: 1, contextLength: Int(position) + 1, pages: [0, 1, 2])
            attention.append(queryCount: 1, contextLength: Int(position) + 1, pages: [3, 4, 5])
            return StepInputs(
                tokenIDs: [Int32(7 + position), Int32(40 - position)], positions: [position, position],
                slotMapping: [position, 12 + position], attention: attention, logitRows: [1, 0])
        }
        var results: [[Float]] = []
        for captured in [false, true] {
            let backend = try BackendCatalog.device(named: name).makeBackend(threads: 1)
            let cache = try backend.makeKVCache(KVCacheSpec(layerCount: 1, kvHeadCount: 2, headDim: 4, pageSize: 4, pageCount: 6))
            let tensors = [
                try backend.makeWeightTensor(table, rows: 50, columns: 32, dtype: .f32),
                try backend.prepareMatmulWeight(try backend.makeWeightTensor(weight, rows: 32, columns: 32, dtype: .f32)),
                try backend.makeTensor(rows: 2, columns: 32), try backend.makeTensor(rows: 2, columns: 32),
                try backend.makeTensor(rows: 2, columns: 32),
            ]
            var outputs: [Float] = []
            var recorded: (any CapturedStep)?
            for position in 0..<Int32(3) {
                try backend.beginStep(inputs(position))
                if captured {
                    if recorded == nil {
                        try backend.beginCapture()
                        step(backend, cache: cache, tensors: tensors, inputs: inputs(position))
                        recorded = try backend.endCapture()
                    }
                    try backend.replay(recorded!)
                } else {
                    step(backend, cache: cache, tensors: tensors, inputs: inputs(position))
                }
                try backend.endStep()
                outputs += backend.read(tensors[4])
            }
            results.append(outputs)
        }
        #expect(results[0] == results[1])
        #expect(Set(results[0]).count > 10, "the steps computed something")
    }

    @Test(arguments: claiming(.fusedNormMatmul), [DType.f32, .bf16, .f16])
    func fusedNormMatmulEqualsNormThenMatmul(device name: String, weightDType: DType) throws {
        let backend = try BackendCatalog.device(named: name).makeBackend(threads: 1)
        var random = SeededRandom(seed: 17)
        func values(_ count: Int, scale: Float = 1) -> [Float] { (0..<count).map { _ in (Float(random.next() % 2000) / 1000 - 1) * scale } }
        for (rows, columns, outputs, group, useBias) in [(1, 64, 96, 64, false), (5, 48, 33, 16, true), (17, 130, 7, 130, false)] {
            let x = try backend.makeTensor(values(rows * columns, scale: 3), rows: rows, columns: columns)
            let norm = try backend.makeWeightTensor(values(group), rows: 1, columns: group, dtype: weightDType)
            let weight = try backend.prepareMatmulWeight(
                try backend.makeWeightTensor(values(outputs * columns), rows: outputs, columns: columns, dtype: weightDType))
            let bias = useBias ? try backend.makeTensor(values(outputs), rows: 1, columns: outputs) : nil
            let normed = try backend.makeTensor(rows: rows, columns: columns)
            let separate = try backend.makeTensor(rows: rows, columns: outputs)
            let fused = try backend.makeTensor(rows: rows, columns: outputs)
            backend.rmsNorm(x, weight: norm, epsilon: 1e-5, out: normed)
            backend.matmul(normed, weight: weight, bias: bias, out: separate)
            backend.rmsNormMatmul(x, normWeight: norm, epsilon: 1e-5, weight: weight, bias: bias, out: fused)
            let (want, got) = (backend.read(separate), backend.read(fused))
            let error = zip(got, want).map { abs($0 - $1) / max(1, abs($1)) }.max()!
            #expect(error <= BackendConformanceTests.tolerance, "\(name) \(rows)×\(columns)→\(outputs) \(weightDType): \(error)")
        }
    }
}
