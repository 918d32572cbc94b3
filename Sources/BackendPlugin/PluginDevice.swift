// RadixServe: a plugin's device, as the Swift contract's ComputeDevice.

import Backends
import CBackendABI

/// The device of a loaded plugin (``PluginLibrary``), with the capabilities the library read once
/// at load; backends are the plugin's execution streams (``PluginBackend``).
public struct PluginDevice: ComputeDevice {
    public let library: PluginLibrary

    /// The plugin at `path`, loaded and initialised on first use.
    /// - Throws: ``BackendError`` as ``PluginLibrary/load(path:)`` does.
    public init(path: String) throws {
        library = try PluginLibrary.load(path: path)
    }

    public var capabilities: DeviceCapabilities { library.capabilities }
    public var kind: DeviceKind { library.kind }

    /// The plugin's own name for its device, e.g. `reference-c`.
    public var name: String { library.name }

    public func memoryInfo() -> (free: Int, total: Int) {
        var free: UInt64 = 0
        var total: UInt64 = 0
        guard library.api.memory_info(&free, &total) == RS_OK else { return (0, 0) }
        return (Int(clamping: free), Int(clamping: total))
    }

    public func supports(_ op: OpDescriptor) -> Bool { capabilities.weightDTypes.contains(op.weightDType) }

    public func makeBackend(threads: Int) throws -> any ComputeBackend {
        try PluginBackend(device: self, threads: min(threads, capabilities.maxThreads))
    }
}
