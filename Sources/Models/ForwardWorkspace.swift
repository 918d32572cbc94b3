import Backends

/// Activation buffers for steps of up to `maxTokens` tokens and `maxLogitRows` logit rows,
/// allocated once and reused (ggml's single work buffer idea). Each step uses the leading rows.
struct ForwardWorkspace {
    let maxTokens: Int
    let maxLogitRows: Int
    let hidden: Tensor
    let normed: Tensor
    let qkv: Tensor
    let attention: Tensor
    let projected: Tensor
    let gateUp: Tensor
    let activated: Tensor
    let ropeTable: Tensor
    let lastHidden: Tensor
    let logits: Tensor

    init(config: ModelConfig, shard: TensorParallelShard, maxTokens: Int, maxLogitRows: Int, backend: any ComputeBackend,
        logitColumns: Int? = nil
    ) throws {
        let headWidth = shard.localHeads(config).count * config.headDim
        let kvWidth = shard.localKVHeads(config).count * config.headDim
        let mlp = shard.localIntermediate(config).count
        self.maxTokens = maxTokens
        self.maxLogitRows = maxLogitRows
        hidden = try backend.makeTensor(rows: maxTokens, columns: config.hiddenSize)
        normed = try backend.makeTensor(rows: maxTokens, columns: config.hiddenSize)
        qkv = try backend.makeTensor(rows: maxTokens, columns: headWidth + 2 * kvWidth)
        attention = try backend.makeTensor(rows: maxTokens, columns: headWidth)
        projected = try backend.makeTensor(rows: maxTokens, columns: config.hiddenSize)
        gateUp = try backend.makeTensor(rows: maxTokens, columns: 2 * mlp)
        activated = try backend.makeTensor(rows: maxTokens, columns: mlp)
        ropeTable = try backend.makeTensor(rows: maxTokens, columns: config.headDim)
        lastHidden = try backend.makeTensor(rows: maxLogitRows, columns: config.hiddenSize)
        logits = try backend.makeTensor(rows: maxLogitRows, columns: logitColumns ?? config.vocabularySize)
    }
}
