// Group formation: rendezvous at rank 0, mesh of PAIR sockets, pairwise handshake.
import Transport

extension SocketCommunicator {
    /// Forms (or joins) a group and returns this rank's communicator once every pair of ranks
    /// is connected and has exchanged a handshake. The same call works in any process layout:
    /// rank 0 binds `rendezvous`, ranks 1..<N connect to it.
    ///
    /// 1. Each rank binds one `PAIR` data socket per higher rank on `dataEndpoint`
    ///    (a wildcard pattern; default `ipc://*` for an `ipc://` rendezvous and
    ///    `tcp://127.0.0.1:*` for a loopback `tcp://` one; pass `tcp://<this host's address>:*`
    ///    across hosts). `ipc://*` next to an `ipc://` rendezvous binds beside it
    ///    (`<rendezvous>-<rank>-<peer>`), so the sockets live and die with the rendezvous directory
    ///    rather than in ZeroMQ's wildcard directories under the working directory.
    /// 2. Ranks k > 0 send rank 0 a join (protocol version, rank, world size, `fingerprint`,
    ///    bound endpoints). Rank 0 refuses a mismatching version, world size, rank or
    ///    fingerprint with a message naming both values, and fails itself too.
    /// 3. Rank 0 sends everyone the endpoint table; each rank connects to its lower ranks.
    /// 4. Every pair exchanges a hello frame, proving both directions work.
    /// 5. With `sharedMemory` and an `ipc://` data endpoint (one host), the ranks map a shared
    ///    segment for small all-reduces (``SharedMemoryMailboxes``); the sockets carry the rest.
    ///
    /// - Parameters:
    ///   - fingerprint: what must be identical across the group, e.g. `"llama-3-8b tp=4"`.
    ///   - timeout: the per-call ``Communicator/timeout`` of the result.
    ///   - bootstrapTimeout: the budget for the whole formation (default `timeout`).
    ///   - context: a context to share between communicators of one process (default: a new one).
    ///     With `curve` at rank 0 the context gets a ZAP handler, so it must not have one already.
    ///   - curve: CURVE keys for every socket of the group (``GroupCurve``); `nil` for plain traffic.
    /// - Throws: ``CollectivesError``; `.timeout` names a rank that did not show up.
    public static func connect(
        rank: Int, worldSize: Int, rendezvous: String, fingerprint: String, timeout: Duration = .seconds(30),
        bootstrapTimeout: Duration? = nil, dataEndpoint: String? = nil, context: ZMQContext? = nil,
        sharedMemory: Bool = true, curve: GroupCurve? = nil
    ) throws -> SocketCommunicator {
        precondition(worldSize >= 1 && (0..<worldSize).contains(rank), "rank \(rank) outside 0..<\(worldSize)")
        precondition(worldSize <= 256, "frame headers carry the root rank in one byte")
        let deadline = Deadline(bootstrapTimeout ?? timeout)
        do {
            let context = try context ?? ZMQContext(ioThreadCount: 1)
            var peers = [ZMQSocket?](repeating: nil, count: worldSize)
            guard worldSize > 1 else {
                return SocketCommunicator(rank: 0, worldSize: 1, timeout: timeout, context: context, peers: peers)
            }
            let pattern = try dataEndpoint ?? defaultDataEndpoint(rendezvous: rendezvous, rank: rank)
            // Rank 0 admits only the listed ranks, on the rendezvous and on its data sockets.
            var authenticator: ZAPAuthenticator?
            if rank == 0, let curve {
                guard let allowlist = curve.authorizedKeys else {
                    throw CollectivesError(code: .invalidConfiguration, message: "rank 0 with CURVE needs the ranks' public keys", operation: "bootstrap")
                }
                authenticator = try ZAPAuthenticator(context: context, allowlist: allowlist, onRefusal: curve.onRefusal)
            }
            var formed = false
            defer { if !formed { authenticator?.stop() } }  // a failed formation leaves no handler behind
            let dataKeys = try curve.map { _ in try CurveKeyPair.generate() }
            var ownEndpoints: [String] = []
            for peer in (rank + 1)..<worldSize {
                let socket = try makeDataSocket(context: context, pattern: pattern)
                if let dataKeys { try socket.setCurveServer(secretKey: dataKeys.secretKey) }
                ownEndpoints.append(try socket.bind(bindAddress(pattern: pattern, rendezvous: rendezvous, rank: rank, peer: peer)))
                peers[peer] = socket
            }
            let rendezvousSocket: ZMQSocket
            let join = BootstrapMessage.Join(
                version: BootstrapMessage.protocolVersion, rank: rank, worldSize: worldSize,
                fingerprint: fingerprint, endpoints: ownEndpoints, dataKey: dataKeys?.publicKey ?? "")
            let table: [[String]]
            let peerKeys: [String]
            if rank == 0 {
                (rendezvousSocket, table, peerKeys) = try acceptJoins(
                    own: join, rendezvous: rendezvous, context: context, curve: curve, deadline: deadline)
            } else {
                (rendezvousSocket, table, peerKeys) = try sendJoin(
                    join, rendezvous: rendezvous, context: context, curve: curve, deadline: deadline)
            }
            defer { rendezvousSocket.close() }
            for peer in 0..<rank {
                let socket = try makeDataSocket(context: context, pattern: pattern)
                if let curve {
                    guard CurveKeyPair.isZ85Key(peerKeys[peer]) else {
                        throw CollectivesError(
                            code: .protocolViolation, message: "rank \(peer) announced no CURVE key for its data sockets",
                            operation: "bootstrap", peer: peer)
                    }
                    try socket.setCurveClient(serverPublicKey: peerKeys[peer], keyPair: curve.keyPair)
                }
                try socket.connect(table[peer][rank - peer - 1])
                peers[peer] = socket
            }
            let communicator = SocketCommunicator(
                rank: rank, worldSize: worldSize, timeout: timeout, context: context, peers: peers)
            communicator.authenticator = authenticator
            formed = true
            try communicator.handshake(deadline: deadline)
            if sharedMemory && pattern.hasPrefix("ipc://") { try communicator.attachSharedMemory(deadline: deadline) }
            return communicator
        } catch let error as TransportError {
            throw CollectivesError(code: .transport, message: error.description, operation: "bootstrap")
        }
    }

    private static func defaultDataEndpoint(rendezvous: String, rank: Int) throws -> String {
        if rendezvous.hasPrefix("ipc://") { return "ipc://*" }
        let loopback = ["tcp://127.0.0.1:", "tcp://localhost:", "tcp://[::1]:"]
        if loopback.contains(where: rendezvous.hasPrefix) { return "tcp://127.0.0.1:*" }
        if rank == 0, rendezvous.hasPrefix("tcp://"), let colon = rendezvous.lastIndex(of: ":") {
            return String(rendezvous[..<colon]) + ":*"
        }
        throw CollectivesError(
            code: .invalidConfiguration,
            message: "no default data endpoint for rendezvous \(rendezvous); pass dataEndpoint, "
                + "e.g. tcp://<this host's address>:*",
            operation: "bootstrap")
    }

    /// The address to bind for the socket to `peer`: `pattern`, except that `ipc://*` next to an
    /// `ipc://` rendezvous becomes a path beside the rendezvous.
    private static func bindAddress(pattern: String, rendezvous: String, rank: Int, peer: Int) -> String {
        pattern == "ipc://*" && rendezvous.hasPrefix("ipc://") ? "\(rendezvous)-\(rank)-\(peer)" : pattern
    }

    private static func makeDataSocket(context: ZMQContext, pattern: String) throws -> ZMQSocket {
        let socket = try ZMQSocket(.pair, context: context)
        if pattern.hasPrefix("tcp://") { try socket.setTCPKeepAlive(idle: .seconds(10), interval: .seconds(5)) }
        return socket
    }

    /// Rank 0: collects one valid join per rank, then answers everyone with the endpoint table.
    private static func acceptJoins(
        own: BootstrapMessage.Join, rendezvous: String, context: ZMQContext, curve: GroupCurve?, deadline: Deadline
    ) throws -> (ZMQSocket, [[String]], [String]) {
        let router = try ZMQSocket(.router, context: context)
        if let curve { try router.setCurveServer(secretKey: curve.keyPair.secretKey) }
        try router.setRouterMandatory(true)
        try router.setMaxMessageSize(BootstrapMessage.maxByteCount)
        try router.bind(rendezvous)
        var identities = [[UInt8]?](repeating: nil, count: own.worldSize)
        var table = [[String]](repeating: [], count: own.worldSize)
        var keys = [String](repeating: "", count: own.worldSize)
        table[0] = own.endpoints
        keys[0] = own.dataKey
        while let missing = (1..<own.worldSize).first(where: { identities[$0] == nil }) {
            let frames: [[UInt8]]
            do {
                frames = try router.receive(timeout: deadline.remaining)
            } catch let error as TransportError where error.code == .timeout {
                let absent = (1..<own.worldSize).filter { identities[$0] == nil }
                throw CollectivesError.timeout(
                    "bootstrap", peer: missing, seconds: deadline.budgetSeconds,
                    detail: "ranks \(absent) never joined rendezvous \(rendezvous)")
            }
            guard frames.count == 2 else {
                throw CollectivesError(
                    code: .protocolViolation, message: "rendezvous message with \(frames.count) frames",
                    operation: "bootstrap")
            }
            do {
                guard case .join(let join) = try BootstrapMessage.decode(frames[1]) else {
                    throw CollectivesError(
                        code: .protocolViolation, message: "expected a join on the rendezvous socket",
                        operation: "bootstrap")
                }
                try validate(join, against: own, alreadyJoined: identities.indices.contains(join.rank) && identities[join.rank] != nil)
                identities[join.rank] = frames[0]
                table[join.rank] = join.endpoints
                keys[join.rank] = join.dataKey
            } catch let error as CollectivesError {
                let refusal = BootstrapMessage.refusal(
                    version: BootstrapMessage.protocolVersion, code: error.code, reason: error.message)
                router.setLingerOnClose(.milliseconds(500))
                try? router.send([frames[0], refusal.encoded()], timeout: .zero)
                throw error
            }
        }
        let welcome = BootstrapMessage.welcome(version: BootstrapMessage.protocolVersion, endpoints: table, dataKeys: keys).encoded()
        for identity in identities.dropFirst() {
            try router.send([identity!, welcome], timeout: deadline.remaining)
        }
        return (router, table, keys)
    }

    private static func validate(_ join: BootstrapMessage.Join, against own: BootstrapMessage.Join, alreadyJoined: Bool) throws {
        func refuse(_ code: CollectivesError.Code, _ message: String) -> CollectivesError {
            CollectivesError(code: code, message: message, operation: "bootstrap", peer: join.rank)
        }
        guard join.version == own.version else {
            throw refuse(.versionMismatch, "rank \(join.rank) speaks collectives protocol v\(join.version), rank 0 v\(own.version)")
        }
        guard join.fingerprint == own.fingerprint else {
            throw refuse(
                .fingerprintMismatch,
                "rank \(join.rank) has group fingerprint '\(join.fingerprint)' but rank 0 has '\(own.fingerprint)'")
        }
        guard join.worldSize == own.worldSize else {
            throw refuse(.invalidConfiguration, "rank \(join.rank) expects world size \(join.worldSize), rank 0 \(own.worldSize)")
        }
        guard (1..<own.worldSize).contains(join.rank), !alreadyJoined else {
            throw refuse(.invalidConfiguration, "rank \(join.rank) is out of range or joined twice")
        }
        guard join.endpoints.count == own.worldSize - 1 - join.rank else {
            throw refuse(.protocolViolation, "rank \(join.rank) announced \(join.endpoints.count) data endpoints")
        }
    }

    /// Ranks > 0: announce ourselves and wait for the endpoint table or a refusal.
    private static func sendJoin(
        _ join: BootstrapMessage.Join, rendezvous: String, context: ZMQContext, curve: GroupCurve?, deadline: Deadline
    ) throws -> (ZMQSocket, [[String]], [String]) {
        let dealer = try ZMQSocket(.dealer, context: context)
        if let curve {
            guard let leaderKey = curve.leaderPublicKey else {
                throw CollectivesError(code: .invalidConfiguration, message: "rank \(join.rank) with CURVE needs rank 0's public key", operation: "bootstrap")
            }
            try dealer.setCurveClient(serverPublicKey: leaderKey, keyPair: curve.keyPair)
        }
        try dealer.setMaxMessageSize(BootstrapMessage.maxByteCount)
        try dealer.setReconnectInterval(.milliseconds(20))
        try dealer.connect(rendezvous)
        let reply: [[UInt8]]
        do {
            try dealer.send([BootstrapMessage.join(join).encoded()], timeout: deadline.remaining)
            reply = try dealer.receive(timeout: deadline.remaining)
        } catch let error as TransportError where error.code == .timeout {
            throw CollectivesError.timeout(
                "bootstrap", peer: 0, seconds: deadline.budgetSeconds, detail: "no answer from rendezvous \(rendezvous)")
        }
        guard reply.count == 1 else {
            throw CollectivesError(code: .protocolViolation, message: "rendezvous reply with \(reply.count) frames", operation: "bootstrap", peer: 0)
        }
        switch try BootstrapMessage.decode(reply[0]) {
        case .welcome(_, let table, let keys) where table.count == join.worldSize && keys.count == join.worldSize
            && table.indices.allSatisfy({ table[$0].count == join.worldSize - 1 - $0 }):
            return (dealer, table, keys)
        case .refusal(_, let code, let reason):
            throw CollectivesError(code: code, message: "rank 0 refused the join: \(reason)", operation: "bootstrap", peer: 0)
        default:
            throw CollectivesError(code: .protocolViolation, message: "unexpected rendezvous reply", operation: "bootstrap", peer: 0)
        }
    }

    /// Pairwise hello: higher ranks greet lower ones, lower ones answer.
    func handshake(deadline: Deadline) throws {
        currentOperation = .hello
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        let emptyTarget = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        for peer in 0..<rank { try sendMessage(.hello, count: UInt64(rank), payload: empty, to: peer, deadline: deadline) }
        for peer in (rank + 1)..<worldSize {
            try receiveHeader(.hello, count: UInt64(peer), from: peer, deadline: deadline)
            try receivePayload(into: emptyTarget, from: peer, deadline: deadline)
            try sendMessage(.hello, count: UInt64(rank), payload: empty, to: peer, deadline: deadline)
        }
        for peer in 0..<rank {
            try receiveHeader(.hello, count: UInt64(peer), from: peer, deadline: deadline)
            try receivePayload(into: emptyTarget, from: peer, deadline: deadline)
        }
    }
}
