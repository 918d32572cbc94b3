import Foundation
import Transport
import WireProtocol
import WorkerConformance

/// A ``ScriptedWorkerState`` behind a DEALER socket on a thread of its own, which the kit drives
/// as its worker process: `terminate()` starts the drain, and the thread's end is its exit (status 0).
final class ScriptedWorker: WorkerProcessControl, @unchecked Sendable {
    // @unchecked: the flags are guarded by `lock`; the socket and state live on the worker's thread.
    private let lock = NSCondition()
    private var isTerminateRequested = false
    private var isStopRequested = false
    private var hasExited = false

    /// Connects to the kit at `endpoint` and starts serving.
    init(endpoint: String, faults: WorkerFaults) {
        Thread { [self] in
            serve(endpoint: endpoint, faults: faults)
            lock.withLock {
                hasExited = true
                lock.broadcast()
            }
        }.start()
    }

    func terminate() { lock.withLock { isTerminateRequested = true } }

    func exit() -> WorkerExit? { lock.withLock { hasExited ? .status(0) : nil } }

    func forceStop() {
        lock.withLock {
            isStopRequested = true
            while !hasExited { lock.wait() }
        }
    }

    private func serve(endpoint: String, faults: WorkerFaults) {
        guard let context = try? ZMQContext(), let socket = try? ZMQSocket(.dealer, context: context) else { return }
        defer { socket.close() }
        var state = ScriptedWorkerState(faults: faults)
        try? socket.setRoutingID(withUnsafeBytes(of: state.registration.workerID.littleEndian) { Array($0) })
        guard (try? socket.connect(endpoint)) != nil else { return }
        func send(_ messages: [WorkerToRouter]) {
            for message in messages { _ = try? socket.send(message.encoded, timeout: .milliseconds(100)) }
        }
        let clock = ContinuousClock()
        var nextStep = clock.now
        var isDrainStarted = false
        while !state.hasLeft {
            let (terminate, stop) = lock.withLock { (isTerminateRequested, isStopRequested) }
            if stop { return }
            if terminate && !isDrainStarted {
                isDrainStarted = true
                send(state.drain())
            }
            send(state.tick(now: clock.now))
            if let frames = try? socket.receive(timeout: .milliseconds(1)), frames.count == 1 {
                send(state.receive(frames[0], now: clock.now))
            }
            if clock.now >= nextStep {
                send(state.step())
                nextStep = clock.now.advanced(by: .milliseconds(3))
            }
        }
    }
}
