// RadixServe: a backend's outputs on a checkpoint against transformers' stored reference.

import Backends
import Engine
import Foundation
import Models
import Scheduling
import ServingTypes

/// For one checkpoint and its `reference.json`: the last-position logits of every prompt, their
/// top-5 set, the greedy continuation through the engine, and (when the file has them) the top-5
/// of every greedy step.
///
/// Tolerance: a logit off by less than half the smallest top-1 margin `m` cannot change a greedy
/// choice. Half of that, `m/4`, is left to the backend; the rest covers the reference's own
/// rounding (6 significant digits) and f32 summation order. The greedy tokens must match exactly.
enum ModelCertification {
    static func checks(model directory: URL, plan: CertificationPlan) throws -> [CertificationCheck] {
        let name = directory.lastPathComponent
        plan.progress("certify: model \(name)")
        let reference: ReferenceFile
        do {
            reference = try ReferenceFile.load(model: directory)
        } catch {
            return [CertificationCheck(.models, "\(name).reference", .fail, figure: "unreadable", detail: "\(error)")]
        }
        let tolerance = max(reference.minMargin / 4, 1e-5)
        let steps = plan.isFull ? Int.max : 16
        let model: LlamaModel
        do {
            let backend = try plan.device.makeBackend(threads: plan.threads)
            model = try LlamaModel(directory: directory, backend: backend, maxStepTokens: 512)
        } catch let error as BackendError where error.code == .missingCapability {
            return [CertificationCheck(.models, "\(name).load", .skip, figure: "not claimed", detail: "\(error)")]
        } catch {
            return [CertificationCheck(.models, "\(name).load", .fail, figure: "does not load", detail: "\(error)")]
        }
        var checks = try logitChecks(name, reference, model: model, tolerance: tolerance)
        checks += try stepChecks(name, reference, model: model, tolerance: tolerance)
        checks += try greedyCheck(name, reference, model: model, steps: steps)
        return checks
    }

    /// One prefill per prompt: max |Δlogit| over the vocabulary, and the top-5 set.
    static func logitChecks(_ name: String, _ reference: ReferenceFile, model: LlamaModel, tolerance: Float) throws
        -> [CertificationCheck]
    {
        var worst: (difference: Float, prompt: Int, id: Int) = (difference: 0, prompt: 0, id: 0)
        var top5Failures: [String] = []
        for (index, prompt) in reference.prompts.enumerated() {
            let logits = try model.prefillLogits(prompt.promptTokenIDs, logitRows: [Int32(prompt.promptTokenIDs.count - 1)])[0]
            guard logits.count == prompt.lastLogits.count else {
                return [CertificationCheck(.models, "\(name).logits", .fail, figure: "wrong vocabulary",
                    detail: "prompt \(index): \(logits.count) logits, reference has \(prompt.lastLogits.count)")]
            }
            for (id, (got, want)) in zip(logits, prompt.lastLogits).enumerated() {
                let difference: Float = got.isNaN ? .infinity : abs(got - want)
                if difference > worst.difference { worst = (difference, index, id) }
            }
            if let problem = top5Problem(got: logits, want: prompt.lastLogits, tolerance: tolerance) {
                top5Failures.append("prompt \(index) (\(prompt.text.prefix(24).debugDescription)): \(problem)")
            }
        }
        let prompt = reference.prompts[worst.prompt]
        return [
            CertificationCheck(.models, "\(name).logits", worst.difference <= tolerance ? .pass : .fail,
                figure: String(format: "max |Δlogit| %.2e ≤ %.2e (m/4)", worst.difference, tolerance),
                detail: String(format: "worst: prompt %d, token id %d: reference %.6g, off by %.3g",
                    worst.prompt, worst.id, prompt.lastLogits[worst.id], worst.difference),
                values: ["maxAbsDifference": Double(worst.difference), "tolerance": Double(tolerance)]),
            CertificationCheck(.models, "\(name).top5", top5Failures.isEmpty ? .pass : .fail,
                figure: "\(reference.prompts.count - top5Failures.count)/\(reference.prompts.count) prompts",
                detail: top5Failures.joined(separator: "\n")),
        ]
    }

    /// Whether the five largest of `got` are those of `want`; a member that differs is accepted
    /// only where `want`'s fifth and sixth logits lie within `2 · tolerance` (a tie at the border).
    static func top5Problem(got: [Float], want: [Float], tolerance: Float) -> String? {
        func top(_ values: [Float], _ k: Int) -> [Int] {
            OpCertification.contractOrder(values, rows: 1, columns: values.count, k: k)[0]
        }
        let (mine, theirs) = (top(got, 5), top(want, 6))
        guard Set(mine) != Set(theirs.prefix(5)) else { return nil }
        if want[theirs[4]] - want[theirs[5]] <= 2 * tolerance { return nil }
        return "top-5 ids \(mine.sorted()), reference \(theirs.prefix(5).sorted())"
    }

    /// With per-step references: one forward of prompt + greedy tokens, logits at every step's
    /// position; each step's top-5 set and those five logits against the reference.
    static func stepChecks(_ name: String, _ reference: ReferenceFile, model: LlamaModel, tolerance: Float) throws
        -> [CertificationCheck]
    {
        guard reference.prompts.allSatisfy({ $0.stepTop5 != nil }) else {
            return [CertificationCheck(.models, "\(name).step-top5", .skip, figure: "no step_top5",
                detail: "the reference file has no per-step top-5; scripts/make-reference.py writes it")]
        }
        var failures: [String] = []
        var worst: Float = 0
        var stepsChecked = 0
        for (index, prompt) in reference.prompts.enumerated() {
            let steps = prompt.stepTop5!
            let tokens = prompt.promptTokenIDs + prompt.greedyTokenIDs.prefix(steps.count - 1)
            let first = prompt.promptTokenIDs.count - 1
            guard tokens.count <= model.config.maxPositionEmbeddings, tokens.count <= 512 else { continue }
            let rows = try model.prefillLogits(tokens, logitRows: (0..<steps.count).map { Int32(first + $0) })
            for (step, (logits, want)) in zip(rows, steps).enumerated() {
                stepsChecked += 1
                for candidate in want {
                    worst = max(worst, abs(logits[Int(candidate.id)] - candidate.logit))
                }
                let mine = Set(OpCertification.contractOrder(logits, rows: 1, columns: logits.count, k: 5)[0])
                // A reference member may be displaced only when it ties with the fifth.
                let fifth = want.map(\.logit).min() ?? 0
                let displaced = want.contains { !mine.contains(Int($0.id)) && $0.logit - fifth > 2 * tolerance }
                if displaced && failures.count < 5 {
                    failures.append("prompt \(index) step \(step): top-5 ids \(mine.sorted()), reference \(want.map(\.id).sorted())")
                }
            }
        }
        let passed = failures.isEmpty && worst <= tolerance
        return [CertificationCheck(.models, "\(name).step-top5", passed ? .pass : .fail,
            figure: String(format: "%d steps, max |Δlogit| %.2e ≤ %.2e", stepsChecked, worst, tolerance),
            detail: failures.joined(separator: "\n"), values: ["maxAbsDifference": Double(worst), "steps": Double(stepsChecked)])]
    }

    /// Greedy continuations through the engine, one request at a time: the first `steps` tokens
    /// (all the reference has with `--full`) must be the reference's exactly.
    static func greedyCheck(_ name: String, _ reference: ReferenceFile, model: sending LlamaModel, steps: Int) throws
        -> [CertificationCheck]
    {
        let collector = EventCollector()
        let engine = try EngineLoop(
            model: model, config: EngineConfig(pageSize: 16, kvMemory: .pages(128), maxBatchedTokens: 512),
            sink: collector.receive)
        defer { engine.shutdown() }
        var divergences: [String] = []
        var matched = 0
        var total = 0
        for (index, prompt) in reference.prompts.enumerated() {
            let want = Array(prompt.greedyTokenIDs.prefix(steps))
            let output = try collector.run(
                [EngineRequest(id: RequestID(UInt64(index + 1)), promptTokenIDs: prompt.promptTokenIDs,
                    params: SamplingParams(maxTokens: want.count, temperature: 0, ignoreEOS: true))],
                on: engine)[0]
            total += want.count
            if let message = output.reason?.errorMessage {
                divergences.append("prompt \(index): the request failed: \(message)")
                continue
            }
            let got = output.tokenIDs
            if let first = zip(got, want).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                matched += first
                divergences.append(
                    "prompt \(index) (\(prompt.text.prefix(24).debugDescription)): first diverging token at step \(first): "
                        + "got id \(got[first]), reference id \(want[first])")
            } else if got.count != want.count {
                matched += min(got.count, want.count)
                divergences.append("prompt \(index): \(got.count) tokens, reference \(want.count)")
            } else {
                matched += want.count
            }
        }
        return [CertificationCheck(.models, "\(name).greedy", divergences.isEmpty ? .pass : .fail,
            figure: "\(matched)/\(total) tokens", detail: divergences.joined(separator: "\n"),
            values: ["matched": Double(matched), "tokens": Double(total)])]
    }
}
