/// One rank's end of a device's own communicator (optional hook
/// ``OptionalHooks/deviceCommunicator``): collectives over the device's links (NCCL's model)
/// instead of the host's sockets. Every call is collective: each rank of the group makes the same
/// calls with the same shapes in the same order, on the thread that owns its backend.
public protocol DeviceCommunicator: AnyObject {
    var rank: Int { get }
    var worldSize: Int { get }

    /// `tensor` (contiguous f32) becomes the elementwise sum of every rank's, in rank order.
    func allReduceSum(_ tensor: Tensor) throws

    /// `out` (`[worldSize × tensor.rows, tensor.columns]`, contiguous f32) becomes every rank's
    /// `tensor` stacked in rank order.
    func allGather(_ tensor: Tensor, into out: Tensor) throws
}

/// A step's ops recorded once by a device (optional hook ``OptionalHooks/stepCapture``), replayed
/// for later steps of the same shape (``ComputeBackend/replay(_:)``).
public protocol CapturedStep: AnyObject {}
