import BackendCatalog
import Backends
@testable import Certification
import Engine
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
        let seconds = (ContinuousClock.now - start).seconds
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

    /// Every matmul output's element (0, 0) off by 1e-3 (``FaultyDevice/Fault/perturbedMatmul``).
    @Test func aWrongMatmulElementFailsOnlyTheMatmulChecks() throws {
        let (checks, _) = try certify(FaultyDevice(.perturbedMatmul))
        let matmul = checks.filter { $0.name.hasPrefix("matmul.") && $0.status != .skip }
        #expect(matmul.count == 12)
        for check in matmul {
            #expect(check.status == .fail, "\(check.name) \(check.figure)")
            #expect(check.detail.contains("element (row 0, column 0)"), "\(check.name): \(check.detail)")
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
