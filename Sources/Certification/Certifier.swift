// RadixServe: runs a certification plan section by section.

import Backends
import Engine
import Foundation

/// Runs every section of a ``CertificationPlan`` and gathers the checks into a report. A section
/// that throws (a model that does not load, a device that fails outright) becomes a failed check
/// naming the error; the other sections still run.
public enum Certifier {
    public static func run(_ plan: CertificationPlan) -> CertificationReport {
        let started = Date()
        let clock = ContinuousClock.now
        var checks: [CertificationCheck] = []
        for section in plan.sections {
            plan.progress("certify: \(section.rawValue)")
            do {
                let found = try self.checks(of: section, plan)
                for check in found where check.status == .fail {
                    plan.progress("certify: FAIL \(check.name): \(check.figure)")
                }
                checks += found
            } catch {
                checks.append(CertificationCheck(section, "\(section.rawValue).run", .fail, figure: "stopped", detail: "\(error)"))
            }
        }
        return CertificationReport(
            backend: plan.backendName, device: "\(plan.device.name) (\(plan.device.kind.rawValue))",
            capabilities: summary(of: plan.device),
            baseline: plan.baselineName, mode: plan.isFull ? "full" : "quick", sections: plan.sections,
            models: plan.models.map(\.path), startedAt: started, seconds: (ContinuousClock.now - clock).seconds,
            checks: checks)
    }

    /// The device's capabilities and memory as strings, for the report.
    static func summary(of device: any ComputeDevice) -> [String: String] {
        let c = device.capabilities
        let memory = device.memoryInfo()
        return [
            "weightDTypes": c.weightDTypes.map(\.description).sorted().joined(separator: ", "),
            "kvCacheDTypes": c.kvCacheDTypes.map(\.description).sorted().joined(separator: ", "),
            "pageSizes": c.pageSizes.description,
            "sharesHostMemory": "\(c.sharesHostMemory)",
            "maxRowsPerStep": c.maxRowsPerStep.map(String.init) ?? "any",
            "hooks": c.hooks.description,
            "maxTopK": "\(c.maxTopK)",
            "memory": "\(memory.free >> 20) MiB free of \(memory.total >> 20) MiB",
        ]
    }

    static func checks(of section: CertificationSection, _ plan: CertificationPlan) throws -> [CertificationCheck] {
        switch section {
        case .ops:
            try OpCertification.checks(
                device: plan.device, reference: plan.referenceDevice, isFull: plan.isFull, progress: plan.progress)
        case .models:
            try plan.models.flatMap { try ModelCertification.checks(model: $0, plan: plan) }
        case .engine:
            try EngineCertification.checks(plan: plan)
        case .perf:
            try PerformanceCertification.checks(plan: plan)
        }
    }
}
