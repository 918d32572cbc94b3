// RadixServe fuzzing: the socket group's rendezvous messages and data-frame headers.

// `@testable`: both codecs are internal to Collectives (scripts/fuzz.sh builds with -enable-testing).
@testable import Collectives
import FuzzSupport

/// Decodes the input as a rendezvous message (what rank 0 reads from any process that connects,
/// and a rank reads from rank 0) and classifies its first 16 bytes as a data-frame header against
/// the call described by the bytes after them, as a rank does with every frame from a peer.
///
/// ```
/// byte 0 ..< 16   the frame      16  operation   17  root   18 ..< 22  sequence   22 ..< 30  count (absent: any)
/// ```
func fuzzCollectives(_ bytes: UnsafeRawBufferPointer) {
    let array = Array(bytes)
    if let message = try? BootstrapMessage.decode(array) {
        fuzzCheck((try? BootstrapMessage.decode(message.encoded())) == message, "rendezvous round trip: \(message)")
    }

    let frame = UnsafeRawBufferPointer(rebasing: bytes.prefix(FrameHeader.byteCount))
    if let header = FrameHeader(decoding: frame) {
        let encoded = header.withEncodedBytes { Array($0) }
        fuzzCheck(encoded == Array(frame), "frame header round trip: \(header)")
    }
    let expectation = Array(bytes.dropFirst(FrameHeader.byteCount))
    guard expectation.count >= 6, let operation = CollectiveOperation(rawValue: expectation[0]) else { return }
    let sequence = expectation[2..<6].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    let count = expectation.count >= 14 ? expectation[6..<14].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } : nil
    for hasMore in [false, true] {
        let received = FrameHeader.classify(
            frame, hasMore: hasMore, expecting: operation, root: Int(expectation[1]), sequence: sequence, count: count)
        switch received {
        case .expected(let header):
            fuzzCheck(hasMore && header.operation == operation && header.sequence == sequence, "accepted \(header)")
            fuzzCheck(count == nil || header.count == count, "accepted count \(header.count)")
        case .otherCount(let header):
            fuzzCheck(count != nil && header.count != count, "count \(header.count) reported as a mismatch")
        case .malformed, .abort, .otherCall:
            break
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzCollectives(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("FuzzCollectives_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc: argc, argv: argv, testOneInput)
}
