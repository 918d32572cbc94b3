import BackendCatalog
import Backends
@testable import Certification
import Foundation
import Testing
import TestSupport

/// The ops section of `radixserve certify`: the devices built here pass it within their budgets, a
/// device with one wrong matmul output fails exactly the matmul checks, naming the element.
@Suite struct OpCertificationTests {
    /// The ops section of `backend` against the reference, in quick mode, and how long it took.
    func certify(_ device: any ComputeDevice) throws -> (checks: [CertificationCheck], seconds: Double) {
        let reference = try BackendCatalog.device(named: "reference")
        let start = ContinuousClock.now
        let checks = try OpCertification.checks(device: device, reference: reference, isFull: false, progress: { _ in })
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let counts = checks.reduce(into: [CheckStatus: Int]()) { $0[$1.status, default: 0] += 1 }
        print(String(format: "ops section on %@: %d passed, %d failed, %d skipped in %.1f s", device.name,
            counts[.pass, default: 0], counts[.fail, default: 0], counts[.skip, default: 0], seconds))
        return (checks, seconds)
    }

    @Test(arguments: ["cpu", Fixtures.referencePluginBackend])
    func devicesBuiltHerePass(backend: String) throws {
        let (checks, _) = try certify(try BackendCatalog.device(named: backend))
        for check in checks where check.status == .fail {
            Issue.record("\(check.name): \(check.figure)\n\(check.detail)")
        }
        #expect(checks.contains { $0.name == "matmul.bf16.prefill-rows" && $0.status == .pass })
        #expect(checks.contains { $0.name.hasPrefix("attention.") && $0.status == .pass })
        #expect(checks.filter { $0.status == .pass }.count >= 30)
    }

    @Test func aWrongMatmulElementFailsOnlyTheMatmulChecks() throws {
        let (checks, _) = try certify(FaultyMatmulDevice(inner: try BackendCatalog.device(named: "cpu")))
        let matmul = checks.filter { $0.name.hasPrefix("matmul.") && $0.status != .skip }
        #expect(matmul.count == 12)
        for check in matmul {
            #expect(check.status == .fail, "\(check.name) \(check.figure)")
            #expect(check.detail.contains("element (row 0, column "), "\(check.name): \(check.detail)")
        }
        let others = checks.filter { !$0.name.hasPrefix("matmul.") }
        #expect(others.allSatisfy { $0.status != .fail }, "\(others.filter { $0.status == .fail }.map(\.name))")
    }

    @Test func ulpDistanceCountsFloatsBetween() {
        #expect(ErrorMeasure.ulpDistance(1, 1) == 0)
        #expect(ErrorMeasure.ulpDistance(1, Float(1).nextUp) == 1)
        #expect(ErrorMeasure.ulpDistance(-0.0, 0) == 0)
        #expect(ErrorMeasure.ulpDistance(-Float.leastNonzeroMagnitude, .leastNonzeroMagnitude) == 2)
        #expect(ErrorMeasure.ulpDistance(-1, Float(-1).nextDown) == 1)
        #expect(ErrorMeasure.ulpDistance(.greatestFiniteMagnitude, .infinity) == 1)
    }

    @Test func aNaNOnOneSideIsAnInfiniteError() {
        var measure = ErrorMeasure()
        measure.add(got: [1, .nan, .nan, 2], want: [1, .nan, 3, 2.5], columns: 2, shape: "2×2")
        #expect(measure.nanCount == 1 && measure.maxRelative == .infinity)
        #expect(measure.worstRelative?.row == 1 && measure.worstRelative?.column == 0)
        let check = OpCertification.judge("x", measure, budget: ErrorBudget(relative: 1), length: 0)
        #expect(check.status == .fail && check.detail.contains("1 values are NaN on one side only"))
    }
}

/// The CPU device, except that every matmul multiplies the largest output of its first row by
/// 1 + 1e-3.
struct FaultyMatmulDevice: ComputeDevice {
    let inner: any ComputeDevice
    var name: String { "faulty-matmul" }
    var kind: DeviceKind { inner.kind }
    var capabilities: DeviceCapabilities { inner.capabilities }
    func memoryInfo() -> (free: Int, total: Int) { inner.memoryInfo() }
    func supports(_ op: OpDescriptor) -> Bool { inner.supports(op) }
    func makeBackend(threads: Int) throws -> any ComputeBackend {
        FaultyMatmulBackend(inner: try inner.makeBackend(threads: threads), device: self)
    }
}

final class FaultyMatmulBackend: ComputeBackend {
    let inner: any ComputeBackend
    let device: any ComputeDevice

    init(inner: any ComputeBackend, device: any ComputeDevice) {
        self.inner = inner
        self.device = device
    }

    func matmul(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
        inner.matmul(x, weight: weight, bias: bias, out: out)
        inner.synchronize()
        let row = out.hostAddress!.assumingMemoryBound(to: Float.self)
        let column = (0..<out.columns).max { abs(row[$0]) < abs(row[$1]) }!
        row[column] *= 1 + 1e-3
    }

    func allocate(byteCount: Int, usage: BufferUsage) throws -> any DeviceBuffer {
        try inner.allocate(byteCount: byteCount, usage: usage)
    }
    func makeWeightBuffer(copying bytes: UnsafeRawBufferPointer, owner: AnyObject?) throws -> any DeviceBuffer {
        try inner.makeWeightBuffer(copying: bytes, owner: owner)
    }
    func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) { inner.upload(bytes, to: tensor) }
    func download(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) { inner.download(tensor, into: bytes) }
    func beginStep(_ inputs: StepInputs) throws { try inner.beginStep(inputs) }
    func endStep() throws { try inner.endStep() }
    func embedding(table: Tensor, out: Tensor) { inner.embedding(table: table, out: out) }
    func prepareMatmulWeight(_ weight: Tensor) throws -> Tensor { try inner.prepareMatmulWeight(weight) }
    func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, out: Tensor) {
        inner.rmsNorm(x, weight: weight, epsilon: epsilon, out: out)
    }
    func ropeTable(inverseFrequencies: [Float], scale: Float, out: Tensor) {
        inner.ropeTable(inverseFrequencies: inverseFrequencies, scale: scale, out: out)
    }
    func rope(_ x: Tensor, table: Tensor, headDim: Int) { inner.rope(x, table: table, headDim: headDim) }
    func kvCacheBytesPerPage(_ spec: KVCacheSpec) throws -> Int { try inner.kvCacheBytesPerPage(spec) }
    func makeKVCache(_ spec: KVCacheSpec) throws -> any KVCacheStorage { try inner.makeKVCache(spec) }
    func storeKV(key: Tensor, value: Tensor, cache: any KVCacheStorage, layer: Int) {
        inner.storeKV(key: key, value: value, cache: cache, layer: layer)
    }
    func attention(query: Tensor, cache: any KVCacheStorage, layer: Int, scale: Float, out: Tensor) {
        inner.attention(query: query, cache: cache, layer: layer, scale: scale, out: out)
    }
    func siluMul(_ x: Tensor, out: Tensor) { inner.siluMul(x, out: out) }
    func add(_ x: Tensor, _ y: Tensor, out: Tensor) { inner.add(x, y, out: out) }
    func gatherRows(_ x: Tensor, out: Tensor) { inner.gatherRows(x, out: out) }
    func synchronize() { inner.synchronize() }
}
