import Backends

extension LlamaModel {
    /// The logits of the positions `logitRows` of `tokens` after one prefill of all of them into a
    /// fresh single-shard cache (pages of 16 tokens), one vocabulary-sized array per row: for
    /// checking a model's predictions outside the engine (certification, quantization accuracy).
    public func prefillLogits(_ tokens: [Int32], logitRows: [Int32]) throws -> [[Float]] {
        let pageSize = 16
        let pages = (tokens.count + pageSize - 1) / pageSize
        var batch = StepInputs()
        batch.append(tokens: tokens, startPosition: 0, pages: (0..<Int32(pages)).map { $0 }, pageSize: pageSize, needsLogits: false)
        batch.logitRows = logitRows
        let cache = try backend.makeKVCache(KVCacheSpec(config: config, shard: .single, pageSize: pageSize, pageCount: pages))
        let logits = backend.read(try forward(batch, cache: cache))
        let vocabulary = logits.count / logitRows.count
        return (0..<logitRows.count).map { Array(logits[($0 * vocabulary)..<(($0 + 1) * vocabulary)]) }
    }
}
