// The operations ranks perform in lock-step; their raw values travel in frame headers.

enum CollectiveOperation: UInt8, Sendable {
    case hello = 1
    case allReduceSum = 2
    case allGather = 3
    case broadcastBytes = 4
    case broadcastFloats = 5
    case barrier = 6
    /// Bootstrap of the same-host shared-memory mailboxes (segment name, then each rank's verdict).
    case sharedMemory = 7
    /// "I failed or closed; do not wait for me." Followed by a UTF-8 reason frame.
    case abort = 0x7F

    var name: String {
        switch self {
        case .hello: "bootstrap"
        case .allReduceSum: "allReduceSum"
        case .allGather: "allGather"
        case .broadcastBytes: "broadcast(bytes)"
        case .broadcastFloats: "broadcast(floats)"
        case .barrier: "barrier"
        case .sharedMemory: "bootstrap(shared memory)"
        case .abort: "abort"
        }
    }
}
