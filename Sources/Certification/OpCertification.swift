// RadixServe: every op the device claims, run on the device and on the reference with the same
// seeded inputs, and judged against a stated error budget (ErrorBudget.table).

import Backends
import Foundation
import ServingTypes

/// The ops section of `radixserve certify`: one ``CertificationCheck`` per op, dtype and class of
/// shapes (`matmul.bf16.prefill-rows`), each with its measured error, its budget and, when it fails,
/// the worst element. Ops and dtypes the device does not claim are skipped, saying so.
///
/// The approach of the conformance tests (Tests/BackendConformanceTests), written for any device:
/// quick mode (the default) runs a few shapes per class, off the SIMD widths and across page ends;
/// `isFull` adds larger shapes, more attention batches and page sizes 1 and 64.
enum OpCertification {
    static func checks(
        device: any ComputeDevice, reference: any ComputeDevice, isFull: Bool, progress: @Sendable (String) -> Void
    ) throws -> [CertificationCheck] {
        let pair = try OpPair(device: device, reference: reference)
        var checks: [CertificationCheck] = []
        for (part, run) in [
            ("embedding, rms-norm, rope, silu-mul, add, gather-rows", rowwiseChecks), ("matmul", matmulChecks), ("attention", attentionChecks),
            ("optional hooks", hookChecks),
        ] as [(String, (OpPair, Bool) -> [CertificationCheck])] {
            progress("certify: ops: \(part)")
            checks += run(pair, isFull)
        }
        return checks
    }

    /// Runs one check's cases and judges what they measured against `op`'s budget for `dtype` at
    /// reductions of `length` terms. An error thrown by the device fails the check, naming it.
    static func check(
        _ name: String, _ op: CertifiedOp, dtype: DType, length: Int = 0, _ cases: (inout ErrorMeasure) throws -> Void
    ) -> CertificationCheck {
        let budget = ErrorBudget.of(op, dtype: dtype)
        var measure = ErrorMeasure()
        do {
            try cases(&measure)
        } catch {
            return CertificationCheck(.ops, name, .fail, figure: "the device failed", detail: "\(error)")
        }
        return judge(name, measure, budget: budget, length: length)
    }

    /// The check of `measure` against `budget`: its figure, values and, when it fails, the worst elements.
    static func judge(_ name: String, _ measure: ErrorMeasure, budget: ErrorBudget, length: Int) -> CertificationCheck {
        let relativeBudget = budget.relative(length: length)
        let relativeHolds = measure.maxRelative <= relativeBudget
        let absoluteHolds = budget.absolute.map { measure.maxAbsolute <= $0 } ?? true
        let ulpHolds = budget.ulp.map { measure.maxJudgedULP <= $0 } ?? true
        let passed = relativeHolds && absoluteHolds && ulpHolds && measure.nanCount == 0 && measure.count > 0
        var figure = "max rel \(short(measure.maxRelative)) ≤ \(short(relativeBudget)), max abs \(short(measure.maxAbsolute))"
        figure += budget.absolute.map { " ≤ \(short($0))" } ?? ""
        if let ulp = budget.ulp {
            figure += ", \(ulpText(measure.maxJudgedULP)) ulp ≤ \(ulp)"
            figure += budget.ulpFloor > 0 ? " where |err| > \(short(budget.ulpFloor))" : ""
        } else {
            figure += ", \(ulpText(measure.maxULP)) ulp"
        }
        var values: [String: Double] = [
            "maxRelative": Double(measure.maxRelative), "maxAbsolute": Double(measure.maxAbsolute),
            "maxULP": Double(measure.maxULP), "budgetRelative": Double(relativeBudget), "elements": Double(measure.count),
        ]
        if let absolute = budget.absolute { values["budgetAbsolute"] = Double(absolute) }
        if let ulp = budget.ulp {
            values["budgetULP"] = Double(ulp)
            values["maxJudgedULP"] = Double(measure.maxJudgedULP)
        }
        if length > 0 { values["reductionLength"] = Double(length) }
        var detail: [String] = []
        if !passed {
            if measure.count == 0 { detail.append("no values were compared") }
            if measure.nanCount > 0 { detail.append("\(measure.nanCount) values are NaN on one side only") }
            if let worst = measure.worstRelative, !relativeHolds || !absoluteHolds || measure.nanCount > 0 {
                detail.append("worst: \(worst.description)")
            }
            if let worst = measure.worstULP, !ulpHolds { detail.append("most ulps: \(worst.description)") }
        }
        return CertificationCheck(.ops, name, passed ? .pass : .fail, figure: figure, detail: detail.joined(separator: "\n"),
            values: values)
    }

    /// A skipped check of what the device does not claim.
    static func skip(_ name: String, _ reason: String) -> CertificationCheck {
        CertificationCheck(.ops, name, .skip, figure: "not claimed", detail: reason)
    }

    /// The weight dtypes the device claims for `op`: in its capabilities and accepted by `supports`.
    /// Those it does not claim come back as skipped checks named `op.dtype`.
    static func claimedDTypes(_ kind: OpKind, _ op: CertifiedOp, on device: any ComputeDevice)
        -> (claimed: [DType], skipped: [CertificationCheck])
    {
        var claimed: [DType] = []
        var skipped: [CertificationCheck] = []
        for dtype in [DType.f32, .bf16, .f16] {
            let name = "\(op.rawValue).\(dtype)"
            if !device.capabilities.weightDTypes.contains(dtype) {
                skipped.append(skip(name, "weight dtype \(dtype) is not in the device's capabilities"))
            } else if !device.supports(OpDescriptor(kind, weightDType: dtype)) {
                skipped.append(skip(name, "the device does not support \(OpDescriptor(kind, weightDType: dtype))"))
            } else {
                claimed.append(dtype)
            }
        }
        return (claimed, skipped)
    }
}

/// The device under test with one backend of it, and one backend of the reference, which every
/// op runs on in turn. Not thread-safe: used on the certifying thread.
struct OpPair {
    /// The device under test, whose capabilities say what to certify.
    let device: any ComputeDevice
    let backend: any ComputeBackend
    let reference: any ComputeBackend

    init(device: any ComputeDevice, reference: any ComputeDevice) throws {
        self.device = device
        backend = try device.makeBackend(threads: 2)
        self.reference = try reference.makeBackend(threads: 1)
    }

    /// Runs `body` on the device and on the reference, each writing a new `rows × columns` f32
    /// tensor, and returns both results. The step ends after `body` (a device that queues ops
    /// reports their failures there).
    func run(rows: Int, columns: Int, _ body: (any ComputeBackend, Tensor) throws -> Void) throws
        -> (got: [Float], want: [Float])
    {
        (try output(of: backend, rows: rows, columns: columns, body), try output(of: reference, rows: rows, columns: columns, body))
    }

    /// What `body` writes to a new `rows × columns` tensor of `backend`.
    func output(
        of backend: any ComputeBackend, rows: Int, columns: Int, _ body: (any ComputeBackend, Tensor) throws -> Void
    ) throws -> [Float] {
        let out = try backend.makeTensor(rows: rows, columns: columns)
        try body(backend, out)
        try backend.endStep()
        backend.synchronize()
        return backend.read(out)
    }
}

/// Seeded random inputs, the same on both backends.
struct OpInputs {
    var random: SeededRandom

    init(seed: UInt64) {
        random = SeededRandom(seed: seed)
    }

    /// `count` values uniform in `[−scale, scale]`.
    mutating func values(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in (2 * random.nextUnitFloat() - 1) * scale }
    }

    /// A value uniform in `0..<bound`.
    mutating func index(_ bound: Int) -> Int {
        Int(random.next() % UInt64(bound))
    }
}
