import Engine
import Foundation
import ServingTypes
import Testing

@Suite struct LogitsProcessorTests {
    @Test func repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        var logits: [Float] = [2, -2, 3, -1, 0.5]
        logits.withUnsafeMutableBufferPointer {
            LogitsProcessor.applyRepetitionPenalty($0, penalty: 2, seen: Set<Int32>([0, 1, 4]))
        }
        #expect(logits == [1, -4, 3, -1, 0.25])
    }

    @Test func repetitionPenaltyOfOneIsANoOp() {
        var logits: [Float] = [2, -2]
        logits.withUnsafeMutableBufferPointer {
            LogitsProcessor.applyRepetitionPenalty($0, penalty: 1, seen: Set<Int32>([0, 1]))
        }
        #expect(logits == [2, -2])
    }

    @Test func frequencyAndPresencePenaltiesSubtractCountsAndPresence() {
        var logits: [Float] = [1, 1, 1, 1]
        logits.withUnsafeMutableBufferPointer {
            LogitsProcessor.applyFrequencyAndPresencePenalties($0, frequency: 0.5, presence: 0.25, counts: [1: 3, 2: 1])
        }
        #expect(logits == [1, 1 - 1.5 - 0.25, 1 - 0.5 - 0.25, 1])
    }

    @Test func negativePenaltiesEncourageRepeats() {
        var logits: [Float] = [0, 0]
        logits.withUnsafeMutableBufferPointer {
            LogitsProcessor.applyFrequencyAndPresencePenalties($0, frequency: -1, presence: -2, counts: [0: 2])
        }
        #expect(logits == [4, 0])
    }

    @Test func logprobsAreLogSoftmaxWithSortedAlternatives() {
        let logits: [Float] = [1, 3, 2, 3, -1]
        let result = logits.withUnsafeBufferPointer { LogitsProcessor.logprobs($0, chosen: 2, topCount: 3) }
        let normaliser = log(logits.map { exp(Double($0)) }.reduce(0, +))
        #expect(abs(Double(result.logprob) - (2 - normaliser)) < 1e-5)
        #expect(result.top.map(\.tokenID) == [1, 3, 2])
        #expect(abs(Double(result.top[0].logprob) - (3 - normaliser)) < 1e-5)
        let none = logits.withUnsafeBufferPointer { LogitsProcessor.logprobs($0, chosen: 0, topCount: 0) }
        #expect(none.top.isEmpty)
    }
}

@Suite struct KVMemoryBudgetTests {
    @Test(arguments: [
        ("4096", 4096), ("512K", 512 << 10), ("512M", 512 << 20), ("2G", 2 << 30), ("1.5g", 3 << 29), ("64MiB", 64 << 20),
        ("2GB", 2 << 30),
    ])
    func parsesByteCounts(text: String, bytes: Int) {
        #expect(KVMemoryBudget.parseBytes(text) == bytes)
    }

    @Test(arguments: ["", "abc", "-1G", "0", "12Q", "G", "0.5"])
    func rejectsMalformedByteCounts(text: String) {
        #expect(KVMemoryBudget.parseBytes(text) == nil)
    }

    @Test(arguments: [
        ("0.3", KVMemoryBudget.fractionOfAvailable(0.3)), (" 0.05 ", .fractionOfAvailable(0.05)), ("1", .bytes(1)),
        ("512M", .bytes(512 << 20)), ("0.5K", .bytes(512)),
    ])
    func parsesFractionsAndByteCounts(text: String, budget: KVMemoryBudget) {
        #expect(KVMemoryBudget.parse(text) == budget)
    }

    @Test(arguments: ["", "0", "-0.3", "0.3B", "half"])
    func rejectsValuesThatAreNeither(text: String) {
        #expect(KVMemoryBudget.parse(text) == nil)
    }

    @Test func pageCountIsClampedToTheLimit() {
        #expect(KVMemoryBudget.bytes(10_000).pageCount(bytesPerPage: 1000, limit: 5) == 5)
        #expect(KVMemoryBudget.bytes(10_000).pageCount(bytesPerPage: 1000, limit: 50) == 10)
        #expect(KVMemoryBudget.bytes(10).pageCount(bytesPerPage: 1000, limit: 50) == 1)
        #expect(KVMemoryBudget.fractionOfAvailable(0.01).pageCount(bytesPerPage: 1 << 20, limit: 1 << 30) >= 1)
    }
}
