import Backends
import CKernels

extension CPUBackend {
    /// Matmul on an int8 weight: each input row is quantized to int8 blocks once (the caller's
    /// thread), then the threads split the output features. Every row goes through the same
    /// per-row sums whatever the row count, so the result is batch-invariant as it stands.
    func matmul(_ x: Tensor, quantized: QuantizedWeights, bias: UnsafePointer<Float>?, out: Tensor) {
        let block = Int(RADIXSERVE_Q8_BLOCK)
        let blocks = quantized.blocks
        let quants = UnsafeMutableRawPointer(quantizedInput.slot(0, (x.rows * blocks * block + 3) / 4))
            .assumingMemoryBound(to: Int8.self)
        let scales = quantizedInput.slot(1, x.rows * blocks)
        radixserve_q8_quantize_rows(x.floats, x.rowStride, x.rows, x.columns, quants, scales)
        let work = radixserve_q8_matmul(
            input_quants: quants, input_scales: scales, rows: x.rows, weight_quants: quantized.quantPointer,
            weight_scales: quantized.scalePointer, blocks: blocks, first: 0, end: quantized.outFeatures, bias: bias,
            out: out.floats, out_stride: out.rowStride)
        // Several parts per thread let a thread that finishes early take over a slow thread's share.
        parallel(elements: quantized.outFeatures * quantized.inFeatures * x.rows, partsPerThread: 4, context: work) {
            raw, part, parts, _ in
            var work = raw.assumingMemoryBound(to: radixserve_q8_matmul.self).pointee
            let features = ThreadPool.partition(work.end, ith: part, nth: parts, alignment: 16)
            guard !features.isEmpty else { return }
            work.first = features.lowerBound
            work.end = features.upperBound
            radixserve_q8_matmul_run(&work, CPUKernelSet.int8)
        }
    }
}
