// RadixServe: the catalogue of compute devices a command can name with `--backend`.

import BackendCPU
import BackendPlugin
import BackendReference
import Backends
import Foundation

/// Every compiled-in device, and plugins loaded by path. A new accelerator either registers here
/// or ships as a plugin (include/radixserve/backend.h); either way it must pass the conformance suite.
public enum BackendCatalog {
    /// All compiled-in devices, the default first.
    public static let allDevices: [any ComputeDevice] = [CPUDevice(), ReferenceDevice()]

    /// Names of the compiled-in devices accepted by `--backend`.
    public static var names: [String] { allDevices.map(\.name) }

    /// The prefix of `--backend plugin:PATH`.
    public static let pluginPrefix = "plugin:"
    /// The environment variable naming a plugin library for `--backend plugin`.
    public static let pluginEnvironmentVariable = "RADIXSERVE_BACKEND_PLUGIN"

    /// The `--backend` of a command that names none: `plugin` when `$RADIXSERVE_BACKEND_PLUGIN`
    /// names a library, else `cpu`.
    public static func defaultName(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        environment[pluginEnvironmentVariable].map { !$0.isEmpty } == true ? "plugin" : "cpu"
    }

    /// What `--backend` accepts, for help texts.
    public static var usage: String {
        names.joined(separator: ", ") + ", or plugin:PATH.so (a plugin library; plain `plugin` reads $\(pluginEnvironmentVariable))"
    }

    /// The device called `name`: a compiled-in one, or `plugin:PATH` (loaded, checked against this
    /// server's plugin ABI and initialised on first use), or `plugin` with the path in
    /// `$RADIXSERVE_BACKEND_PLUGIN`.
    /// - Throws: ``Backends/BackendError`` naming the known devices, or what is wrong with the plugin.
    public static func device(
        named name: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> any ComputeDevice {
        if let device = allDevices.first(where: { $0.name == name }) { return device }
        if name == "plugin" {
            guard let path = environment[pluginEnvironmentVariable], !path.isEmpty else {
                throw BackendError(.invalidArgument, "--backend plugin needs a library path: plugin:PATH.so or $\(pluginEnvironmentVariable)")
            }
            return try PluginDevice(path: path)
        }
        if name.hasPrefix(pluginPrefix) {
            let path = String(name.dropFirst(pluginPrefix.count))
            guard !path.isEmpty else { throw BackendError(.invalidArgument, "--backend plugin: needs a library path after the colon") }
            return try PluginDevice(path: path)
        }
        throw BackendError(.invalidArgument, "unknown backend '\(name)'; available: \(usage)")
    }

    /// A new backend of the device called `name` (see ``device(named:environment:)``) with
    /// `threads` threads, storing matmul weights as `quantization` (`--quantize`).
    /// - Throws: what ``device(named:environment:)`` throws, or ``Backends/BackendError``
    ///   `.missingCapability` when the device cannot quantize weights so.
    public static func makeBackend(
        named name: String, threads: Int, quantization: WeightQuantization = .none
    ) throws -> any ComputeBackend {
        let backend = try device(named: name).makeBackend(threads: threads)
        try backend.enableWeightQuantization(quantization)
        return backend
    }
}
