// RadixServe fuzzing: JSON bodies of the router's endpoints and of its answers.

import Foundation
import FuzzSupport
import ServingTypes

/// Decodes the input as every request body the router reads (`/v1/completions`,
/// `/v1/chat/completions`, `/generate` with its `sampling_params`, `POST /workers`) and converts
/// the sampling fields to engine parameters as the endpoints do; a request that decodes must
/// survive the client's encode → the router's decode → encode unchanged. Also decodes the answers the
/// client reads from a router (completions, chat, `/workers`, `/v1/models`, errors).
func fuzzHTTPBody(_ bytes: UnsafeRawBufferPointer) {
    let data = Data(bytes)
    if let request = try? JSONDecoder().decode(CompletionRequest.self, from: data) {
        _ = try? request.sampling.samplingParams(defaultMaxTokens: 16, logprobs: request.logprobs)
        roundTrip(request)
    }
    if let request = try? JSONDecoder().decode(ChatCompletionRequest.self, from: data) {
        let logprobs = request.logprobs ? (request.topLogprobs ?? 0) : nil
        _ = try? request.sampling.samplingParams(defaultMaxTokens: 4096, logprobs: logprobs, logprobsName: "top_logprobs")
        roundTrip(request)
    }
    if let fields = try? JSONDecoder().decode(SamplingFields.self, from: data) {
        _ = try? fields.samplingParams(defaultMaxTokens: 128, logprobs: 5, logprobsName: "top_logprobs_num")
    }
    if let request = try? JSONDecoder().decode(GenerateRequest.self, from: data) {
        let logprobs = request.returnLogprob ? (request.topLogprobsNumber ?? 0) : nil
        _ = try? (request.sampling ?? SamplingFields()).samplingParams(
            defaultMaxTokens: 128, logprobs: logprobs, logprobsName: "top_logprobs_num")
    }
    _ = try? JSONDecoder().decode(AddWorkerRequest.self, from: data)
    _ = try? JSONDecoder().decode(CompletionResponse.self, from: data)
    _ = try? JSONDecoder().decode(ChatCompletionResponse.self, from: data)
    _ = try? JSONDecoder().decode(WorkerList.self, from: data)
    _ = try? JSONDecoder().decode(ModelList.self, from: data)
    _ = try? JSONDecoder().decode(APIErrorBody.self, from: data)
}

/// What the client sends must decode in the router to a request that encodes to the same body.
/// (Not `decode(encode(x)) == x`: encoding drops what the router ignores by design, such as
/// `include_usage` on a request that does not stream.)
private func roundTrip<T: Codable>(_ value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let encoded = try? encoder.encode(value) else {
        fuzzCheck(false, "\(T.self) that decoded does not encode: \(value)")
        return
    }
    let again = (try? JSONDecoder().decode(T.self, from: encoded)).flatMap { try? encoder.encode($0) }
    fuzzCheck(again == encoded, "\(T.self) round trip: \(String(decoding: encoded, as: UTF8.self))")
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzHTTPBody(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("FuzzHTTPBodies_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc: argc, argv: argv, testOneInput)
}
