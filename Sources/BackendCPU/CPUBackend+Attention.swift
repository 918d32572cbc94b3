import Backends

/// Everything attention's pool threads read, passed by pointer.
struct AttentionWork {
    var operands: AttentionOperands
    var items: UnsafePointer<AttentionItem>
    var geometry: UnsafePointer<SequenceGeometry>
    var members: UnsafePointer<Int32>?
    var scratch: [ScratchArena]
    /// Every item row by row (``CPUBackend/isBatchInvariant``), never through GEMM blocks.
    var rowsOnly: Bool
}

extension CPUBackend {
    /// Query rows per GEMM block in prefill; the block is `rows × heads-per-KV-head` tall.
    static let attentionBlockRows = 128
    /// Below this many query rows × heads per KV head a sequence is attended row by row.
    static let attentionGEMMMinRows = 16

    public func attention(
        query: Tensor, cache: any KVCacheStorage, layer: Int, scale: Float, out: Tensor
    ) {
        let batch = step.attention
        let cache = ownCache(cache)
        let spec = cache.spec
        let headCount = query.columns / spec.headDim
        precondition(query.columns == headCount * spec.headDim && headCount % spec.kvHeadCount == 0, "attention heads")
        precondition(out.rows == query.rows && out.columns == query.columns && query.rows == batch.tokenCount, "attention shape")
        precondition(layer >= 0 && layer < spec.layerCount, "attention layer \(layer) outside \(spec.layerCount)")
        let layerBytes = layer * cache.layerElements * spec.dtype.byteSize
        let op = AttentionOperands(
            query: query.floats, queryStride: query.rowStride, out: out.floats, outStride: out.rowStride,
            keys: UnsafeRawPointer(cache.keys + layerBytes), values: UnsafeRawPointer(cache.values + layerBytes),
            kvDType: spec.dtype, pageSize: spec.pageSize, kvHeadCount: spec.kvHeadCount, headDim: spec.headDim,
            headCount: headCount, scale: scale, usesAVX512ValueSums: kernels == .avx512)
        batch.pageIDs.withUnsafeBufferPointer { pageIDs in
            planAttention(op, batch: batch, pageIDs: pageIDs.baseAddress!)
            attentionItems.withUnsafeBufferPointer { items in
                sequenceGeometry.withUnsafeBufferPointer { geometry in
                    sharedPrefixMembers.withUnsafeBufferPointer { members in
                        let work = AttentionWork(
                            operands: op, items: items.baseAddress!, geometry: geometry.baseAddress!,
                            members: members.baseAddress, scratch: scratch, rowsOnly: isBatchInvariant)
                        withUnsafePointer(to: work) { pointer in
                            pool.run(parts: items.count, context: pointer) { raw, index, _, thread in
                                let work = raw.assumingMemoryBound(to: AttentionWork.self)
                                // One dtype dispatch per work item; the kernels are specialized per dtype.
                                if work.pointee.operands.kvDType == .bf16 {
                                    attend(BF16KV.self, work, item: index, thread: thread)
                                } else {
                                    attend(F32KV.self, work, item: index, thread: thread)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Splits the step into work items: first shared-prefix items for decode rows whose sequences
    /// share leading pages (``planSharedPrefixes(_:)``); then, per other sequence and KV head, blocks
    /// of query rows for long chunks (GEMM path), or one item per KV head (all its query heads) for
    /// short ones (vector path).
    private func planAttention(_ op: AttentionOperands, batch: AttentionBatch, pageIDs: UnsafePointer<Int32>) {
        attentionItems.removeAll(keepingCapacity: true)
        sequenceGeometry.removeAll(keepingCapacity: true)
        let group = op.group
        for s in 0..<batch.sequenceCount {
            let rowStart = Int(batch.queryStarts[s])
            let queryCount = Int(batch.queryStarts[s + 1]) - rowStart
            let context = Int(batch.contextLengths[s])
            precondition(Int(batch.pageTableStarts[s + 1] - batch.pageTableStarts[s]) * op.pageSize >= context,
                "page table of sequence \(s) too short for \(context) tokens")
            sequenceGeometry.append(SequenceGeometry(
                sequenceRowStart: rowStart, queryCount: queryCount, contextLength: context,
                pages: pageIDs + Int(batch.pageTableStarts[s])))
        }
        planSharedPrefixes(op)
        for s in 0..<batch.sequenceCount {
            let rowStart = Int(batch.queryStarts[s])
            let queryCount = Int(batch.queryStarts[s + 1]) - rowStart
            guard queryCount > 0 && !inSharedPrefixItem[s] else { continue }
            if queryCount * group >= Self.attentionGEMMMinRows && !isBatchInvariant {
                let blockRows = max(1, Self.attentionBlockRows / group)
                for kvHead in 0..<op.kvHeadCount {
                    var start = 0
                    while start < queryCount {
                        let count = min(blockRows, queryCount - start)
                        attentionItems.append(AttentionItem(
                            sequence: Int32(s), kvHead: Int32(kvHead), headStart: Int32(kvHead * group),
                            headCount: Int32(group), rowStart: Int32(rowStart + start), rowCount: Int32(count)))
                        start += count
                    }
                }
            } else {
                // One item per KV head: its query heads read the same keys and values.
                for kvHead in 0..<op.kvHeadCount {
                    attentionItems.append(AttentionItem(
                        sequence: Int32(s), kvHead: Int32(kvHead), headStart: Int32(kvHead * group), headCount: Int32(group),
                        rowStart: Int32(rowStart), rowCount: Int32(queryCount)))
                }
            }
        }
        // Longest items first so the dynamic schedule ends balanced (only prefill has long items;
        // decode items are all one row and need no sort).
        if attentionItems.contains(where: { $0.rowCount > 1 }) {
            attentionItems.sort { $0.rowCount > $1.rowCount }
        }
    }
}

/// Runs work item `index` of `work` on pool thread `thread`: a shared-prefix item, a block of query
/// rows through GEMM, or rows one by one.
@inline(__always)
private func attend<E: KVElement>(_: E.Type, _ work: UnsafePointer<AttentionWork>, item index: Int, thread: Int) {
    let work = work.pointee
    let item = work.items[index]
    let sequence = work.geometry[Int(item.sequence)]
    let scratch = work.scratch[thread]
    if item.memberCount > 0 {
        attendSharedPrefix(E.self, work.operands, item, members: work.members!, geometry: work.geometry, scratch: scratch)
    } else if !work.rowsOnly && Int(item.rowCount) * Int(item.headCount) >= CPUBackend.attentionGEMMMinRows {
        attendBlock(E.self, work.operands, item, sequence, scratch: scratch)
    } else {
        attendRows(
            E.self, work.operands, item, sequence,
            scores: scratch.scores(rowScratchCount(work.operands, contextLength: sequence.contextLength)))
    }
}
