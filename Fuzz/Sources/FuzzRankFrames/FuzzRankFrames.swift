// RadixServe fuzzing: leader ⇄ rank frames of tensor parallelism (docs/WIRE_PROTOCOL.md).

import FuzzSupport
import WireProtocol

/// Decodes the input as a rank frame, as a follower rank does with what its leader sends (and
/// the leader with a rank's hello). A frame that decodes must be a valid step plan and survive
/// encode → decode unchanged.
func fuzzRankFrame(_ bytes: UnsafeRawBufferPointer) {
    guard let message = try? RankMessage.decode(bytes) else { return }
    fuzzCheck((try? RankMessage.decode(message.encoded)) == message, "rank round trip: \(message)")
    fuzzCheck((try? RankMessage.decode(bytes, maxFrameBytes: bytes.count - 1)) == nil, "frame limit ignored")
    if case .step(let plan) = message {
        fuzzCheck((try? plan.validate()) != nil, "decoded step plan fails validation: \(plan)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzRankFrame(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("FuzzRankFrames_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc: argc, argv: argv, testOneInput)
}
