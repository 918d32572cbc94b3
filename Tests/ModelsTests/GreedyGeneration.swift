import Certification
import Engine
import Scheduling
import ServingTypes
import TestSupport

/// The 32 greedy tokens (never stopping at EOS, the setting of transformers' references) of each
/// prompt, run one request at a time through `engine`, whose sink is `queue`.
func greedyTokens(of prompts: [ModelReference.Prompt], on engine: EngineLoop, queue: EngineEventQueue) throws -> [[Int32]] {
    try prompts.enumerated().map { index, prompt in
        try queue.run(
            EngineRequest(
                id: RequestID(UInt64(index)), promptTokenIDs: prompt.promptTokenIDs,
                params: SamplingParams(maxTokens: 32, temperature: 0, ignoreEOS: true)),
            on: engine
        ).tokenIDs
    }
}
