import Synchronization

/// Bytes that crossed between host memory and a device through a backend's calls.
public struct HostTransferTotals: Sendable, Hashable {
    /// Uploads, weights, step inputs and other host arrays handed to the device.
    public var toDevice = 0
    /// Downloads and results of on-device sampling.
    public var toHost = 0

    public init(toDevice: Int = 0, toHost: Int = 0) {
        self.toDevice = toDevice
        self.toHost = toHost
    }

    public static func - (a: Self, b: Self) -> Self {
        Self(toDevice: a.toDevice - b.toDevice, toHost: a.toHost - b.toHost)
    }
}

/// Running totals of one backend's host↔device traffic, readable from any thread (the engine
/// thread adds; a benchmark reads between requests).
public final class HostTransferCounter: Sendable {
    private let state = Mutex(HostTransferTotals())

    public init() {}

    public var totals: HostTransferTotals { state.withLock { $0 } }

    public func add(toDevice: Int = 0, toHost: Int = 0) {
        state.withLock {
            $0.toDevice += toDevice
            $0.toHost += toHost
        }
    }
}
