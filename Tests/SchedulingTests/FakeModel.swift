import KVPaging
import Scheduling
import ServingTypes
import Testing

/// A model stand-in with a simulated paged KV store.
///
/// It writes each scheduled token into its page slot, then "attends" by reading every
/// position back through the page table, so a wrong page table or a reused page with stale
/// content changes the sampled token. The next token is a hash of the sequence read back.
struct FakeModel {
    let pageSize: Int
    let vocabularySize: Int32
    /// kv[page][slot] = token whose KV is stored there.
    var kv: [[Int32?]]

    init(pageCount: Int, pageSize: Int, vocabularySize: Int32 = 50) {
        self.pageSize = pageSize
        self.vocabularySize = vocabularySize
        self.kv = Array(repeating: Array(repeating: nil, count: pageSize), count: pageCount)
    }

    /// Runs a batch and returns one token per entry with `shouldSample`.
    mutating func run(_ batch: ScheduledBatch, scheduler: Scheduler) -> [(requestID: RequestID, tokenID: Int32)] {
        var sampled: [(requestID: RequestID, tokenID: Int32)] = []
        for entry in batch.entries {
            let end = entry.startPosition + entry.tokenIDs.count
            #expect(entry.pageTable.count * pageSize >= end, "page table too short")
            for (offset, token) in entry.tokenIDs.enumerated() {
                let position = entry.startPosition + offset
                kv[Int(entry.pageTable[position / pageSize])][position % pageSize] = token
            }
            guard let known = scheduler.request(entry.requestID)?.tokenIDs else { continue }  // aborted
            var state: UInt64 = 0xcbf2_9ce4_8422_2325
            for position in 0..<end {
                let stored = kv[Int(entry.pageTable[position / pageSize])][position % pageSize]
                #expect(stored == known[position], "KV at position \(position) of \(entry.requestID) is wrong")
                state = (state ^ UInt64(UInt32(bitPattern: stored ?? -1))) &* 0x100_0000_01b3
            }
            if entry.shouldSample {
                #expect(end == known.count)
                sampled.append((entry.requestID, Int32(truncatingIfNeeded: state % UInt64(vocabularySize))))
            }
        }
        return sampled
    }
}

/// Outcome of driving a scheduler to idle.
struct RunResult {
    var outputs: [RequestID: [Int32]] = [:]
    var finishes: [RequestID: FinishReason] = [:]
    var cached: [RequestID: Int] = [:]
    var steps = 0
    var maxRunning = 0

    mutating func record(_ events: [SchedulerEvent]) {
        for event in events {
            switch event {
            case .token(let id, let token, let index):
                #expect(finishes[id] == nil, "token after finish")
                #expect(outputs[id, default: []].count == index, "token index out of order")
                outputs[id, default: []].append(token)
            case .finished(let id, let reason, _, let completion, let cachedTokens):
                #expect(finishes[id] == nil, "finished twice")
                #expect(outputs[id, default: []].count == completion)
                finishes[id] = reason
                cached[id] = cachedTokens
            }
        }
    }
}

/// Drives `scheduler` until idle, checking integrity after every call.
func runToCompletion(
    _ scheduler: Scheduler, model: inout FakeModel, result: inout RunResult, stepLimit: Int = 100_000,
    beforeStep: (Int) -> Void = { _ in }
) throws {
    while !scheduler.isIdle {
        beforeStep(result.steps)
        guard let batch = scheduler.schedule() else {
            Issue.record("schedule() returned nil with \(scheduler.waitingCount) waiting, \(scheduler.runningCount) running")
            return
        }
        try scheduler.checkIntegrity()
        result.maxRunning = max(result.maxRunning, scheduler.runningCount)
        let sampled = model.run(batch, scheduler: scheduler)
        result.record(scheduler.postprocess(sampled: sampled))
        try scheduler.checkIntegrity()
        result.steps += 1
        guard result.steps < stepLimit else {
            Issue.record("no progress after \(stepLimit) steps")
            return
        }
    }
}

func makeRequest(_ id: UInt64, _ prompt: [Int32], maxTokens: Int = 8, params: SamplingParams = SamplingParams())
    -> Request
{
    var params = params
    params.maxTokens = maxTokens
    return Request(id: RequestID(id), promptTokenIDs: prompt, params: params)
}
