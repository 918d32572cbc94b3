// RadixServe: loading an accelerator plugin (a shared library implementing include/radixserve/backend.h).

import Backends
import CBackendABI
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A loaded plugin: its function table, checked against this server's ABI version and
/// initialised once. Libraries stay loaded for the life of the process (a plugin's threads and
/// memory may outlive any one backend), and loading the same path again returns the same library.
public final class PluginLibrary: Sendable {
    /// The path it was loaded from.
    public let path: String
    /// The plugin's own name for its device (`rs_plugin_api.name`).
    public let name: String
    /// The ABI version the plugin was built with.
    public let version: (major: UInt32, minor: UInt32)
    /// The function table; entries past the plugin's `struct_size` are nil.
    nonisolated(unsafe) let api: rs_plugin_api
    /// The device's capabilities and kind, read once, right after `init`.
    public let capabilities: DeviceCapabilities
    public let kind: DeviceKind

    /// The ABI version of this server.
    public static let hostVersion = (major: UInt32(RS_ABI_VERSION_MAJOR), minor: UInt32(RS_ABI_VERSION_MINOR))

    private static let loaded = Mutex<[String: PluginLibrary]>([:])

    /// The plugin at `path`, loaded and initialised on first use.
    /// - Throws: ``BackendError`` `.invalidArgument` naming the path and what is wrong: no such
    ///   file, not loadable, no entry point, another ABI major version, a required function
    ///   missing; `.deviceFailure` with the plugin's message when its `init` fails.
    public static func load(path: String) throws -> PluginLibrary {
        let key = URL(fileURLWithPath: path).standardizedFileURL.path
        return try loaded.withLock { libraries in
            if let library = libraries[key] { return library }
            let library = try PluginLibrary(path: key)
            libraries[key] = library
            return library
        }
    }

    private init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw BackendError(.invalidArgument, "backend plugin \(path) does not exist")
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw BackendError(.invalidArgument, "cannot load backend plugin \(path): \(reason)")
        }
        var isLoaded = false
        defer { if !isLoaded { dlclose(handle) } }
        guard let symbol = dlsym(handle, RS_PLUGIN_ENTRY_POINT) else {
            throw BackendError(
                .invalidArgument,
                "\(path) is not a RadixServe backend plugin: it does not export \(RS_PLUGIN_ENTRY_POINT) (see include/radixserve/backend.h)")
        }
        let entry = unsafeBitCast(symbol, to: rs_plugin_entry.self)
        guard let table = entry() else {
            throw BackendError(.invalidArgument, "backend plugin \(path): \(RS_PLUGIN_ENTRY_POINT) returned no function table")
        }
        let major = table.pointee.abi_major
        let minor = table.pointee.abi_minor
        let host = Self.hostVersion
        guard major == host.major else {
            throw BackendError(
                .invalidArgument,
                "backend plugin \(path) was built for plugin ABI \(major).\(minor), but this server implements ABI "
                    + "\(host.major).\(host.minor); rebuild the plugin against this server's include/radixserve/backend.h")
        }
        // Read only the entries the plugin knows; later ones stay nil.
        var api = rs_plugin_api()
        let size = min(Int(table.pointee.struct_size), MemoryLayout<rs_plugin_api>.size)
        withUnsafeMutableBytes(of: &api) { $0.copyMemory(from: UnsafeRawBufferPointer(start: table, count: size)) }
        let name = api.name.map { String(cString: $0) } ?? "plugin"
        if let missing = Self.missingRequiredEntry(api) {
            throw BackendError(.invalidArgument, "backend plugin \(path) does not implement the required function '\(missing)'")
        }
        let status = api.`init`()
        guard status == RS_OK else {
            throw BackendError(
                PluginStatus.code(status),
                "backend plugin \(path) failed to initialise: \(Self.lastError(api, nil, status: status))")
        }
        var raw = rs_capabilities()
        let capabilityStatus = api.get_capabilities(&raw)
        guard capabilityStatus == RS_OK else {
            throw BackendError(
                PluginStatus.code(capabilityStatus),
                "backend plugin \(name): get_capabilities failed: \(Self.lastError(api, nil, status: capabilityStatus))")
        }
        self.path = path
        self.name = name
        self.version = (major, minor)
        self.api = api
        capabilities = PluginStatus.capabilities(raw)
        kind = PluginStatus.kind(raw.kind)
        // A claimed hook needs every entry it names.
        if let missing = Self.missingHookEntry(api, hooks: capabilities.hooks) {
            throw BackendError(
                .invalidArgument,
                "backend plugin \(path) claims the \(missing.hook) hook but does not implement its function '\(missing.entry)'")
        }
        isLoaded = true
    }

    /// The first required entry the table lacks, by its C name.
    private static func missingRequiredEntry(_ api: rs_plugin_api) -> String? {
        let required: [(String, Bool)] = [
            ("init", api.`init` != nil), ("last_error", api.last_error != nil), ("get_capabilities", api.get_capabilities != nil),
            ("memory_info", api.memory_info != nil), ("create_backend", api.create_backend != nil),
            ("destroy_backend", api.destroy_backend != nil), ("allocate", api.allocate != nil),
            ("release_buffer", api.release_buffer != nil), ("upload", api.upload != nil), ("download", api.download != nil),
            ("kv_cache_bytes_per_page", api.kv_cache_bytes_per_page != nil), ("create_kv_cache", api.create_kv_cache != nil),
            ("release_kv_cache", api.release_kv_cache != nil), ("begin_step", api.begin_step != nil),
            ("end_step", api.end_step != nil), ("embedding", api.embedding != nil), ("matmul", api.matmul != nil),
            ("rms_norm", api.rms_norm != nil), ("rope_table", api.rope_table != nil), ("rope", api.rope != nil),
            ("store_kv", api.store_kv != nil), ("attention", api.attention != nil), ("silu_mul", api.silu_mul != nil),
            ("add", api.add != nil), ("gather_rows", api.gather_rows != nil), ("synchronize", api.synchronize != nil),
        ]
        return required.first { !$0.1 }?.0
    }

    /// The first entry of a hook the capabilities claim that the table lacks, with the hook.
    private static func missingHookEntry(_ api: rs_plugin_api, hooks: OptionalHooks) -> (entry: String, hook: OptionalHooks)? {
        let claimed: [(OptionalHooks, [(String, Bool)])] = [
            (.deviceArgmax, [("argmax", api.argmax != nil)]), (.deviceTopK, [("top_k", api.top_k != nil)]),
            (.deviceCommunicator, [
                ("communicator_id", api.communicator_id != nil), ("create_communicator", api.create_communicator != nil),
                ("release_communicator", api.release_communicator != nil), ("all_reduce_sum", api.all_reduce_sum != nil),
                ("all_gather", api.all_gather != nil),
            ]),
            (.stepCapture, [
                ("capture_begin", api.capture_begin != nil), ("capture_end", api.capture_end != nil),
                ("replay", api.replay != nil), ("release_graph", api.release_graph != nil),
            ]),
            (.fusedNormMatmul, [("rms_norm_matmul", api.rms_norm_matmul != nil)]),
        ]
        for (hook, entries) in claimed where hooks.contains(hook) {
            if let missing = entries.first(where: { !$0.1 }) { return (missing.0, hook) }
        }
        return nil
    }

    /// The plugin's message for the last failure on `backend` (nil: of a plugin-level call).
    func lastError(_ backend: OpaquePointer?, status: rs_status) -> String {
        Self.lastError(api, backend, status: status)
    }

    private static func lastError(_ api: rs_plugin_api, _ backend: OpaquePointer?, status: rs_status) -> String {
        let message = api.last_error(backend).map { String(cString: $0) } ?? ""
        return message.isEmpty ? PluginStatus.name(status) : "\(message) (\(PluginStatus.name(status)))"
    }
}
