// RadixServe: the conformance checks of single requests: generation, caching, limits, refusals.

import ServingTypes
import WireProtocol

extension WorkerConformance {
    /// The `generate` prompt: two and a half pages, so it has whole pages to cache and a partial one.
    var generatePrompt: [Int32] { prompt(length: 2 * pageSize + pageSize / 2, seed: 1) }

    /// The longest prompt the kit sends.
    var longestPromptLength: Int { 2 * pageSize + pageSize / 2 }

    /// Greedy sampling with EOS ignored: the same prompt always gives the same tokens, all of them.
    func greedy(maxTokens: Int, namespace: UInt64 = 0, stopTokenIDs: Set<Int32> = []) -> SamplingParams {
        SamplingParams(maxTokens: maxTokens, temperature: 0, stopTokenIDs: stopTokenIDs, ignoreEOS: true, namespace: namespace)
    }

    /// Submits a request and waits for its end (recording a failure on `check` when none comes);
    /// after a `stop` or `length`, waits briefly for its prompt's whole pages to be held.
    func runRequest(_ prompt: [Int32], _ params: SamplingParams, for check: ConformanceCheck) -> RequestRecord? {
        let id = submit(prompt, params, for: check)
        guard wait(until: { requests[id]!.isDone }) else {
            report.fail(check, "request \(id): no finished or failed within \(options.timeout) (\(requests[id]!.tokens.count) tokens)")
            return nil
        }
        let record = requests[id]!
        switch record.finish?.reason {
        case .length?, .stop?: expectPromptHeld(record)
        default: break
        }
        return record
    }

    /// The whole pages of a finished request's prompt must be held (stored) soon after. Once one
    /// request's are not, the kit stops waiting for the others' (that problem is reported once).
    func expectPromptHeld(_ record: RequestRecord) {
        guard !isPromptHeldProblemNoted, let hashes = replay?.chain(record.prompt, namespace: record.params.namespace) else { return }
        let settle = min(options.timeout, .seconds(5))
        if !wait(settle, until: { replay!.holds(hashes) }) {
            isPromptHeldProblemNoted = true
            noteOnce(.kvEvents, key: "prompt-held", """
                request \(record.id) finished but the \(hashes.count) whole pages of its prompt were not all held \
                (stored and not removed) \(settle) later
                """)
        }
    }

    /// Checks a `finished`: its reason and `stopTokenID` field, that `completionTokens` counts the
    /// tokens sent and equals `completionTokens`, and `promptTokens`.
    func expectFinish(_ record: RequestRecord, _ reason: FinishReason, completionTokens: Int, for check: ConformanceCheck) {
        let id = record.id
        guard let finish = record.finish else {
            return report.fail(check, "request \(id): expected finished with reason \(reason.wireName), got \(record.outcome)")
        }
        if finish.reason != reason { report.fail(check, "request \(id): finished with reason \(finish.reason.wireName), expected \(reason.wireName)") }
        let stopField: Int32 = if case .stop(let token) = reason { token } else { -1 }
        if let raw = record.rawStopTokenID, raw != stopField {
            report.fail(check, "request \(id): stopTokenID \(raw), expected \(stopField)")
        }
        if record.tokens.count != completionTokens {
            report.fail(check, "request \(id): \(record.tokens.count) tokens sent, expected \(completionTokens)")
        }
        if Int(finish.completionTokens) != record.tokens.count {
            report.fail(check, "request \(id): completionTokens \(finish.completionTokens), but \(record.tokens.count) tokens were sent")
        }
        if Int(finish.promptTokens) != record.prompt.count {
            report.fail(check, "request \(id): promptTokens \(finish.promptTokens), the prompt has \(record.prompt.count)")
        }
    }

    /// `generate`: 8 greedy tokens of the generate prompt. Returns them for later checks.
    func checkGenerate() -> [Int32]? {
        guard begin(.generate), let record = runRequest(generatePrompt, greedy(maxTokens: 8), for: .generate) else { return nil }
        expectFinish(record, .length, completionTokens: 8, for: .generate)
        report.pass(.generate, """
            \(record.tokens.count) tokens in \(record.entryCount) tokens messages, finished length; \
            promptTokens \(record.prompt.count), cachedTokens \(record.finish?.cachedTokens ?? 0)
            """)
        return record.tokens.count == 8 ? record.tokens : nil
    }

    /// `prefix-cache`: a repeat gives the same tokens from whole cached pages; another namespace
    /// shares nothing.
    func checkPrefixCache(after generated: [Int32]?) {
        guard begin(.prefixCache) else { return }
        guard let generated else { return report.skip(.prefixCache, "generate gave no 8 tokens to compare with") }
        let prompt = generatePrompt
        guard let repeated = runRequest(prompt, greedy(maxTokens: 8), for: .prefixCache) else { return }
        expectFinish(repeated, .length, completionTokens: 8, for: .prefixCache)
        if repeated.tokens != generated {
            report.fail(.prefixCache, "the same greedy request gave \(repeated.tokens), first \(generated)")
        }
        let expected = pageSize * ((prompt.count - 1) / pageSize)
        if let cached = repeated.finish?.cachedTokens, cached != expected {
            report.fail(.prefixCache, """
                cachedTokens \(cached) on a repeat of a \(prompt.count)-token prompt, expected \(expected) \
                (whole pages of the cached prefix, never the last prompt token)
                """)
        }
        let runsBefore = replay?.storedRuns.count ?? 0
        guard let other = runRequest(prompt, greedy(maxTokens: 8, namespace: 7), for: .prefixCache) else { return }
        expectFinish(other, .length, completionTokens: 8, for: .prefixCache)
        if let cached = other.finish?.cachedTokens, cached != 0 {
            report.fail(.prefixCache, "cachedTokens \(cached) for the same prompt in namespace 7, expected 0 (namespaces never share)")
        }
        let stored = (replay?.storedRuns.dropFirst(runsBefore) ?? []).filter { $0.namespace == 7 }.flatMap(\.hashes)
        let namespaceZero = Set(replay?.chain(prompt, namespace: 0) ?? [])
        if stored.isEmpty {
            report.fail(.prefixCache, "no pages were stored in namespace 7")
        } else if !namespaceZero.isDisjoint(with: stored) {
            report.fail(.prefixCache, "pages stored in namespace 7 have the hashes of namespace 0's pages")
        }
        report.pass(.prefixCache, """
            a repeat gave the same tokens with cachedTokens \(expected) of \(prompt.count); namespace 7: cachedTokens 0, \
            \(stored.count) pages stored under other hashes
            """)
    }

    /// `max-tokens`: a limit of 1 gives exactly one token.
    func checkMaxTokens() {
        guard begin(.maxTokens), let record = runRequest(generatePrompt, greedy(maxTokens: 1), for: .maxTokens) else { return }
        expectFinish(record, .length, completionTokens: 1, for: .maxTokens)
        report.pass(.maxTokens, "maxTokens 1: one token, finished length")
    }

    /// `stop-token`: stopping on the k-th generated token sends it, counts it and names it.
    func checkStopToken(after generated: [Int32]?) {
        guard begin(.stopToken) else { return }
        guard let generated else { return report.skip(.stopToken, "generate gave no 8 tokens to pick a stop token from") }
        guard let k = (1..<generated.count).first(where: { !generated[..<$0].contains(generated[$0]) }) else {
            return report.skip(.stopToken, "every generated token repeats the first; none stops at an index ≥ 1")
        }
        let stop = generated[k]
        guard let record = runRequest(generatePrompt, greedy(maxTokens: 8, stopTokenIDs: [stop]), for: .stopToken) else { return }
        expectFinish(record, .stop(tokenID: stop), completionTokens: k + 1, for: .stopToken)
        if record.tokens != Array(generated[...k]) {
            report.fail(.stopToken, "tokens \(record.tokens), expected \(Array(generated[...k])) (up to and including the stop token)")
        }
        report.pass(.stopToken, "stop token \(stop) at index \(k): \(k + 1) tokens sent and counted, finished stop")
    }

    /// `invalid-request`: `topP` 0 is out of range: `finished` with reason error naming top_p.
    func checkInvalidRequest() {
        guard begin(.invalidRequest) else { return }
        var params = greedy(maxTokens: 4)
        params.topP = 0
        guard let record = runRequest(generatePrompt, params, for: .invalidRequest) else { return }
        guard case .error(let message)? = record.finish?.reason else {
            return report.fail(.invalidRequest, "topP 0: expected finished with reason error (3), got \(record.outcome)")
        }
        if !message.contains("top_p") { report.fail(.invalidRequest, "topP 0: the error message '\(message)' does not name top_p") }
        if !record.tokens.isEmpty { report.fail(.invalidRequest, "topP 0: \(record.tokens.count) tokens for an invalid request") }
        report.pass(.invalidRequest, "topP 0: finished error: \(message)")
    }

    /// `malformed-submit`: a `submit` cut after its request id gets `failed` code 1, and the
    /// worker goes on serving.
    func checkMalformedSubmit() {
        guard begin(.malformedSubmit) else { return }
        let id = unusedRequestID()
        requests[id] = RequestRecord(id: id, check: .malformedSubmit, prompt: [], params: SamplingParams())
        var writer = WireWriter()
        writer.begin(kind: WireMessageKind.workerSubmit)
        writer.write(id)
        writer.finish()
        sendFrame(writer.bytes)
        wait { requests[id]!.isDone }
        let answer = requests[id]!
        guard answer.failure?.code == .malformedMessage else {
            return report.fail(.malformedSubmit, "a submit cut after its request id: expected failed code 1, got \(answer.outcome)")
        }
        guard let next = runRequest(generatePrompt, greedy(maxTokens: 1), for: .malformedSubmit) else { return }
        expectFinish(next, .length, completionTokens: 1, for: .malformedSubmit)
        report.pass(.malformedSubmit, "failed code 1 (\(answer.failure?.message ?? "")); the next request finished")
    }
}

extension FinishReason {
    /// The reason as the wire names it: `length (1)`, `stop (0, token 5)`.
    var wireName: String {
        switch self {
        case .stop(let token): "stop (0, token \(token))"
        case .length: "length (1)"
        case .abort: "abort (2)"
        case .error(let message): "error (3: \(message))"
        }
    }
}
