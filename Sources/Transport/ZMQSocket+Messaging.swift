// Sending and receiving frames and multipart messages.
import CZeroMQ

/// Size and continuation of a frame received into a caller's buffer.
public struct ZMQFrameInfo: Hashable, Sendable {
    /// The full size of the frame; larger than the buffer when the frame was truncated.
    public var byteCount: Int
    /// Whether more frames of the same multipart message follow.
    public var hasMore: Bool

    /// Creates a frame description.
    public init(byteCount: Int, hasMore: Bool) {
        self.byteCount = byteCount
        self.hasMore = hasMore
    }
}

extension ZMQSocket {
    // MARK: - Sending

    /// Sends one frame copied from `bytes` (libzmq copies before returning, so the buffer may be
    /// reused immediately). With `hasMore` the frame is followed by more of the same message.
    /// Throws `.timeout` if the peer's queue stays full (or no peer exists) for `timeout`.
    public func send(_ bytes: UnsafeRawBufferPointer, hasMore: Bool = false, timeout: Duration? = nil) throws {
        let handle = try liveHandle("send")
        try applyTimeout(send: true, timeout)
        let flags = hasMore ? ZMQ_SNDMORE : 0
        while zmq_send(handle, bytes.baseAddress, bytes.count, flags) < 0 {
            let errorNumber = zmq_errno()
            if errorNumber != EINTR { throw TransportError.fromErrno(errorNumber, "send(\(bytes.count) bytes)") }
        }
    }

    /// Sends one frame; see ``send(_:hasMore:timeout:)-(UnsafeRawBufferPointer,_,_)``.
    public func send(_ frame: [UInt8], hasMore: Bool = false, timeout: Duration? = nil) throws {
        try frame.withUnsafeBytes { try send($0, hasMore: hasMore, timeout: timeout) }
    }

    /// Sends a multipart message atomically: the timeout applies to the first frame; once it is
    /// queued the rest are queued without blocking.
    public func send(_ frames: [[UInt8]], timeout: Duration? = nil) throws {
        precondition(!frames.isEmpty, "a message has at least one frame")
        for (index, frame) in frames.enumerated() {
            try send(frame, hasMore: index < frames.count - 1, timeout: timeout)
        }
    }

    // MARK: - Receiving

    /// Receives one frame straight into `buffer` (one copy out of libzmq's message). If the frame
    /// is larger than the buffer, the excess is dropped and `byteCount > buffer.count` tells so.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration? = nil) throws -> ZMQFrameInfo {
        let handle = try liveHandle("receive")
        try applyTimeout(send: false, timeout)
        var received: Int32
        repeat {
            received = zmq_recv(handle, buffer.baseAddress, buffer.count, 0)
            if received < 0 {
                let errorNumber = zmq_errno()
                if errorNumber != EINTR { throw TransportError.fromErrno(errorNumber, "receive") }
            }
        } while received < 0
        return ZMQFrameInfo(byteCount: Int(received), hasMore: hasMoreFrames)
    }

    /// Receives one frame and lends its bytes to `body` without copying them; the bytes are valid
    /// only inside `body` and may be unaligned. `hasMore` tells whether more frames follow.
    public func withReceivedFrame<R>(
        timeout: Duration? = nil, _ body: (_ bytes: UnsafeRawBufferPointer, _ hasMore: Bool) throws -> R
    ) throws -> R {
        let handle = try liveHandle("receive")
        try applyTimeout(send: false, timeout)
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        while zmq_msg_recv(&message, handle, 0) < 0 {
            let errorNumber = zmq_errno()
            if errorNumber != EINTR { throw TransportError.fromErrno(errorNumber, "receive") }
        }
        let bytes = UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: zmq_msg_size(&message))
        return try body(bytes, zmq_msg_more(&message) != 0)
    }

    /// Receives one frame as an array; check ``hasMoreFrames`` afterwards for continuation.
    public func receiveFrame(timeout: Duration? = nil) throws -> [UInt8] {
        try withReceivedFrame(timeout: timeout) { bytes, _ in Array(bytes) }
    }

    /// Receives a whole multipart message. The timeout bounds the wait for the first frame; the
    /// remaining frames of a message are already present when the first arrives.
    public func receive(timeout: Duration? = nil) throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var hasMore = true
        while hasMore {
            frames.append(
                try withReceivedFrame(timeout: frames.isEmpty ? timeout : nil) { bytes, more in
                    hasMore = more
                    return Array(bytes)
                })
        }
        return frames
    }

    /// Drops the rest of a partially received multipart message, e.g. after rejecting its header.
    public func discardRemainingFrames() {
        while hasMoreFrames {
            _ = try? withReceivedFrame(timeout: nil) { _, _ in () }
        }
    }
}
