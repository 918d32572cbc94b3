import BackendCatalog
import BackendPlugin
import Backends
import Foundation
import Testing
import TestSupport

/// Loading a plugin library: each way it can be wrong gives an error naming the library and what
/// is wrong, and the reference plugin's memory is the device's own (no host address).
@Suite struct PluginLoaderTests {
    func loadError(_ backend: String) -> BackendError? {
        #expect(throws: BackendError.self) { _ = try BackendCatalog.device(named: backend) }
    }

    /// A shared library built from `source` against the ABI header (clang ships with Swift).
    func buildPlugin(_ source: String) throws -> URL {
        let directory = try Fixtures.temporaryDirectory()
        let file = directory.appendingPathComponent("plugin.c")
        let library = directory.appendingPathComponent("libstub.so")
        try source.write(to: file, atomically: true, encoding: .utf8)
        let clang = Process()
        clang.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        clang.arguments = ["clang", "-shared", "-fPIC", "-I", Fixtures.pluginHeaders.path, file.path, "-o", library.path]
        try clang.run()
        clang.waitUntilExit()
        try #require(clang.terminationStatus == 0, "clang could not build the stub plugin")
        return library
    }

    static func stub(major: Int, name: String = "stub") -> String {
        """
        #include "radixserve/backend.h"
        static const rs_plugin_api api = {
            .abi_major = \(major), .abi_minor = 3, .struct_size = sizeof(rs_plugin_api), .name = "\(name)" };
        const rs_plugin_api *radixserve_backend_plugin(void) { return &api; }
        """
    }

    @Test func missingFileIsNamed() {
        let error = loadError("plugin:/nonexistent/libnothing.so")
        #expect(error?.message == "backend plugin /nonexistent/libnothing.so does not exist")
    }

    @Test func aFileThatIsNotALibraryIsRefused() throws {
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("libtext.so")
        try "not an ELF file".write(to: file, atomically: true, encoding: .utf8)
        #expect(loadError("plugin:" + file.path)?.message.hasPrefix("cannot load backend plugin \(file.path): ") == true)
    }

    @Test func aLibraryWithoutTheEntryPointIsRefused() {
        let library = Fixtures.referencePlugin.deletingLastPathComponent().appendingPathComponent("libRadixServeMallocCounter.so")
        let error = loadError("plugin:" + library.path)
        #expect(error?.message.contains("is not a RadixServe backend plugin: it does not export radixserve_backend_plugin") == true)
    }

    @Test func anotherMajorVersionIsRefusedNamingBoth() throws {
        let library = try buildPlugin(Self.stub(major: 2))
        let error = loadError("plugin:" + library.path)
        #expect(
            error?.message.contains("was built for plugin ABI 2.3, but this server implements ABI 1.\(PluginLibrary.hostVersion.minor)")
                == true, "\(String(describing: error))")
    }

    @Test func aMissingRequiredFunctionIsNamed() throws {
        let library = try buildPlugin(Self.stub(major: 1))
        let error = loadError("plugin:" + library.path)
        #expect(error?.message == "backend plugin \(library.path) does not implement the required function 'init'")
    }

    /// A plugin whose every required entry is there but which claims on-device top-k without the
    /// `top_k` entry is refused at load, naming the hook and the function.
    @Test func aClaimedHookWithoutItsFunctionIsRefused() throws {
        let required = [
            "memory_info", "create_backend", "destroy_backend", "allocate", "release_buffer", "upload", "download",
            "kv_cache_bytes_per_page", "create_kv_cache", "release_kv_cache", "begin_step", "end_step", "embedding",
            "matmul", "rms_norm", "rope_table", "rope", "store_kv", "attention", "silu_mul", "add", "gather_rows",
            "synchronize",
        ]
        let library = try buildPlugin("""
            #include "radixserve/backend.h"
            static rs_status ok(void) { return RS_OK; }
            static rs_status init(void) { return RS_OK; }
            static const char *last_error(rs_backend *b) { (void)b; return ""; }
            static rs_status capabilities(rs_capabilities *c) {
                *c = (rs_capabilities){ .weight_dtypes = 1, .kv_cache_dtypes = 1, .page_size_multiple = 1,
                    .max_threads = 1, .hooks = RS_HOOK_DEVICE_TOP_K, .max_top_k = 8 };
                return RS_OK;
            }
            #define STUB(entry) .entry = (__typeof__(((rs_plugin_api *)0)->entry))ok
            static const rs_plugin_api api = {
                .abi_major = RS_ABI_VERSION_MAJOR, .abi_minor = RS_ABI_VERSION_MINOR, .struct_size = sizeof(rs_plugin_api),
                .name = "hook-stub", .init = init, .last_error = last_error, .get_capabilities = capabilities,
                \(required.map { "STUB(\($0))" }.joined(separator: ", ")) };
            const rs_plugin_api *radixserve_backend_plugin(void) { return &api; }
            """)
        let error = loadError("plugin:" + library.path)
        #expect(
            error?.message == "backend plugin \(library.path) claims the on-device top-k hook but does not implement its function 'top_k'",
            "\(String(describing: error))")
    }

    @Test func pluginWithoutAPathSaysWhereToPutIt() {
        let error = #expect(throws: BackendError.self) { _ = try BackendCatalog.device(named: "plugin", environment: [:]) }
        #expect(error?.message.contains("RADIXSERVE_BACKEND_PLUGIN") == true)
        let device = try? BackendCatalog.device(
            named: "plugin", environment: ["RADIXSERVE_BACKEND_PLUGIN": Fixtures.referencePlugin.path])
        #expect(device?.name == "reference-c")
    }

    /// The reference plugin's buffers and its KV cache are its own memory: the host gets no address,
    /// so every path that works on it (engine, sampling, tensor parallelism) goes through uploads
    /// and downloads.
    @Test func referencePluginMemoryIsNotHostAddressable() throws {
        let device = try BackendCatalog.device(named: Fixtures.referencePluginBackend)
        #expect(!device.capabilities.hasHostVisibleBuffers && !device.capabilities.sharesHostMemory)
        #expect(device.kind == .accelerator)
        let backend = try device.makeBackend(threads: 1)
        for usage in [BufferUsage.weights, .kvCache, .compute] {
            #expect(try backend.allocate(byteCount: 256, usage: usage).hostAddress == nil)
        }
        let weights = try backend.makeWeightTensor([1, 2, 3, 4], rows: 2, columns: 2, dtype: .bf16)
        #expect(weights.hostAddress == nil)
        let tensor = try backend.makeTensor([1, 2, 3, 4, 5, 6], rows: 2, columns: 3)
        #expect(tensor.hostAddress == nil)
        #expect(backend.read(tensor.columns(1, count: 2)) == [2, 3, 5, 6])
        let before = device.memoryInfo()
        #expect(before.total > 0 && before.free <= before.total)
    }

    /// Failures of ops that returned (queued) come back from the step's end, naming the op.
    @Test func aFailingOpIsReportedByTheStep() throws {
        let backend = try BackendCatalog.device(named: Fixtures.referencePluginBackend).makeBackend(threads: 1)
        let table = try backend.makeTensor(rows: 4, columns: 3)
        let out = try backend.makeTensor(rows: 2, columns: 3)
        try backend.beginStep(StepInputs.forOp(tokenIDs: [1, 9]))  // 9 is outside the table's 4 rows
        backend.embedding(table: table, out: out)
        let error = #expect(throws: BackendError.self) { try backend.endStep() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix("backend plugin reference-c: embedding failed: ") == true, "\(String(describing: error))")
        try backend.beginStep(StepInputs.forOp(tokenIDs: [1, 3]))  // reported once; the stream goes on
        backend.embedding(table: table, out: out)
        try backend.endStep()
    }

    /// Per-token arrays of different lengths would make a plugin read past them: refused by name.
    @Test func inconsistentStepInputsAreRefused() throws {
        let backend = try BackendCatalog.device(named: Fixtures.referencePluginBackend).makeBackend(threads: 1)
        let error = #expect(throws: BackendError.self) { try backend.beginStep(StepInputs(tokenIDs: [1, 2], positions: [0])) }
        #expect(error?.message.hasPrefix("step inputs of 2 tokens have 1 positions, 0 slots") == true, "\(String(describing: error))")
    }
}
