import Certification
import Foundation

/// Paths of the committed test fixtures (`Tests/Fixtures`), found relative to this source file so
/// tests need neither resource bundles nor Python.
public enum Fixtures {
    /// `Tests/Fixtures` of this checkout.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/Fixtures")

    /// The bundled demo model (`models/demo` of the repository).
    public static let demoModel: URL = root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models/demo")

    /// The directory of tiny checkpoint `name`; `demo` is the bundled demo model.
    public static func model(_ name: String) -> URL {
        name == "demo" ? demoModel : root.appendingPathComponent("models/\(name)")
    }

    /// Every tiny checkpoint, by name.
    public static let modelNames: [String] = [
        "llama-gqa", "llama-linear-bf16", "mistral-mqa-f16", "qwen2-bias", "qwen3-qknorm", "llama-sharded", "llama-tp4",
    ]

    /// Every checkpoint with transformers' reference outputs: the tiny fixtures and the demo model.
    public static let parityModelNames: [String] = modelNames + ["demo"]

    /// The reference accelerator plugin (`Sources/ReferencePlugin`), built beside the executable.
    public static let referencePlugin: URL = ProcessHarness.executable.deletingLastPathComponent()
        .appendingPathComponent("libRadixServeReferencePlugin.so")

    /// `--backend` for the reference plugin.
    public static let referencePluginBackend = "plugin:" + referencePlugin.path

    /// `--backend` for the OpenCL plugin (`Sources/OpenCLPlugin`), or nil where it was not built
    /// (no OpenCL headers on the build machine).
    public static let openCLPluginBackend: String? = {
        let library = referencePlugin.deletingLastPathComponent().appendingPathComponent("libRadixServeOpenCLPlugin.so")
        return FileManager.default.fileExists(atPath: library.path) ? "plugin:" + library.path : nil
    }()

    /// Every plugin built here: the reference plugin, and the OpenCL plugin where it was built.
    public static let pluginBackends: [String] = [referencePluginBackend] + (openCLPluginBackend.map { [$0] } ?? [])

    /// The directory of the plugin ABI's header (`radixserve/backend.h`), for plugins built by tests.
    public static let pluginHeaders: URL = root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/CBackendABI/include")

    /// A fresh empty temporary directory.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("radixserve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// transformers' outputs for a checkpoint (`reference.json`, docs/REFERENCE_FORMAT.md).
public typealias ModelReference = ReferenceFile

extension ReferenceFile {
    /// Loads the reference of fixture `name` (or `demo`).
    public static func load(_ name: String) throws -> ReferenceFile {
        try load(model: Fixtures.model(name))
    }
}
