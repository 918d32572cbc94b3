// RadixServe fuzzing: router ⇄ worker frames (docs/WIRE_PROTOCOL.md).

import FuzzSupport
import WireProtocol

/// Decodes the input as a frame of both directions, as a worker and a router do with what a
/// socket hands them. A frame that decodes must survive encode → decode unchanged, and the
/// frame limit must be honoured: a decoder given a limit below the frame's size throws.
func fuzzWorkerFrame(_ bytes: UnsafeRawBufferPointer) {
    if let message = try? RouterToWorker.decode(bytes) {
        fuzzCheck((try? RouterToWorker.decode(message.encoded)) == message, "router → worker round trip: \(message)")
        fuzzCheck((try? RouterToWorker.decode(bytes, maxFrameBytes: bytes.count - 1)) == nil, "frame limit ignored")
    }
    if let message = try? WorkerToRouter.decode(bytes) {
        fuzzCheck((try? WorkerToRouter.decode(message.encoded)) == message, "worker → router round trip: \(message)")
        fuzzCheck((try? WorkerToRouter.decode(bytes, maxFrameBytes: bytes.count - 1)) == nil, "frame limit ignored")
    }
    // What a worker answers a malformed submission with: must never read past the frame.
    _ = RouterToWorker.requestID(ofMalformed: Array(bytes))
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzWorkerFrame(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("FuzzWorkerFrames_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc: argc, argv: argv, testOneInput)
}
