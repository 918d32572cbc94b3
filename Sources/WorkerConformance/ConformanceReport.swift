// RadixServe: the conformance kit's report, one line per check and a summary.

/// The outcome of every check, in ``ConformanceCheck`` order.
///
/// Checks add problems as the run goes (a check may collect problems from messages that arrive
/// long after it started: a `tokens` entry after `finished`, a heartbeat late in the run); a check
/// with any problem fails, whatever it concluded itself.
public struct ConformanceReport: Sendable {
    private var problems: [ConformanceCheck: [String]] = [:]
    private var passes: [ConformanceCheck: String] = [:]
    private var skips: [ConformanceCheck: String] = [:]

    public init() {}

    /// Records a problem: the check fails.
    public mutating func fail(_ check: ConformanceCheck, _ problem: String) {
        problems[check, default: []].append(problem)
    }

    /// Records what a check saw when it found nothing wrong (the last call wins).
    public mutating func pass(_ check: ConformanceCheck, _ detail: String) { passes[check] = detail }

    /// Records why a check could not run (ignored if the check also has problems).
    public mutating func skip(_ check: ConformanceCheck, _ reason: String) { skips[check] = reason }

    /// Whether `check` has a problem so far.
    public func hasProblems(_ check: ConformanceCheck) -> Bool { problems[check] != nil }

    /// Every check's outcome, in report order; a check that recorded nothing is skipped as not run.
    public var outcomes: [CheckOutcome] {
        ConformanceCheck.allCases.map { check in
            if let problems = problems[check] {
                let shown = problems.prefix(3).joined(separator: "; ")
                let more = problems.count > 3 ? " (and \(problems.count - 3) more)" : ""
                return CheckOutcome(check: check, verdict: .fail, detail: shown + more)
            }
            if let reason = skips[check] { return CheckOutcome(check: check, verdict: .skip, detail: reason) }
            if let detail = passes[check] { return CheckOutcome(check: check, verdict: .pass, detail: detail) }
            return CheckOutcome(check: check, verdict: .skip, detail: "not run")
        }
    }

    /// `N passed, M failed, K skipped`.
    public var summary: String {
        let verdicts = outcomes.map(\.verdict)
        func count(_ verdict: CheckOutcome.Verdict) -> Int { verdicts.filter { $0 == verdict }.count }
        return "\(count(.pass)) passed, \(count(.fail)) failed, \(count(.skip)) skipped"
    }

    /// Whether no check failed (skips allowed).
    public var isPassing: Bool { !outcomes.contains { $0.verdict == .fail } }

    /// The report: one line per check, then the summary, each ending in a newline.
    public var text: String { (outcomes.map(\.line) + [summary]).joined(separator: "\n") + "\n" }
}
