// RadixServe: what `radixserve certify` found, as a table and as JSON (docs/CERTIFY.md has the schema).

import Foundation

/// The parts of a certification run, in the order they run (`--only`).
public enum CertificationSection: String, CaseIterable, Codable, Sendable, Comparable {
    case ops, models, engine, perf

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The outcome of one check.
public enum CheckStatus: String, Codable, Sendable {
    /// The property holds within its budget.
    case pass
    /// It does not; `detail` says where (op and worst element, model and first diverging token).
    case fail
    /// The device does not claim what the check needs, or the run cannot do it here; `detail` says why.
    case skip
    /// A measurement with no pass/fail criterion (performance ratios without `--min-ratio`).
    case info
}

/// One check: what was checked, its figure and outcome, and the numbers behind it.
public struct CertificationCheck: Codable, Sendable, Equatable {
    public var section: CertificationSection
    /// A stable identifier, e.g. `matmul.bf16.prefill-rows` or `demo.greedy-tokens`.
    public var name: String
    public var status: CheckStatus
    /// One short human figure, e.g. `max rel 3.1e-7 ≤ 1e-5` or `32/32 tokens`.
    public var figure: String
    /// Where it failed, or why it was skipped; empty when it passed.
    public var detail: String
    /// The measured numbers by name (for a performance check: both backends and their ratio).
    public var values: [String: Double]

    public init(
        _ section: CertificationSection, _ name: String, _ status: CheckStatus, figure: String, detail: String = "",
        values: [String: Double] = [:]
    ) {
        self.section = section
        self.name = name
        self.status = status
        self.figure = figure
        self.detail = detail
        self.values = values.filter { $0.value.isFinite }
    }
}

/// Everything one `radixserve certify` run found.
public struct CertificationReport: Codable, Sendable {
    /// Version of this document's layout (docs/CERTIFY.md).
    public var format = 1
    public var backend: String
    /// The device's own description and capabilities as it reports them.
    public var device: String
    public var capabilities: [String: String]
    public var baseline: String
    /// `quick` (the default, sized for CI) or `full`.
    public var mode: String
    public var sections: [CertificationSection]
    public var models: [String]
    public var startedAt: String
    public var seconds: Double
    public var checks: [CertificationCheck]
    /// No check failed.
    public var passed: Bool

    public init(
        backend: String, device: String, capabilities: [String: String], baseline: String, mode: String,
        sections: [CertificationSection], models: [String], startedAt: Date, seconds: Double, checks: [CertificationCheck]
    ) {
        self.backend = backend
        self.device = device
        self.capabilities = capabilities
        self.baseline = baseline
        self.mode = mode
        self.sections = sections
        self.models = models
        self.startedAt = ISO8601DateFormatter().string(from: startedAt)
        self.seconds = seconds
        self.checks = checks
        self.passed = !checks.contains { $0.status == .fail }
    }

    /// The report as pretty-printed JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Counts of checks by status.
    public var counts: [CheckStatus: Int] {
        checks.reduce(into: [:]) { $0[$1.status, default: 0] += 1 }
    }

    /// The human table: one line per check (status, section, name, figure), the detail of every
    /// failed or skipped check indented under it, and a verdict line.
    public var table: String {
        let nameWidth = min(48, checks.map(\.name.count).max() ?? 0)
        var lines = ["certify \(backend) against baseline \(baseline) (\(mode); \(device))"]
        for check in checks {
            let mark = switch check.status {
            case .pass: "PASS"
            case .fail: "FAIL"
            case .skip: "skip"
            case .info: "info"
            }
            let name = check.name.padding(toLength: max(nameWidth, check.name.count), withPad: " ", startingAt: 0)
            let section = check.section.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
            lines.append("\(mark)  \(section) \(name)  \(check.figure)")
            if !check.detail.isEmpty && check.status != .pass {
                lines.append(contentsOf: check.detail.split(separator: "\n").map { "        \($0)" })
            }
        }
        let counts = self.counts
        lines.append(
            "\(passed ? "PASSED" : "FAILED"): \(counts[.pass, default: 0]) passed, \(counts[.fail, default: 0]) failed, "
                + "\(counts[.skip, default: 0]) skipped, \(counts[.info, default: 0]) measured in "
                + String(format: "%.1f s", seconds))
        return lines.joined(separator: "\n") + "\n"
    }
}
