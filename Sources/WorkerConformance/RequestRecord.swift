// RadixServe: what the kit sent for one request and what came back.

import ServingTypes
import WireProtocol

/// One request the kit submitted, and the worker's answers to it in order.
struct RequestRecord {
    let id: UInt64
    /// The check that submitted it; problems with its answers count against that check.
    let check: ConformanceCheck
    let prompt: [Int32]
    let params: SamplingParams
    /// Tokens received, in output order.
    var tokens: [Int32] = []
    /// How many `tokens` entries carried them.
    var entryCount = 0
    var finish: RequestFinish?
    /// The `stopTokenID` field of `finished` as sent (the decoder keeps it only for `stop`).
    var rawStopTokenID: Int32?
    var failure: (code: WorkerFailureCode, message: String)?
    /// Answers to a second `submit` with this id (the duplicate probe), kept apart from the request.
    var duplicateFailures: [WorkerFailureCode] = []
    /// Whether a duplicate `submit` with this id was sent.
    var isProbedForDuplicates = false
    /// Whether answers arriving from now on are ignored (the request ended in a way the kit could
    /// not control, and whatever the worker still sends for it proves nothing).
    var isIgnoringAnswers = false

    /// Whether `finished` or `failed` arrived.
    var isDone: Bool { finish != nil || failure != nil }

    /// The prompt followed by the tokens received: the sequence whose pages the worker may store.
    var sequence: [Int32] { prompt + tokens }

    /// A short account of how the request ended, for failure messages.
    var outcome: String {
        if let finish { return "finished (\(finish.reason.openAIName)) after \(tokens.count) tokens" }
        if let failure { return "failed (code \(failure.code.rawValue) \(failure.code): \(failure.message))" }
        return "no finished or failed yet (\(tokens.count) tokens so far)"
    }
}
