// RadixServe: per-key admission figures in Prometheus text format.

import Foundation
import RouterCore

extension AdmissionGate {
    /// Every refusal reason, so each key has all its series from the start.
    static let refusalReasons = ["concurrency", "tokens_per_minute", "too_large", "queue_full", "queue_timeout"]

    /// The `radixserve_router_admission_*` and per-key `radixserve_router_key_*` families.
    package func metricsText() -> String {
        let (keys, running, queued, bounds) = figures()
        let names = keys.keys.sorted()
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            guard !samples.isEmpty else { return }
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { text += "\(name)\(sample.labels) \(Self.format(sample.value))\n" }
        }
        func perKey(_ value: (Admission.KeyFigures) -> Double?) -> [(labels: String, value: Double)] {
            names.compactMap { name in value(keys[name]!).map { (#"{key="\#(Self.escaped(name))"}"#, $0) } }
        }
        family("radixserve_router_admission_running", "gauge", "Requests admitted and not yet ended.", [("", Double(running))])
        family("radixserve_router_admission_queued", "gauge", "Requests waiting in the router's priority queue.", [("", Double(queued))])
        family(
            "radixserve_router_admission_max_running", "gauge", "Requests the router serves at once (--max-running-requests).",
            [("", Double(bounds.maxRunningRequests == .max ? -1 : bounds.maxRunningRequests))])
        family(
            "radixserve_router_admission_max_queued", "gauge", "Requests that may wait (--max-queued-requests).",
            [("", Double(bounds.maxQueuedRequests))])
        family("radixserve_router_key_requests_admitted_total", "counter", "Requests admitted, per API key.", perKey { Double($0.admitted) })
        family(
            "radixserve_router_key_requests_rejected_total", "counter", "Requests refused by admission, per API key and reason.",
            names.flatMap { name in
                Self.refusalReasons.map { reason in
                    (#"{key="\#(Self.escaped(name))",reason="\#(reason)"}"#, Double(keys[name]!.refused[reason] ?? 0))
                }
            })
        family("radixserve_router_key_requests_running", "gauge", "Requests running, per API key.", perKey { Double($0.running) })
        family("radixserve_router_key_requests_queued", "gauge", "Requests queued, per API key.", perKey { Double($0.queued) })
        family(
            "radixserve_router_key_tokens_charged_total", "counter", "Prompt plus max_tokens of admitted and queued requests, per API key.",
            perKey { Double($0.tokensCharged) })
        family(
            "radixserve_router_key_max_concurrent_requests", "gauge", "Concurrency limit, per API key that has one.",
            perKey { $0.limits.maxConcurrentRequests.map(Double.init) })
        family(
            "radixserve_router_key_tokens_per_minute", "gauge", "Token-rate limit, per API key that has one.",
            perKey { $0.limits.tokensPerMinute.map(Double.init) })
        family(
            "radixserve_router_key_tokens_available", "gauge", "Tokens in the key's bucket now, per API key with a token-rate limit.",
            perKey { $0.tokensAvailable })
        return text
    }

    /// A label value with `\`, `"` and newlines escaped as the exposition format asks.
    static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int64(value))" : "\(value)"
    }
}
