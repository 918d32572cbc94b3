import BackendCatalog
import Backends

/// The CPU device with one deliberate fault, for proving that `radixserve certify` and the
/// conformance checks catch what a new backend typically gets wrong.
public struct FaultyDevice: ComputeDevice {
    public enum Fault: String, Sendable, CaseIterable {
        /// Every matmul output's element (0, 0) is off by 1e-3 (an op off by a small error).
        case perturbedMatmul = "perturbed-matmul"
        /// Attention reads each sequence's page table one entry late: page `i` of a context is
        /// looked up at entry `i + 1` (the last entry stays), so contexts of more than one page
        /// attend over the wrong keys.
        case pageTableOffByOne = "page-table-off-by-one"
        /// In a step of two or more sequences, the last one's attention leaves out its newest
        /// key (right alone, wrong when batched).
        case wrongWhenBatched = "wrong-when-batched"
    }

    public var fault: Fault
    let cpu: any ComputeDevice

    public init(_ fault: Fault) {
        self.fault = fault
        cpu = try! BackendCatalog.device(named: "cpu")
    }

    public var name: String { "faulty-\(fault.rawValue)" }
    public var kind: DeviceKind { .cpu }
    public var capabilities: DeviceCapabilities { cpu.capabilities }
    public func memoryInfo() -> (free: Int, total: Int) { cpu.memoryInfo() }
    public func supports(_ op: OpDescriptor) -> Bool { cpu.supports(op) }
    public func makeBackend(threads: Int) throws -> any ComputeBackend {
        FaultyBackend(device: self, base: try cpu.makeBackend(threads: threads))
    }
}

/// The CPU backend with ``FaultyDevice/fault`` applied.
final class FaultyBackend: ForwardingBackend {
    let faulty: FaultyDevice
    private var offsets: [Int: Tensor] = [:]

    init(device: FaultyDevice, base: any ComputeBackend) {
        faulty = device
        super.init(base: base)
    }

    override var device: any ComputeDevice { faulty }

    override func matmul(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
        base.matmul(x, weight: weight, bias: bias, out: out)
        guard faulty.fault == .perturbedMatmul, out.rows > 0, out.columns > 0 else { return }
        let key = out.rows << 32 | out.columns
        if offsets[key] == nil {
            var values = [Float](repeating: 0, count: out.rows * out.columns)
            values[0] = 1e-3
            offsets[key] = try! base.makeTensor(values, rows: out.rows, columns: out.columns)
        }
        base.add(out, offsets[key]!, out: out)
    }

    override func beginStep(_ inputs: StepInputs) throws {
        var inputs = inputs
        let attention = inputs.attention
        switch faulty.fault {
        case .perturbedMatmul:
            break
        case .pageTableOffByOne:
            for s in 0..<attention.sequenceCount {
                let (start, end) = (Int(attention.pageTableStarts[s]), Int(attention.pageTableStarts[s + 1]))
                for entry in start..<max(start, end - 1) {
                    inputs.attention.pageIDs[entry] = attention.pageIDs[entry + 1]
                }
            }
        case .wrongWhenBatched:
            let last = attention.sequenceCount - 1
            if last >= 1 && attention.contextLengths[last] > attention.queryStarts[last + 1] - attention.queryStarts[last] {
                inputs.attention.contextLengths[last] -= 1
            }
        }
        try base.beginStep(inputs)
    }
}
