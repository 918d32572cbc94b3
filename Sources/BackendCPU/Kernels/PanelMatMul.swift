import Backends
import CIntrinsics
import CKernels

// `out = x · Wᵀ + bias` for weights packed in column panels (``PackedWeights``), for every row
// count: the rows of a decode step and the chunks of a prefill.
//
// The micro-kernel keeps up to 6 rows × 16 output features in 12 AVX2 registers. Each step over the
// input features loads one 16-wide weight group (widened from bf16/f16 in registers) and one
// broadcast element per row: 12 FMAs for 2 vector loads and 6 broadcasts, so it runs at the FMA
// units' rate while its operands are in L1. A panel is consumed in depth blocks of
// ``panelDepthBlock`` input features; every row group passes over a block while it is in L1, and
// the passes share the prefetching of the next block, so the weights stream from memory in order
// and overlap the arithmetic. Rows come in blocks of ``panelRowBlock``.
//
// On CPUs with AVX-512 a C micro-kernel takes over (PanelMatMulAVX512.swift).

/// How one 16-feature group of a panel is stored and widened to two f32 vectors (features 0–7 and
/// 8–15).
protocol PanelFormat {
    static var elementBytes: Int { get }
    /// The format's code for the C kernel.
    static var code: Int32 { get }
    static func group(_ panel: UnsafeRawPointer, _ index: Int) -> (Vec8, Vec8)
}

enum F32Panel: PanelFormat {
    static var elementBytes: Int { 4 }
    static var code: Int32 { Int32(RADIXSERVE_PANEL_F32) }
    @inline(__always)
    static func group(_ panel: UnsafeRawPointer, _ index: Int) -> (Vec8, Vec8) {
        let base = panel + index &* 64
        return (base.loadUnaligned(as: Vec8.self), base.loadUnaligned(fromByteOffset: 32, as: Vec8.self))
    }
}

enum BF16Panel: PanelFormat {
    static var elementBytes: Int { 2 }
    static var code: Int32 { Int32(RADIXSERVE_PANEL_BF16) }
    @inline(__always)
    static func group(_ panel: UnsafeRawPointer, _ index: Int) -> (Vec8, Vec8) {
        let words = panel.loadUnaligned(fromByteOffset: index &* 32, as: SIMD8<UInt32>.self)
        return (
            unsafeBitCast(words &<< 16, to: Vec8.self),
            unsafeBitCast(words & SIMD8<UInt32>(repeating: 0xFFFF_0000), to: Vec8.self))
    }
}

enum F16Panel: PanelFormat {
    static var elementBytes: Int { 2 }
    static var code: Int32 { Int32(RADIXSERVE_PANEL_F16) }
    @inline(__always)
    static func group(_ panel: UnsafeRawPointer, _ index: Int) -> (Vec8, Vec8) {
        (loadF16x8(panel, index &* 16), loadF16x8(panel, index &* 16 &+ 8))
    }
}

/// A compile-time row count for the micro-kernel; branches on `count` fold away when specialized.
protocol RowCount { static var count: Int { get } }
enum OneRow: RowCount { static var count: Int { 1 } }
enum TwoRows: RowCount { static var count: Int { 2 } }
enum ThreeRows: RowCount { static var count: Int { 3 } }
enum FourRows: RowCount { static var count: Int { 4 } }
enum FiveRows: RowCount { static var count: Int { 5 } }
enum SixRows: RowCount { static var count: Int { 6 } }

/// Output features per panel.
let panelWidth = 16

/// Rows of `x` per cache block (a multiple of the micro-kernels' rows, 6, 8 and 16).
let panelRowBlock = 96

/// Copies `rows` rows of `x` into groups of `G = kernels.panelGroupRows` interleaved by input feature:
/// group `g` holds, for each input feature `i`, `x[G·g ..< G·g + G][i]` in `G` consecutive floats.
/// The micro-kernel then reads its broadcasts from one sequential stream instead of rows far apart.
func packRowGroups(
    _ x: UnsafePointer<Float>, stride: Int, rows: Int, columns: Int, kernels: CPUKernelSet,
    into target: UnsafeMutablePointer<Float>
) {
    let groupRows = kernels.panelGroupRows
    if kernels == .avx512 {
        // 16 × 16 blocks transposed in registers.
        var m = 0
        while m < rows {
            radixserve_pack_rows16_avx512(x + m &* stride, stride, Int32(min(groupRows, rows &- m)), columns, target + m &* columns)
            m &+= groupRows
        }
        return
    }
    for m in 0..<rows {
        let source = x + m &* stride
        let group = target + ((m / groupRows) &* columns &* groupRows &+ m % groupRows)
        for i in 0..<columns { group[i &* groupRows] = source[i] }
    }
}

/// How the prefetch of the next depth block is shared among the row-group passes over the current
/// one: its cache lines are spread evenly over the passes, one line every `every` input features,
/// because a burst of prefetches in the first pass would exceed the outstanding-miss slots and stall.
struct PrefetchShares {
    /// Cache lines of the next block.
    let lines: Int
    let linesPerPass: Int
    /// Input features between two prefetches of one pass.
    let every: Int

    init(depth: Int, groupBytes: Int, passes: Int) {
        lines = (depth &* groupBytes &+ 63) / 64
        linesPerPass = (lines &+ passes &- 1) / passes
        every = max(1, depth / max(1, linesPerPass))
    }

    /// Pass `pass`'s share: its first line and how many lines.
    func share(_ pass: Int) -> (first: Int, count: Int) {
        let first = min(pass &* linesPerPass, lines)
        return (first, min(linesPerPass, lines &- first))
    }
}

/// Input features per depth block. A panel is consumed block by block, each block by every row
/// group in turn while it sits in L1, so the weights are read from memory strictly in order, one
/// block ahead by software prefetch while the FMAs run; the row groups' partial sums are reloaded
/// from L1 between blocks.
let panelDepthBlock = 128

/// Multiplies rows `0 ..< op.rows` of `op.x`, packed by ``packRowGroups(_:stride:rows:columns:kernels:into:)``,
/// by panels `panels` of a packed weight whose panels are `panelBytes` apart.
func panelMatMul<Format: PanelFormat>(
    _ format: Format.Type, _ op: MatMulOperands, panels: Range<Int>, panelBytes: Int, kernels: CPUKernelSet
) {
    if kernels == .avx512 { return panelMatMulAVX512(format, op, panels: panels, panelBytes: panelBytes) }
    let groupBytes = panelWidth &* Format.elementBytes
    let groupRows = kernels.panelGroupRows
    var blockStart = 0
    while blockStart < op.rows {
        let blockEnd = min(op.rows, blockStart &+ panelRowBlock)
        for p in panels {
            let column = p &* panelWidth
            let valid = min(panelWidth, op.outFeatures &- column)
            var depthStart = 0
            while depthStart < op.inFeatures {
                let depth = min(panelDepthBlock, op.inFeatures &- depthStart)
                let first = depthStart == 0, last = depthStart &+ depth == op.inFeatures
                let panel = op.weight + (p &* panelBytes &+ depthStart &* groupBytes)
                // The next block in memory (the next panel's first after the last) is fetched while this
                // one is multiplied, shared among the row groups' passes.
                let next = panel + depth &* groupBytes
                let prefetch = PrefetchShares(
                    depth: depth, groupBytes: groupBytes, passes: (blockEnd &- blockStart &+ groupRows &- 1) / groupRows)
                let bias = last ? op.bias.map { $0 + column } : nil
                var m = blockStart
                while m < blockEnd {
                    let rows = min(groupRows, blockEnd &- m)
                    let share = prefetch.share((m &- blockStart) / groupRows)
                    let tile = PanelTile(
                        x: op.x + (m &* op.inFeatures &+ depthStart &* groupRows), panel: panel,
                        prefetch: next + share.first &* 64, prefetchLines: share.count, prefetchEvery: prefetch.every,
                        depth: depth, out: op.out + (m &* op.outStride &+ column), outStride: op.outStride,
                        valid: valid, bias: bias, accumulates: !first)
                    switch rows {
                    case 6: panelKernel(Format.self, SixRows.self, tile)
                    case 5: panelKernel(Format.self, FiveRows.self, tile)
                    case 4: panelKernel(Format.self, FourRows.self, tile)
                    case 3: panelKernel(Format.self, ThreeRows.self, tile)
                    case 2: panelKernel(Format.self, TwoRows.self, tile)
                    default: panelKernel(Format.self, OneRow.self, tile)
                    }
                    m &+= rows
                }
                depthStart &+= depth
            }
        }
        blockStart = blockEnd
    }
}

/// One micro-kernel call: up to 6 rows of `x` (a row group from ``packRowGroups(_:stride:rows:columns:kernels:into:)``)
/// times `depth` groups of one panel block, into `valid` features of `out`.
struct PanelTile {
    var x: UnsafePointer<Float>
    var panel: UnsafeRawPointer
    /// This pass's share of the block to prefetch: `prefetchLines` cache lines from `prefetch`, one
    /// every `prefetchEvery` steps.
    var prefetch: UnsafeRawPointer
    var prefetchLines: Int
    var prefetchEvery: Int
    var depth: Int
    var out: UnsafeMutablePointer<Float>
    var outStride: Int
    var valid: Int
    /// Added on the last depth block only.
    var bias: UnsafePointer<Float>?
    /// Whether `out` already holds the sum over earlier depth blocks.
    var accumulates: Bool
}

/// `Rows.count` rows of `x` times one panel over all `k` input features.
@inline(__always)
func panelKernel<Format: PanelFormat, Rows: RowCount>(_ format: Format.Type, _ rows: Rows.Type, _ tile: PanelTile) {
    let n = Rows.count
    let (panel, k) = (tile.panel, tile.depth)
    var prefetchAt = tile.prefetch
    let prefetchEnd = tile.prefetch + tile.prefetchLines &* 64
    var countdown = 0
    var c00 = Vec8(), c01 = Vec8(), c10 = Vec8(), c11 = Vec8(), c20 = Vec8(), c21 = Vec8()
    var c30 = Vec8(), c31 = Vec8(), c40 = Vec8(), c41 = Vec8(), c50 = Vec8(), c51 = Vec8()
    var i = 0
    while i < k {
        let (w0, w1) = Format.group(panel, i)
        if countdown == 0 && prefetchAt < prefetchEnd {
            radixserve_prefetch(prefetchAt)
            prefetchAt += 64
            countdown = tile.prefetchEvery
        }
        countdown &-= 1
        let x = tile.x + i &* 6
        let b0 = Vec8(repeating: x[0])
        c00.addProduct(w0, b0)
        c01.addProduct(w1, b0)
        if n > 1 {
            let b1 = Vec8(repeating: x[1])
            c10.addProduct(w0, b1)
            c11.addProduct(w1, b1)
        }
        if n > 2 {
            let b2 = Vec8(repeating: x[2])
            c20.addProduct(w0, b2)
            c21.addProduct(w1, b2)
        }
        if n > 3 {
            let b3 = Vec8(repeating: x[3])
            c30.addProduct(w0, b3)
            c31.addProduct(w1, b3)
        }
        if n > 4 {
            let b4 = Vec8(repeating: x[4])
            c40.addProduct(w0, b4)
            c41.addProduct(w1, b4)
        }
        if n > 5 {
            let b5 = Vec8(repeating: x[5])
            c50.addProduct(w0, b5)
            c51.addProduct(w1, b5)
        }
        i &+= 1
    }
    let (out, outStride) = (tile.out, tile.outStride)
    storePanelRow(c00, c01, out, tile)
    if n > 1 { storePanelRow(c10, c11, out + outStride, tile) }
    if n > 2 { storePanelRow(c20, c21, out + 2 &* outStride, tile) }
    if n > 3 { storePanelRow(c30, c31, out + 3 &* outStride, tile) }
    if n > 4 { storePanelRow(c40, c41, out + 4 &* outStride, tile) }
    if n > 5 { storePanelRow(c50, c51, out + 5 &* outStride, tile) }
}

/// Writes the first `tile.valid` of 16 accumulated features to `out`, adding what `out` holds
/// (later depth blocks) and the bias (last depth block).
@inline(__always)
func storePanelRow(_ low: Vec8, _ high: Vec8, _ out: UnsafeMutablePointer<Float>, _ tile: PanelTile) {
    if tile.valid == panelWidth {
        var low = low, high = high
        if tile.accumulates {
            low += load8(out, 0)
            high += load8(out, 8)
        }
        if let bias = tile.bias {
            low += load8(bias, 0)
            high += load8(bias, 8)
        }
        store8(low, out, 0)
        store8(high, out, 8)
        return
    }
    for j in 0..<tile.valid {
        var value = j < 8 ? low[j] : high[j &- 8]
        if tile.accumulates { value += out[j] }
        if let bias = tile.bias { value += bias[j] }
        out[j] = value
    }
}
