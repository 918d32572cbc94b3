// RadixServe: the conformance kit's ROUTER socket, the one the router would own.

import Transport
import WireProtocol

/// A ROUTER socket that binds the kit's endpoint (the worker connects) or connects to a listening
/// worker, and can be closed and opened again to play a router restart.
///
/// Not thread-safe: use it on the thread that runs the kit.
final class RouterSocket {
    private let context: ZMQContext
    private let endpoint: WorkerConformanceOptions.Endpoint
    private var socket: ZMQSocket
    /// The worker's routing id: learnt from its first message when listening, chosen by the kit
    /// (`ZMQ_CONNECT_ROUTING_ID`) when connecting.
    private(set) var peer: [UInt8]?

    /// Opens the socket. Throws ``ConformanceError`` when the endpoint cannot be bound or connected.
    init(endpoint: WorkerConformanceOptions.Endpoint) throws(ConformanceError) {
        self.endpoint = endpoint
        do {
            context = try ZMQContext()
        } catch {
            throw ConformanceError("cannot create a ZeroMQ context: \(error)")
        }
        (socket, peer) = try Self.open(endpoint, context: context)
    }

    deinit { socket.close() }

    private static func open(
        _ endpoint: WorkerConformanceOptions.Endpoint, context: ZMQContext
    ) throws(ConformanceError) -> (ZMQSocket, [UInt8]?) {
        do {
            let socket = try ZMQSocket(.router, context: context)
            try socket.setRouterMandatory(true)
            switch endpoint {
            case .listen(let address):
                try socket.bind(address)
                return (socket, nil)
            case .connect(let address):
                // A marker byte and 8 random bytes, as the router gives connections it makes.
                let routingID = [0xC0] + withUnsafeBytes(of: UInt64.random(in: 0...(.max))) { Array($0) }
                try socket.setConnectRoutingID(routingID)
                try socket.connect(address)
                return (socket, routingID)
            }
        } catch {
            switch endpoint {
            case .listen(let address): throw ConformanceError("cannot listen on \(address): \(error)")
            case .connect(let address): throw ConformanceError("cannot connect to \(address): \(error)")
            }
        }
    }

    /// Closes the socket and opens a new one on the same endpoint: a router restart.
    func reopen() throws(ConformanceError) {
        socket.close()
        (socket, peer) = try Self.open(endpoint, context: context)
    }

    /// Sends one frame to the worker. Throws when no worker has been heard from or it is gone.
    func send(_ frame: [UInt8]) throws {
        guard let peer else { throw ConformanceError("no worker has connected yet") }
        try socket.send([peer, frame], timeout: .seconds(1))
    }

    /// The next message's frame from the worker within `timeout`, or `nil`. A message with other
    /// than one frame after the routing id, or from a second peer, comes back as `.unexpected`.
    func receive(timeout: Duration) -> Received? {
        guard let frames = try? socket.receive(timeout: timeout), let sender = frames.first else { return nil }
        if peer == nil { peer = sender }
        guard sender == peer else { return .unexpected("a message from a second peer (routing id \(sender.hex))") }
        guard frames.count == 2 else { return .unexpected("a message of \(frames.count - 1) frames (expected 1)") }
        return .frame(frames[1])
    }

    /// What ``receive(timeout:)`` got.
    enum Received {
        case frame([UInt8])
        case unexpected(String)
    }
}
