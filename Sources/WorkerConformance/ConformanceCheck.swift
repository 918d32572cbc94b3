// RadixServe: the named checks of the worker conformance kit.

/// One check of `radixserve conformance worker`, in report order. The raw value is the name
/// printed in the report.
public enum ConformanceCheck: String, CaseIterable, Sendable {
    case registration
    case heartbeat
    case generate
    case loadWhileRunning = "load-while-running"
    case prefixCache = "prefix-cache"
    case maxTokens = "max-tokens"
    case stopToken = "stop-token"
    case invalidRequest = "invalid-request"
    case malformedSubmit = "malformed-submit"
    case duplicateRequest = "duplicate-request"
    case abort
    case kvEvents = "kv-events"
    case snapshot
    case flush
    case reregistration
    case drain
}

/// What one check concluded.
public struct CheckOutcome: Sendable, Hashable {
    /// Pass, fail or skip.
    public enum Verdict: String, Sendable, Hashable {
        case pass = "PASS"
        case fail = "FAIL"
        case skip = "SKIP"
    }

    public var check: ConformanceCheck
    public var verdict: Verdict
    /// For a pass, what was seen; for a failure, what was expected and what came; for a skip, why.
    public var detail: String

    public init(check: ConformanceCheck, verdict: Verdict, detail: String) {
        self.check = check
        self.verdict = verdict
        self.detail = detail
    }

    /// `PASS  generate  8 tokens …`: the report line.
    public var line: String { "\(verdict.rawValue)  \(check.rawValue)  \(detail)" }
}
