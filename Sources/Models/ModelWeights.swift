import Backends

/// The weights of one decoder layer, on the backend, for one tensor-parallel shard.
/// q|k|v and gate|up are fused along their output rows so each is a single matmul.
public struct LayerWeights {
    public var inputNorm: Tensor
    public var qkv: Tensor
    public var qkvBias: Tensor?
    public var queryNorm: Tensor?
    public var keyNorm: Tensor?
    public var output: Tensor
    public var postAttentionNorm: Tensor
    public var gateUp: Tensor
    public var down: Tensor
}

/// All weights of a model shard. Matmul weights are laid out by the backend
/// (``ComputeBackend/prepareMatmulWeight(_:)``); the embedding table borrows the memory-mapped
/// checkpoint when the device shares host memory; norms and biases are widened to f32.
public struct ModelWeights {
    public var embedding: Tensor
    public var layers: [LayerWeights]
    public var finalNorm: Tensor
    public var lmHead: Tensor

    /// Loads and shape-checks every tensor of `config` from `checkpoint` for `shard`. With
    /// `isVocabParallel`, `lmHead` holds only the rows of ``TensorParallelShard/localVocabulary(_:)``.
    public init(
        config: ModelConfig, checkpoint: Checkpoint, shard: TensorParallelShard, backend: any ComputeBackend,
        isVocabParallel: Bool = false
    ) throws {
        try shard.validate(config)
        let loader = WeightLoader(checkpoint: checkpoint, backend: backend)
        let (h, d) = (config.hiddenSize, config.headDim)
        let heads = shard.localHeads(config)
        let kvHeads = shard.localKVHeads(config)
        let mlp = shard.localIntermediate(config)
        let embedding = try loader.matrix("model.embed_tokens.weight", shape: [config.vocabularySize, h])
        self.embedding = embedding
        var layers: [LayerWeights] = []
        for i in 0..<config.layerCount {
            let p = "model.layers.\(i)."
            let attention = p + "self_attn."
            let headRows = (heads.lowerBound * d)..<(heads.upperBound * d)
            let kvRows = (kvHeads.lowerBound * d)..<(kvHeads.upperBound * d)
            let q = try loader.rows(attention + "q_proj.weight", shape: [config.headCount * d, h], headRows)
            let k = try loader.rows(attention + "k_proj.weight", shape: [config.kvHeadCount * d, h], kvRows)
            let v = try loader.rows(attention + "v_proj.weight", shape: [config.kvHeadCount * d, h], kvRows)
            var qkvBias: Tensor?
            if config.hasQKVBias {
                qkvBias = try loader.vector(concatenating: [
                    (attention + "q_proj.bias", config.headCount * d, headRows),
                    (attention + "k_proj.bias", config.kvHeadCount * d, kvRows),
                    (attention + "v_proj.bias", config.kvHeadCount * d, kvRows),
                ])
            }
            let gate = try loader.rows(p + "mlp.gate_proj.weight", shape: [config.intermediateSize, h], mlp)
            let up = try loader.rows(p + "mlp.up_proj.weight", shape: [config.intermediateSize, h], mlp)
            layers.append(LayerWeights(
                inputNorm: try loader.vector(p + "input_layernorm.weight", count: h),
                qkv: try backend.prepareMatmulWeight(loader.concatenate([q, k, v], columns: h)),
                qkvBias: qkvBias,
                queryNorm: config.architecture.hasQKNorm ? try loader.vector(attention + "q_norm.weight", count: d) : nil,
                keyNorm: config.architecture.hasQKNorm ? try loader.vector(attention + "k_norm.weight", count: d) : nil,
                output: try backend.prepareMatmulWeight(
                    loader.columns(attention + "o_proj.weight", shape: [h, config.headCount * d], headRows)),
                postAttentionNorm: try loader.vector(p + "post_attention_layernorm.weight", count: h),
                gateUp: try backend.prepareMatmulWeight(loader.concatenate([gate, up], columns: h)),
                down: try backend.prepareMatmulWeight(
                    loader.columns(p + "mlp.down_proj.weight", shape: [h, config.intermediateSize], mlp))))
            // This layer's weights are packed or copied: drop the mapped pages read for them, so
            // the peak holds the laid-out weights plus one layer of the mapping, not all of both
            // (what is still read in place faults its pages back in from the page cache).
            checkpoint.releaseResidentPages()
        }
        self.layers = layers
        finalNorm = try loader.vector("model.norm.weight", count: h)
        let isTied = config.tieWordEmbeddings && !checkpoint.contains("lm_head.weight")
        if isVocabParallel {
            let name = isTied ? "model.embed_tokens.weight" : "lm_head.weight"
            let slice = try loader.rows(name, shape: [config.vocabularySize, h], shard.localVocabulary(config))
            let buffer = try backend.makeWeightBuffer(copying: slice.bytes, owner: slice.file)
            lmHead = try backend.prepareMatmulWeight(
                Tensor(buffer: buffer, dtype: slice.dtype, rows: slice.shape[0], columns: h))
        } else if isTied {
            lmHead = try backend.prepareMatmulWeight(embedding)
        } else {
            lmHead = try backend.prepareMatmulWeight(loader.matrix("lm_head.weight", shape: [config.vocabularySize, h]))
        }
    }
}
