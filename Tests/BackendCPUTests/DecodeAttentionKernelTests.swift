@testable import BackendCPU
import Backends
import Testing

/// Decode attention's value sums through the AVX-512 C kernels and the AVX2 Swift loops give the
/// same bits, for head pairs, a head left over from an odd group and single heads, over scattered
/// pages and contexts that end mid-page, with f32 and bf16 caches.
@Suite(.enabled(if: CPUKernelSet.avx512Supported, "the CPU has no AVX-512"))
struct DecodeAttentionKernelTests {
    @Test(arguments: [(8, 4, 16), (6, 2, 5), (2, 2, 16)], [DType.f32, .bf16])
    func bothKernelSetsGiveTheSameBits(shape: (Int, Int, Int), kvDType: DType) throws {
        let (heads, kvHeads, pageSize) = shape
        let d = 64
        let contexts = [100, 7, 1, 33, 48]
        var generator = SystemRandomNumberGenerator()
        let pagesNeeded = contexts.map { ($0 + pageSize - 1) / pageSize }
        let pageCount = pagesNeeded.reduce(0, +) + 2
        var free = Array(Int32(0)..<Int32(pageCount)).shuffled(using: &generator)
        var batch = AttentionBatch()
        var slots: [Int32] = []
        for (context, count) in zip(contexts, pagesNeeded) {
            let table = Array(free.prefix(count))
            free.removeFirst(count)
            for position in 0..<context {
                slots.append(table[position / pageSize] * Int32(pageSize) + Int32(position % pageSize))
            }
            batch.append(queryCount: 1, contextLength: context, pages: table)
        }
        let kvWidth = kvHeads * d
        let keys = (0..<slots.count * kvWidth).map { _ in Float.random(in: -1...1, using: &generator) }
        let values = (0..<slots.count * kvWidth).map { _ in Float.random(in: -1...1, using: &generator) }
        let query = (0..<contexts.count * heads * d).map { _ in Float.random(in: -2...2, using: &generator) }
        var outputs: [[Float]] = []
        for kernels in [CPUKernelSet.avx2, .avx512] {
            let backend = CPUBackend(threadCount: 2)
            backend.kernels = kernels
            let cache = try backend.makeKVCache(KVCacheSpec(
                layerCount: 1, kvHeadCount: kvHeads, headDim: d, pageSize: pageSize, pageCount: pageCount, dtype: kvDType))
            try backend.beginStep(StepInputs(slotMapping: slots, attention: batch))
            backend.storeKV(
                key: try backend.makeTensor(keys, rows: slots.count, columns: kvWidth),
                value: try backend.makeTensor(values, rows: slots.count, columns: kvWidth), cache: cache, layer: 0)
            let out = try backend.makeTensor(rows: contexts.count, columns: heads * d)
            backend.attention(
                query: try backend.makeTensor(query, rows: contexts.count, columns: heads * d), cache: cache, layer: 0,
                scale: 0.125, out: out)
            backend.synchronize()
            outputs.append(backend.read(out))
        }
        let differing = zip(outputs[0], outputs[1]).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(differing) of \(outputs[0].count) outputs differ")
    }
}
