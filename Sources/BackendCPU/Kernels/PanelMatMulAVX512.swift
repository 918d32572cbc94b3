import Backends
import CKernels

// The panel matmul on CPUs with AVX-512: the C micro-kernel in `CKernels` runs 8 rows × 32
// features (two panels) in 16 of the 32 vector registers, two weight loads and 8 broadcasts per 16
// fused multiply-adds, so neither the loads nor the FMA units hold the other up (a 16-row ×
// 16-feature tile needs a load per FMA, more than CPUs with two 512-bit FMA ports can issue).
// Inputs are packed in groups of 16 rows by register transposes. Both kernel sets compute every
// output element in the same order, so they give the same bits.

/// ``panelMatMul(_:_:panels:panelBytes:kernels:)`` with the AVX-512 kernel: the same blocking,
/// over pairs of panels and calls of 8 rows.
func panelMatMulAVX512<Format: PanelFormat>(_ format: Format.Type, _ op: MatMulOperands, panels: Range<Int>, panelBytes: Int) {
    let groupBytes = panelWidth &* Format.elementBytes
    let groupRows = Int(RADIXSERVE_PANEL_AVX512_GROUP_ROWS)
    let callRows = Int(RADIXSERVE_PANEL_AVX512_ROWS)
    var blockStart = 0
    while blockStart < op.rows {
        let blockEnd = min(op.rows, blockStart &+ panelRowBlock)
        var p = panels.lowerBound
        while p < panels.upperBound {
            let count = min(2, panels.upperBound &- p)
            let column = p &* panelWidth
            let valid = min(panelWidth, op.outFeatures &- (p &+ count &- 1) &* panelWidth)
            var depthStart = 0
            while depthStart < op.inFeatures {
                let depth = min(panelDepthBlock, op.inFeatures &- depthStart)
                let first = depthStart == 0, last = depthStart &+ depth == op.inFeatures
                let panel = op.weight + (p &* panelBytes &+ depthStart &* groupBytes)
                // Both panels' next blocks (after the last: the next pair's first), spread over the passes.
                let next = last ? op.weight + (p &+ count) &* panelBytes : panel + depth &* groupBytes
                let prefetch = PrefetchShares(
                    depth: depth, groupBytes: groupBytes, passes: (blockEnd &- blockStart &+ callRows &- 1) / callRows)
                let bias = last ? op.bias.map { UnsafePointer($0 + column) } : nil
                var m = blockStart
                while m < blockEnd {
                    let share = prefetch.share((m &- blockStart) / callRows)
                    var tile = radixserve_panel_tile(
                        x: op.x + ((m / groupRows) &* groupRows &* op.inFeatures &+ depthStart &* groupRows &+ m % groupRows),
                        panel: panel, panel_bytes: panelBytes, panels: Int32(count), rows: Int32(min(callRows, blockEnd &- m)),
                        format: Format.code, accumulates: first ? 0 : 1,
                        prefetch: (next + share.first &* 64, next + (panelBytes &+ share.first &* 64)),
                        prefetch_lines: share.count, prefetch_every: prefetch.every, depth: depth,
                        out: op.out + (m &* op.outStride &+ column), out_stride: op.outStride, valid: valid, bias: bias)
                    radixserve_panel_kernel_avx512(&tile)
                    m &+= callRows
                }
                depthStart &+= depth
            }
            p &+= count
        }
        blockStart = blockEnd
    }
}
