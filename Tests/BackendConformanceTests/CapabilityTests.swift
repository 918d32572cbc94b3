import BackendCatalog
import Backends
import Testing
import TestSupport

/// Capabilities are data a device is held to: every claimed KV dtype can be allocated, every
/// other one is refused by name; and each kind of requirement a device misses gives an error
/// that names the device, the capability and what the device offers instead.
@Suite struct CapabilityTests {
    static let spec = KVCacheSpec(layerCount: 2, kvHeadCount: 2, headDim: 8, pageSize: 4, pageCount: 3)

    @Test(arguments: BackendConformanceTests.devices, DType.allCases)
    func kvCacheDTypeClaimsAreHonest(device name: String, dtype: DType) throws {
        let device = try BackendCatalog.device(named: name)
        let backend = try device.makeBackend(threads: 1)
        var spec = Self.spec
        spec.dtype = dtype
        if device.capabilities.kvCacheDTypes.contains(dtype) {
            let cache = try backend.makeKVCache(spec)
            #expect(cache.spec == spec)
            let bytesPerPage = try backend.kvCacheBytesPerPage(spec)
            #expect(cache.bytesPerPage == bytesPerPage)
        } else {
            for attempt in [{ _ = try backend.makeKVCache(spec) }, { _ = try backend.kvCacheBytesPerPage(spec) }] {
                let error = #expect(throws: BackendError.self) { try attempt() }
                #expect(error?.code == .missingCapability)
                #expect(error?.message.contains("device '\(device.name)'") == true)
                #expect(error?.message.contains("KV cache dtype \(dtype) is not supported") == true)
            }
        }
    }

    @Test func referenceIsF32OnlyAndSaysSo() throws {
        let device = try BackendCatalog.device(named: "reference")
        let error = #expect(throws: BackendError.self) { try device.check(DeviceRequirements(kvCacheDType: .bf16)) }
        #expect(error?.message == "device 'reference' cannot run this model: KV cache dtype bf16 is not supported (supports: f32)")
    }

    /// A device with a narrow offer in every field.
    static let narrow = DeviceCapabilities(
        weightDTypes: [.bf16], kvCacheDTypes: [.bf16, .f16], pageSizes: .multiples(of: 16), sharesHostMemory: false,
        hasHostVisibleBuffers: false, maxThreads: 1, maxRowsPerStep: 512, hooks: [.deviceArgmax])

    @Test(arguments: [
        (DeviceRequirements(weightDTypes: [.bf16, .f32]), "weight dtype f32 is not supported (supports: bf16)"),
        (DeviceRequirements(kvCacheDType: .f32), "KV cache dtype f32 is not supported (supports: bf16, f16)"),
        (DeviceRequirements(pageSize: 40), "page size 40 is not supported (supports: multiples of 16)"),
        (DeviceRequirements(pageSize: 0), "page size 0 is not supported (supports: multiples of 16)"),
        (DeviceRequirements(rowsPerStep: 2048), "2048 rows per step exceed its limit of 512 (lower --max-batched-tokens)"),
        (DeviceRequirements(hooks: [.deviceArgmax, .deviceTopK, .stepCapture]),
            "optional hooks on-device top-k, step capture are not implemented (implements: on-device argmax)"),
    ])
    func eachMissingCapabilityIsNamed(requirements: DeviceRequirements, phrase: String) {
        #expect(Self.narrow.missing(requirements) == [phrase])
    }

    @Test func everyMissingCapabilityIsListedAtOnce() {
        let requirements = DeviceRequirements(weightDTypes: [.f16], kvCacheDType: .f32, pageSize: 8, rowsPerStep: 513)
        #expect(Self.narrow.missing(requirements).count == 4)
        #expect(Self.narrow.missing(DeviceRequirements(weightDTypes: [.bf16], kvCacheDType: .f16, pageSize: 32,
            rowsPerStep: 512, hooks: .deviceArgmax)).isEmpty)
    }

    @Test func pageSizeRules() {
        #expect(PageSizeRule.any.allows(1) && PageSizeRule.any.allows(48) && !PageSizeRule.any.allows(0))
        #expect(PageSizeRule.multiples(of: 16).allows(32) && !PageSizeRule.multiples(of: 16).allows(8))
        #expect(PageSizeRule.oneOf([16, 64]).allows(64) && !PageSizeRule.oneOf([16, 64]).allows(32))
        #expect("\(PageSizeRule.oneOf([64, 16]))" == "16, 64")
    }

    @Test func requirementsMergeWithTheLaterValuesWinning() {
        let merged = DeviceRequirements(weightDTypes: [.f32], kvCacheDType: .f32, pageSize: 16)
            .merging(DeviceRequirements(weightDTypes: [.bf16], kvCacheDType: .bf16, hooks: .deviceTopK))
        #expect(merged == DeviceRequirements(weightDTypes: [.f32, .bf16], kvCacheDType: .bf16, pageSize: 16, hooks: .deviceTopK))
    }
}
