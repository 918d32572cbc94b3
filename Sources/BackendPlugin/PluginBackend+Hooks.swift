// RadixServe: a plugin's device communicator and step capture (optional hooks of the C ABI).

import Backends
import CBackendABI

extension PluginBackend {
    public func makeCommunicatorID() throws -> [UInt8] {
        let makeID = try hook(.deviceCommunicator, stream.library.api.communicator_id, "device communicator")
        var id = [UInt8](repeating: 0, count: Int(RS_COMMUNICATOR_ID_BYTES))
        try stream.check(id.withUnsafeMutableBufferPointer { makeID(stream.handle, $0.baseAddress) }, "communicator_id")
        return id
    }

    public func makeCommunicator(id: [UInt8], rank: Int, worldSize: Int) throws -> any DeviceCommunicator {
        let create = try hook(.deviceCommunicator, stream.library.api.create_communicator, "device communicator")
        guard id.count == Int(RS_COMMUNICATOR_ID_BYTES) else {
            throw BackendError(.invalidArgument, "a communicator id has \(RS_COMMUNICATOR_ID_BYTES) bytes, got \(id.count)")
        }
        var handle: OpaquePointer?
        let status = id.withUnsafeBufferPointer { create(stream.handle, $0.baseAddress, Int32(rank), Int32(worldSize), &handle) }
        try stream.check(status, "create_communicator(rank \(rank) of \(worldSize))")
        return PluginCommunicator(backend: self, handle: handle!, rank: rank, worldSize: worldSize)
    }

    public func rmsNormMatmul(_ x: Tensor, normWeight: Tensor, epsilon: Float, weight: Tensor, bias: Tensor?, out: Tensor) {
        guard let fused = stream.library.api.rms_norm_matmul else {
            preconditionFailure("backend plugin \(pluginDevice.name) has no rms_norm_matmul; core must not call it")
        }
        var (a, n, w, o) = (tensor(x), tensor(normWeight), tensor(weight), tensor(out))
        let status: rs_status
        if let bias {
            var b = tensor(bias)
            status = fused(stream.handle, &a, &n, epsilon, &w, &b, &o)
        } else {
            status = fused(stream.handle, &a, &n, epsilon, &w, nil, &o)
        }
        stream.record(status, "rms_norm_matmul")
    }

    public func beginCapture() throws {
        let begin = try hook(.stepCapture, stream.library.api.capture_begin, "step capture")
        try stream.check(begin(stream.handle), "capture_begin")
    }

    public func endCapture() throws -> any CapturedStep {
        let end = try hook(.stepCapture, stream.library.api.capture_end, "step capture")
        var graph: OpaquePointer?
        try stream.check(end(stream.handle, &graph), "capture_end")
        let step = PluginGraph(stream: stream, handle: graph!)  // released if an op failed while recording
        try stream.throwPending()
        return step
    }

    public func replay(_ step: any CapturedStep) throws {
        let replay = try hook(.stepCapture, stream.library.api.replay, "step capture")
        guard let graph = step as? PluginGraph, graph.stream === stream else {
            preconditionFailure("a captured step of another backend was passed to plugin \(pluginDevice.name)")
        }
        try stream.check(replay(stream.handle, graph.handle), "replay")
    }

    /// The entry of a hook the device claims, or an error naming what it lacks.
    private func hook<Entry>(_ flag: OptionalHooks, _ entry: Entry?, _ name: String) throws -> Entry {
        guard pluginDevice.capabilities.hooks.contains(flag), let entry else {
            throw BackendError(.missingCapability, "backend plugin \(pluginDevice.name) has no \(name)")
        }
        return entry
    }
}

/// One rank's end of a plugin's communicator; its calls go through the backend's stream.
final class PluginCommunicator: DeviceCommunicator {
    let backend: PluginBackend
    let handle: OpaquePointer
    let rank: Int
    let worldSize: Int

    init(backend: PluginBackend, handle: OpaquePointer, rank: Int, worldSize: Int) {
        self.backend = backend
        self.handle = handle
        self.rank = rank
        self.worldSize = worldSize
    }

    deinit {
        backend.stream.library.api.release_communicator?(backend.stream.handle, handle)
    }

    func allReduceSum(_ tensor: Tensor) throws {
        var x = backend.tensor(tensor)
        try backend.stream.check(backend.stream.library.api.all_reduce_sum(backend.stream.handle, handle, &x), "all_reduce_sum")
    }

    func allGather(_ tensor: Tensor, into out: Tensor) throws {
        var (x, o) = (backend.tensor(tensor), backend.tensor(out))
        try backend.stream.check(backend.stream.library.api.all_gather(backend.stream.handle, handle, &x, &o), "all_gather")
    }
}

/// A step a plugin recorded.
final class PluginGraph: CapturedStep {
    let stream: PluginStream
    let handle: OpaquePointer

    init(stream: PluginStream, handle: OpaquePointer) {
        self.stream = stream
        self.handle = handle
    }

    deinit {
        stream.library.api.release_graph?(stream.handle, handle)
    }
}
