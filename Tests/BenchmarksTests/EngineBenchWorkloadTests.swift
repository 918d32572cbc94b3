import Benchmarks
import Testing

/// The prompts of `bench --workload offline|shared-prefix`.
@Suite struct EngineBenchWorkloadTests {
    @Test func offlinePromptsAreRandomAndRepeatable() {
        let workload = EngineBench.Workload.offline(requests: 5, promptTokens: 12)
        let prompts = workload.prompts(vocabulary: 50)
        #expect(workload.name == "offline")
        #expect(prompts.count == 5 && prompts.allSatisfy { $0.count == 12 && $0.allSatisfy { (3..<50).contains($0) } })
        #expect(Set(prompts).count == 5)
        #expect(workload.prompts(vocabulary: 50) == prompts)
    }

    @Test func sharedPrefixPromptsShareTheirGroupsPrefix() {
        let workload = EngineBench.Workload.sharedPrefix(groups: 3, perGroup: 2, sharedTokens: 16, questionTokens: 4)
        let prompts = workload.prompts(vocabulary: 1000)
        #expect(workload.name == "shared-prefix")
        #expect(prompts.count == 6 && prompts.allSatisfy { $0.count == 20 })
        // Groups take turns: prompt i belongs to group i mod 3.
        for index in 3..<6 { #expect(prompts[index].prefix(16) == prompts[index - 3].prefix(16)) }
        #expect(Set(prompts.map { Array($0.prefix(16)) }).count == 3)
    }
}
