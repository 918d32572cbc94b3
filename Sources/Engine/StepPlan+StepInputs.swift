// Conversions between the engine's StepInputs and the wire's StepPlan (arrays are shared, not copied).

import Backends
import Models
import WireProtocol

extension StepPlan {
    /// The plan of `batch` over `cache`. Copy-on-write arrays: nothing is copied.
    init(sequence: UInt64, batch: StepInputs, cache: any KVCacheStorage) {
        self.init(
            sequence: sequence, pageCount: cache.spec.pageCount, pageSize: cache.spec.pageSize, tokenIDs: batch.tokenIDs,
            positions: batch.positions, slotMapping: batch.slotMapping, queryStarts: batch.attention.queryStarts,
            contextLengths: batch.attention.contextLengths, pageTableStarts: batch.attention.pageTableStarts,
            pageIDs: batch.attention.pageIDs, logitRows: batch.logitRows)
    }

    /// The forward batch this plan describes.
    var stepInputs: StepInputs {
        var batch = StepInputs()
        batch.tokenIDs = tokenIDs
        batch.positions = positions
        batch.slotMapping = slotMapping
        batch.attention = AttentionBatch(
            queryStarts: queryStarts, contextLengths: contextLengths, pageTableStarts: pageTableStarts, pageIDs: pageIDs)
        batch.logitRows = logitRows
        return batch
    }
}
