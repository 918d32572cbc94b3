import Backends

#if canImport(Glibc)
import Glibc
#endif

/// Naive implementations of every op, written for clarity. Not thread-safe.
public final class ReferenceBackend: HostMemoryBackend {
    public var step = StepInputs()

    public init() {}

    public var device: any ComputeDevice { ReferenceDevice() }

    public func embedding(table: Tensor, out: Tensor) {
        let tokenIDs = step.tokenIDs
        precondition(out.rows == tokenIDs.count && out.columns == table.columns)
        for (i, id) in tokenIDs.enumerated() {
            precondition(id >= 0 && Int(id) < table.rows, "token id out of range")
            for c in 0..<table.columns { set(out, i, c, get(table, Int(id), c)) }
        }
    }

    public func matmul(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
        precondition(x.columns == weight.columns && out.rows == x.rows && out.columns == weight.rows)
        for m in 0..<x.rows {
            for n in 0..<weight.rows {
                var sum: Double = bias.map { Double(get($0, 0, n)) } ?? 0
                for k in 0..<x.columns { sum += Double(get(x, m, k)) * Double(get(weight, n, k)) }
                set(out, m, n, Float(sum))
            }
        }
    }

    public func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, out: Tensor) {
        let group = weight.columns
        precondition(x.columns % group == 0 && out.rows == x.rows && out.columns == x.columns)
        for r in 0..<x.rows {
            for g in stride(from: 0, to: x.columns, by: group) {
                var sumSquares: Double = 0
                for c in 0..<group { sumSquares += Double(get(x, r, g + c)) * Double(get(x, r, g + c)) }
                // f32 rsqrt of the f32 mean, as the transformers implementation computes it.
                let inverse = 1 / Float(sumSquares / Double(group) + Double(epsilon)).squareRoot()
                for c in 0..<group { set(out, r, g + c, get(weight, 0, c) * (get(x, r, g + c) * inverse)) }
            }
        }
    }

    public func ropeTable(inverseFrequencies: [Float], scale: Float, out: Tensor) {
        let positions = step.positions
        let half = inverseFrequencies.count
        precondition(out.rows == positions.count && out.columns == 2 * half)
        for (i, position) in positions.enumerated() {
            for j in 0..<half {
                let angle = Float(position) * inverseFrequencies[j]
                set(out, i, j, cosf(angle) * scale)
                set(out, i, half + j, sinf(angle) * scale)
            }
        }
    }

    public func rope(_ x: Tensor, table: Tensor, headDim: Int) {
        let half = headDim / 2
        precondition(x.columns % headDim == 0 && table.rows == x.rows && table.columns == headDim)
        for r in 0..<x.rows {
            for head in stride(from: 0, to: x.columns, by: headDim) {
                for j in 0..<half {
                    let (cosine, sine) = (get(table, r, j), get(table, r, half + j))
                    let (a, b) = (get(x, r, head + j), get(x, r, head + half + j))
                    set(x, r, head + j, a * cosine - b * sine)
                    set(x, r, head + half + j, b * cosine + a * sine)
                }
            }
        }
    }

    public func kvCacheBytesPerPage(_ spec: KVCacheSpec) throws -> Int {
        try device.checkKVCache(spec)
        return ReferenceKVCache.bytesPerPage(spec)
    }

    public func makeKVCache(_ spec: KVCacheSpec) throws -> any KVCacheStorage {
        try device.checkKVCache(spec)
        return ReferenceKVCache(spec)
    }

    public func storeKV(key: Tensor, value: Tensor, cache: any KVCacheStorage, layer: Int) {
        let slotMapping = step.slotMapping
        let cache = ownCache(cache)
        let (kvHeads, headDim) = (cache.spec.kvHeadCount, cache.spec.headDim)
        precondition(key.columns == kvHeads * headDim && value.columns == key.columns && key.rows == slotMapping.count)
        for (i, slot) in slotMapping.enumerated() {
            for h in 0..<kvHeads {
                let base = cache.index(layer: layer, slot: Int(slot), head: h)
                for d in 0..<headDim {
                    cache.keys[base + d] = get(key, i, h * headDim + d)
                    cache.values[base + d] = get(value, i, h * headDim + d)
                }
            }
        }
    }

    public func attention(
        query: Tensor, cache: any KVCacheStorage, layer: Int, scale: Float, out: Tensor
    ) {
        let batch = step.attention
        let cache = ownCache(cache)
        let headDim = cache.spec.headDim
        let headCount = query.columns / headDim
        let group = headCount / cache.spec.kvHeadCount
        let pageSize = cache.spec.pageSize
        for s in 0..<batch.sequenceCount {
            let rowStart = Int(batch.queryStarts[s])
            let queryCount = Int(batch.queryStarts[s + 1]) - rowStart
            let context = Int(batch.contextLengths[s])
            let pages = batch.pageIDs[Int(batch.pageTableStarts[s])..<Int(batch.pageTableStarts[s + 1])]
            for j in 0..<queryCount {
                let position = context - queryCount + j
                for h in 0..<headCount {
                    let kvHead = h / group
                    func slotBase(_ t: Int) -> Int {
                        let page = Int(pages[pages.startIndex + t / pageSize])
                        return cache.index(layer: layer, slot: page * pageSize + t % pageSize, head: kvHead)
                    }
                    var scores = [Double](repeating: 0, count: position + 1)
                    for t in 0...position {
                        var dot: Double = 0
                        for d in 0..<headDim {
                            dot += Double(get(query, rowStart + j, h * headDim + d)) * Double(cache.keys[slotBase(t) + d])
                        }
                        scores[t] = dot * Double(scale)
                    }
                    let maximum = scores.max()!
                    let weights = scores.map { exp($0 - maximum) }
                    let total = weights.reduce(0, +)
                    for d in 0..<headDim {
                        var sum: Double = 0
                        for t in 0...position { sum += weights[t] * Double(cache.values[slotBase(t) + d]) }
                        set(out, rowStart + j, h * headDim + d, Float(sum / total))
                    }
                }
            }
        }
    }

    public func siluMul(_ x: Tensor, out: Tensor) {
        precondition(x.columns == 2 * out.columns && x.rows == out.rows)
        for r in 0..<x.rows {
            for c in 0..<out.columns {
                let gate = get(x, r, c)
                set(out, r, c, gate / (1 + expf(-gate)) * get(x, r, c + out.columns))
            }
        }
    }

    public func add(_ x: Tensor, _ y: Tensor, out: Tensor) {
        precondition(x.rows == y.rows && x.columns == y.columns && out.rows == x.rows && out.columns == x.columns)
        for r in 0..<x.rows { for c in 0..<x.columns { set(out, r, c, get(x, r, c) + get(y, r, c)) } }
    }

    public func gatherRows(_ x: Tensor, out: Tensor) {
        let rows = step.logitRows
        precondition(out.rows == rows.count && out.columns == x.columns)
        for (i, row) in rows.enumerated() { for c in 0..<x.columns { set(out, i, c, get(x, Int(row), c)) } }
    }

    // MARK: - Element access

    public func argmax(_ logits: Tensor, into ids: UnsafeMutableBufferPointer<Int32>) throws {
        precondition(logits.dtype == .f32 && ids.count >= logits.rows, "argmax shape")
        for r in 0..<logits.rows {
            var best = 0
            for c in 1..<max(logits.columns, 1) where get(logits, r, c) > get(logits, r, best) { best = c }
            ids[r] = Int32(best)
        }
    }

    public func topK(
        _ logits: Tensor, k: Int, ids: UnsafeMutableBufferPointer<Int32>, values: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard k >= 1 && k <= min(device.capabilities.maxTopK, logits.columns) else {
            throw BackendError(.invalidArgument, "top-k of \(k) outside 1...\(min(device.capabilities.maxTopK, logits.columns))")
        }
        precondition(logits.dtype == .f32 && ids.count >= logits.rows * k && values.count >= logits.rows * k, "topK shape")
        for r in 0..<logits.rows {
            // Largest first; equal values by lower column (a stable sort of the columns).
            let order = (0..<logits.columns).sorted { a, b in
                let (x, y) = (get(logits, r, a), get(logits, r, b))
                return x > y || (x == y && a < b)
            }
            for j in 0..<k {
                ids[r * k + j] = Int32(order[j])
                values[r * k + j] = get(logits, r, order[j])
            }
        }
    }

    private func ownCache(_ cache: any KVCacheStorage) -> ReferenceKVCache {
        guard let own = cache as? ReferenceKVCache else {
            preconditionFailure("a KV cache of another backend was passed to the reference backend")
        }
        return own
    }

    private func get(_ t: Tensor, _ r: Int, _ c: Int) -> Float {
        loadElement(t.hostAddress!, r * t.rowStride + c, t.dtype)
    }

    private func set(_ t: Tensor, _ r: Int, _ c: Int, _ value: Float) {
        precondition(t.dtype == .f32, "outputs are f32")
        t.hostAddress!.storeBytes(of: value, toByteOffset: (r * t.rowStride + c) * 4, as: Float.self)
    }
}
