// Vocabulary-parallel split of lm_head rows.

extension TensorParallelShard {
    /// Rows of each rank's lm_head slice before clamping: `⌈vocab / size⌉`. Every rank pads its
    /// logits to this width so an all-gather moves equal chunks.
    public func vocabularySliceWidth(_ config: ModelConfig) -> Int {
        (config.vocabularySize + size - 1) / size
    }

    /// Vocabulary ids whose lm_head rows this rank holds:
    /// ```
    /// rank:    0            1            …   size-1
    /// ids:   [0, w)       [w, 2w)            [(size-1)·w, vocab)   w = ⌈vocab / size⌉
    /// ```
    /// The last slice is shorter when `vocab` is not divisible by `size` (possibly empty).
    public func localVocabulary(_ config: ModelConfig) -> Range<Int> {
        let width = vocabularySliceWidth(config)
        let lower = min(rank * width, config.vocabularySize)
        return lower..<min(lower + width, config.vocabularySize)
    }
}
