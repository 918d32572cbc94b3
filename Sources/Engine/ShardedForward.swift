// One rank's share of a tensor-parallel forward pass: the local model plus its collectives.

import Backends
import Collectives
import Models

/// Time spent inside collectives, in seconds, split by operation.
public struct CommunicationTimes: Sendable {
    /// Row-parallel all-reduces (2 per layer per step).
    public var allReduce = 0.0
    /// Vocabulary-parallel logit gathers (1 per step).
    public var allGather = 0.0
    /// Step-plan broadcasts, heartbeats and shutdown (1 per step).
    public var broadcast = 0.0
    /// Number of all-reduce calls.
    public var allReduceCount = 0

    /// Sum of all operations.
    public var total: Double { allReduce + allGather + broadcast }
}

/// A sharded ``Models/LlamaModel`` wired to a ``Collectives/Communicator``: row-parallel outputs
/// are all-reduced in place, and with a vocabulary-parallel lm_head each rank's logit slice is
/// all-gathered and reassembled into full `[rows, vocab]` logits on rank 0. Where the device
/// claims a communicator of its own (``Backends/OptionalHooks/deviceCommunicator``), both go
/// through it; otherwise through `communicator`, staging through host memory when the device's
/// buffers are not host-visible.
///
/// Every rank calls ``run(_:cache:)`` with the same batch in the same order (lock-step).
/// Not thread-safe: owned by the engine thread of its rank, like the model and the communicator.
public final class ShardedForward {
    public let model: LlamaModel
    public let communicator: any Communicator
    /// Seconds inside collectives since creation.
    public internal(set) var times = CommunicationTimes()

    private let isVocabParallel: Bool
    private let sliceWidth: Int
    private var send: UnsafeMutableBufferPointer<Float>
    private var gathered: UnsafeMutableBufferPointer<Float>
    private var staging: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)
    /// Full logits on rank 0 (vocabulary-parallel only).
    private let fullLogits: Tensor?
    /// The device's own communicator, where it claims one: all-reduces and the logit gather then
    /// stay on the device's links instead of going through host staging and sockets.
    private let deviceCommunicator: (any DeviceCommunicator)?
    /// Every rank's logit slices on the device, gathered there (with ``deviceCommunicator``).
    private let deviceGathered: Tensor?

    /// Wires `model` (loaded for shard `communicator.rank` of `communicator.worldSize`) to the group.
    public init(model: LlamaModel, communicator: any Communicator) throws {
        precondition(model.shard.rank == communicator.rank && model.shard.size == communicator.worldSize,
            "model shard \(model.shard) does not match communicator rank \(communicator.rank)/\(communicator.worldSize)")
        self.model = model
        self.communicator = communicator
        let isVocabParallel = model.vocabularyRange.count != model.config.vocabularySize
        self.isVocabParallel = isVocabParallel
        sliceWidth = model.shard.vocabularySliceWidth(model.config)
        let rows = model.maxLogitRows
        send = .allocate(capacity: isVocabParallel ? rows * sliceWidth : 0)
        gathered = .allocate(capacity: isVocabParallel ? rows * sliceWidth * communicator.worldSize : 0)
        fullLogits = isVocabParallel && communicator.rank == 0
            ? try model.backend.makeTensor(rows: rows, columns: model.config.vocabularySize) : nil
        let backend = model.backend
        if communicator.worldSize > 1 && backend.device.capabilities.hooks.contains(.deviceCommunicator) {
            // NCCL's bootstrap: rank 0's id travels over the host sockets, then every rank joins.
            var id = communicator.rank == 0 ? try backend.makeCommunicatorID() : []
            try communicator.broadcast(&id, root: 0)
            deviceCommunicator = try backend.makeCommunicator(id: id, rank: communicator.rank, worldSize: communicator.worldSize)
        } else {
            deviceCommunicator = nil
        }
        // The device gathers logit slices only when every rank's is equally wide (no padding to
        // strip): decided from the vocabulary, so every rank takes the same path.
        deviceGathered = deviceCommunicator != nil && isVocabParallel && model.config.vocabularySize % communicator.worldSize == 0
            ? try backend.makeTensor(rows: rows * communicator.worldSize, columns: sliceWidth) : nil
        if communicator.worldSize > 1 {
            model.allReduce = { [unowned self] tensor in try self.allReduce(tensor) }
            model.isAllReduceOnDevice = deviceCommunicator != nil
        }
    }

    deinit {
        model.allReduce = nil
        send.deallocate()
        gathered.deallocate()
        staging.deallocate()
    }

    /// Where this rank's collectives go, for logs: `the device communicator` or `host sockets`.
    public var collectivesPath: String { deviceCommunicator == nil ? "host sockets" : "the device communicator" }

    /// Runs this rank's share of one step. Returns the full logits on rank 0 and `nil` elsewhere.
    public func run(_ batch: StepInputs, cache: any KVCacheStorage) throws -> Tensor? {
        let local = try model.forward(batch, cache: cache)
        guard isVocabParallel else { return communicator.rank == 0 ? local : nil }
        let rows = local.rows
        let width = sliceWidth
        let localCount = model.vocabularyRange.count
        let chunk = rows * width
        if let deviceCommunicator, let deviceGathered {
            let start = ContinuousClock.now
            let stacked = deviceGathered.rows(0, count: rows * communicator.worldSize)
            try deviceCommunicator.allGather(local, into: stacked)
            times.allGather += (ContinuousClock.now - start).seconds
            guard communicator.rank == 0 else { return nil }
            model.backend.download(
                stacked, into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: gathered[..<(chunk * communicator.worldSize)])))
            return assemble(rows: rows, into: fullLogits!)
        }
        let source = hostFloats(local, count: rows * localCount)
        for row in 0..<rows {
            let target = send.baseAddress! + row * width
            target.update(from: source + row * localCount, count: localCount)
            (target + localCount).update(repeating: 0, count: width - localCount)
        }
        let start = ContinuousClock.now
        try communicator.allGather(
            send: UnsafeBufferPointer(rebasing: send[..<chunk]),
            into: UnsafeMutableBufferPointer(rebasing: gathered[..<(chunk * communicator.worldSize)]))
        times.allGather += (ContinuousClock.now - start).seconds
        guard communicator.rank == 0 else { return nil }
        return assemble(rows: rows, into: fullLogits!)
    }

    // MARK: - Collectives

    /// Sums a contiguous f32 activation across the group, in place when it is host-visible.
    private func allReduce(_ tensor: Tensor) throws {
        precondition(tensor.dtype == .f32 && tensor.isContiguous, "all-reduce needs a contiguous f32 tensor")
        let count = tensor.elementCount
        let start = ContinuousClock.now
        defer {
            times.allReduce += (ContinuousClock.now - start).seconds
            times.allReduceCount += 1
        }
        if let deviceCommunicator { return try deviceCommunicator.allReduceSum(tensor) }
        if let address = tensor.hostAddress {
            try communicator.allReduceSum(UnsafeMutableBufferPointer(start: address.assumingMemoryBound(to: Float.self), count: count))
            return
        }
        let buffer = stagingBuffer(count: count)
        model.backend.download(tensor, into: UnsafeMutableRawBufferPointer(buffer))
        try communicator.allReduceSum(buffer)
        model.backend.upload(UnsafeRawBufferPointer(buffer), to: tensor)
    }

    /// `count` floats of a contiguous tensor on the host: its own memory, or a staged download.
    private func hostFloats(_ tensor: Tensor, count: Int) -> UnsafePointer<Float> {
        if let address = tensor.hostAddress { return UnsafePointer(address.assumingMemoryBound(to: Float.self)) }
        let buffer = stagingBuffer(count: count)
        model.backend.download(tensor, into: UnsafeMutableRawBufferPointer(buffer))
        return UnsafePointer(buffer.baseAddress!)
    }

    /// Reassembles the gathered, padded slices:
    /// ```
    /// gathered: [rank 0: rows × width][rank 1: rows × width] …   (slice r covers ids r·width …)
    /// logits:   row i = rank 0 row i (first n0 ids) ‖ rank 1 row i (n1 ids) ‖ …
    /// ```
    private func assemble(rows: Int, into full: Tensor) -> Tensor {
        let vocabulary = model.config.vocabularySize
        let width = sliceWidth
        let logits = full.rows(0, count: rows)
        let host = full.hostAddress.map { $0.assumingMemoryBound(to: Float.self) } ?? stagingBuffer(count: rows * vocabulary).baseAddress!
        for rank in 0..<communicator.worldSize {
            let ids = TensorParallelShard(rank: rank, size: communicator.worldSize).localVocabulary(model.config)
            for row in 0..<rows {
                (host + row * vocabulary + ids.lowerBound).update(
                    from: gathered.baseAddress! + (rank * rows + row) * width, count: ids.count)
            }
        }
        if full.hostAddress == nil {
            model.backend.upload(UnsafeRawBufferPointer(start: host, count: rows * vocabulary * 4), to: logits)
        }
        return logits
    }

    private func stagingBuffer(count: Int) -> UnsafeMutableBufferPointer<Float> {
        if staging.count < count {
            staging.deallocate()
            staging = .allocate(capacity: count)
        }
        return UnsafeMutableBufferPointer(rebasing: staging[..<count])
    }
}
