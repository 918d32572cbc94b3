import BackendCatalog
import Backends
import TestSupport

/// A device with narrower capabilities than the reference it computes with: to prove that the
/// model and engine paths read a device's capabilities, not its name or kind.
struct NarrowDevice: ComputeDevice {
    var capabilities: DeviceCapabilities
    var name: String { "narrow" }
    var kind: DeviceKind { .accelerator }
    func memoryInfo() -> (free: Int, total: Int) { HostMemory.info() }
    func supports(_ op: OpDescriptor) -> Bool { capabilities.weightDTypes.contains(op.weightDType) }
    func makeBackend(threads: Int) throws -> any ComputeBackend {
        NarrowBackend(device: self, base: try BackendCatalog.device(named: "reference").makeBackend(threads: 1))
    }
}

/// Forwards every op to `base`, reporting ``NarrowDevice`` as its device and refusing the KV
/// caches it does not claim.
final class NarrowBackend: ForwardingBackend {
    let narrow: NarrowDevice

    init(device: NarrowDevice, base: any ComputeBackend) {
        narrow = device
        super.init(base: base)
    }

    override var device: any ComputeDevice { narrow }
    override func kvCacheBytesPerPage(_ spec: KVCacheSpec) throws -> Int {
        try narrow.checkKVCache(spec)
        return try base.kvCacheBytesPerPage(spec)
    }
    override func makeKVCache(_ spec: KVCacheSpec) throws -> any KVCacheStorage {
        try narrow.checkKVCache(spec)
        return try base.makeKVCache(spec)
    }
}
