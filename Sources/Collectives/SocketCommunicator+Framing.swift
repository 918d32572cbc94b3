// Header + payload framing on the per-peer data sockets.
import Transport

extension SocketCommunicator {
    /// Queues a header frame and a payload frame for `peer`. Sends only block when the peer's
    /// queue is full (high-water mark), which a live peer in lock-step never lets happen, or when
    /// the connection to the peer is gone: then a goodbye it left unread ends the wait with
    /// `.peerClosed` (see ``sendHeader(_:to:on:deadline:)``).
    func sendMessage(
        _ operation: CollectiveOperation, root: Int = 0, count: UInt64, payload: UnsafeRawBufferPointer,
        to peer: Int, deadline: Deadline
    ) throws {
        guard let socket = peers[peer] else { throw closedSocket(operation, peer: peer) }
        let header = FrameHeader(operation: operation, root: UInt8(truncatingIfNeeded: root), sequence: sequence, count: count)
        do {
            try header.withEncodedBytes { try sendHeader($0, to: peer, on: socket, deadline: deadline) }
            // Never blocks once the header is queued; the header's timeout, so it is not set again.
            try socket.send(payload, hasMore: false, timeout: min(deadline.remaining, Self.goodbyeCheckInterval))
        } catch let error as TransportError {
            throw translate(error, operation, peer: peer, seconds: deadline.budgetSeconds)
        }
    }

    /// Sends a message's header frame, checking every ``goodbyeCheckInterval`` while it blocks
    /// whether `peer` left: a peer that closed right after sending its `abort` takes its end of
    /// the connection with it, and a send to it then blocks (a `PAIR` without a peer) while its
    /// goodbye waits unread on this socket. The frames it left are then read until its `abort`.
    private func sendHeader(_ bytes: UnsafeRawBufferPointer, to peer: Int, on socket: ZMQSocket, deadline: Deadline) throws {
        while true {
            do {
                return try socket.send(bytes, hasMore: true, timeout: min(deadline.remaining, Self.goodbyeCheckInterval))
            } catch let error as TransportError where error.code == .timeout && deadline.remaining > .zero {
                var atHeader = true
                while socket.isReadable, let frame = try? socket.withReceivedFrame(timeout: .zero, { (FrameHeader(decoding: $0), $1) }) {
                    if atHeader, frame.0?.operation == .abort { throw peerLeft(currentOperation, peer: peer, on: socket) }
                    atHeader = !frame.1
                }
            }
        }
    }

    /// Receives and validates the next header from `peer`. `count == nil` accepts any count.
    /// An `abort` frame becomes `.peerClosed`; garbage becomes `.protocolViolation`.
    @discardableResult
    func receiveHeader(
        _ operation: CollectiveOperation, root: Int = 0, count: UInt64?, from peer: Int, deadline: Deadline
    ) throws -> FrameHeader {
        guard let socket = peers[peer] else { throw closedSocket(operation, peer: peer) }
        let received: FrameHeader.Received
        do {
            received = try socket.withReceivedFrame(timeout: deadline.remaining) { bytes, hasMore in
                FrameHeader.classify(
                    bytes, hasMore: hasMore, expecting: operation, root: root, sequence: sequence, count: count)
            }
        } catch let error as TransportError {
            throw translate(error, operation, peer: peer, seconds: deadline.budgetSeconds)
        }
        switch received {
        case .expected(let header):
            return header
        case .abort:
            throw peerLeft(operation, peer: peer, on: socket)
        case .malformed(let byteCount):
            socket.discardRemainingFrames()
            throw violation(operation, peer: peer, "received a malformed \(byteCount)-byte frame instead of a header")
        case .otherCall(let header):
            socket.discardRemainingFrames()
            throw violation(
                operation, peer: peer,
                "rank \(peer) sent \(header.operation.name) #\(header.sequence) root \(header.root) while rank \(rank) "
                    + "is in \(operation.name) #\(sequence) root \(root); the ranks lost lock-step")
        case .otherCount(let header):
            socket.discardRemainingFrames()
            throw sizeMismatch(operation, peer: peer, theirs: header.count, ours: count ?? 0)
        }
    }

    /// Receives the payload frame that follows a header straight into `destination`, which
    /// must match the frame's size exactly.
    func receivePayload(into destination: UnsafeMutableRawBufferPointer, from peer: Int, deadline: Deadline) throws {
        guard let socket = peers[peer] else { throw closedSocket(currentOperation, peer: peer) }
        let info: ZMQFrameInfo
        do {
            info = try socket.receive(into: destination, timeout: deadline.remaining)
        } catch let error as TransportError {
            throw translate(error, currentOperation, peer: peer, seconds: deadline.budgetSeconds)
        }
        if info.hasMore { socket.discardRemainingFrames() }
        guard info.byteCount == destination.count, !info.hasMore else {
            throw CollectivesError(
                code: .sizeMismatch,
                message: "rank \(peer) sent a \(info.byteCount)-byte payload, rank \(rank) expected \(destination.count)",
                operation: currentOperation.name, peer: peer)
        }
    }

    /// Receives the payload frame that follows a header and lends its (possibly unaligned) bytes to `body`.
    func receivePayload<R>(
        from peer: Int, deadline: Deadline, _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R {
        guard let socket = peers[peer] else { throw closedSocket(currentOperation, peer: peer) }
        do {
            return try socket.withReceivedFrame(timeout: deadline.remaining) { bytes, hasMore in
                guard !hasMore else {
                    socket.discardRemainingFrames()
                    throw violation(currentOperation, peer: peer, "payload frame followed by extra frames")
                }
                return try body(bytes)
            }
        } catch let error as TransportError {
            throw translate(error, currentOperation, peer: peer, seconds: deadline.budgetSeconds)
        }
    }

    /// Best effort, never blocks: tells every peer this rank is out.
    func sendAbort(reason: String) {
        let text = Array(reason.utf8.prefix(2048))
        for peer in otherRanks where peers[peer] != nil {
            try? text.withUnsafeBytes {
                try sendMessage(.abort, count: UInt64($0.count), payload: $0, to: peer, deadline: Deadline(.zero))
            }
        }
    }

    // MARK: - Error construction

    /// Counts are generic so that a peer's 64-bit count is reported as sent, never converted to `Int` (which traps above `Int.max`).
    func sizeMismatch(
        _ operation: CollectiveOperation, peer: Int, theirs: some BinaryInteger, ours: some BinaryInteger
    ) -> CollectivesError {
        CollectivesError(
            code: .sizeMismatch, message: "rank \(peer) passed count \(theirs), rank \(rank) passed \(ours)",
            operation: operation.name, peer: peer)
    }

    func violation(_ operation: CollectiveOperation, peer: Int, _ message: String) -> CollectivesError {
        CollectivesError(code: .protocolViolation, message: message, operation: operation.name, peer: peer)
    }

    /// `peer`'s goodbye, after its `abort` header was read from `socket`: reads the reason frame.
    private func peerLeft(_ operation: CollectiveOperation, peer: Int, on socket: ZMQSocket) -> CollectivesError {
        let reason = (try? socket.withReceivedFrame(timeout: .zero) { bytes, _ in String(decoding: bytes, as: UTF8.self) }) ?? ""
        return CollectivesError(code: .peerClosed, message: "rank \(peer) left the group: \(reason)", operation: operation.name, peer: peer)
    }

    private func closedSocket(_ operation: CollectiveOperation, peer: Int) -> CollectivesError {
        CollectivesError(
            code: .peerClosed, message: "the socket to rank \(peer) is closed", operation: operation.name, peer: peer)
    }

    private func translate(
        _ error: TransportError, _ operation: CollectiveOperation, peer: Int, seconds: Double
    ) -> CollectivesError {
        if error.code == .timeout {
            return .timeout(operation.name, peer: peer, seconds: seconds)
        }
        return CollectivesError(code: .transport, message: error.description, operation: operation.name, peer: peer)
    }
}

extension SocketCommunicator {
    /// Test hook: sends arbitrary frames to `peer` on the data socket, bypassing the framing, to
    /// check that receivers reject garbage. Never use it outside tests.
    package func sendRawFramesForTesting(_ frames: [[UInt8]], to peer: Int) throws {
        try peers[peer]?.send(frames, timeout: .seconds(1))
    }
}
