// RadixServe: a plugin's device, as the Swift contract's ComputeDevice.

import Backends
import CBackendABI

/// The device of a loaded plugin (``PluginLibrary``). Its capabilities are read once, when the
/// device is made; backends are the plugin's execution streams (``PluginBackend``).
public struct PluginDevice: ComputeDevice {
    public let library: PluginLibrary
    public let capabilities: DeviceCapabilities
    public let kind: DeviceKind

    /// Reads the capabilities of the plugin at `path` (loading it first).
    /// - Throws: ``BackendError`` as ``PluginLibrary/load(path:)`` and `get_capabilities` do.
    public init(path: String) throws {
        library = try PluginLibrary.load(path: path)
        capabilities = try library.capabilities()
        var raw = rs_capabilities()
        _ = library.api.get_capabilities(&raw)
        kind = PluginStatus.kind(raw.kind)
    }

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
