// RadixServe: what one `radixserve certify` run checks, and on what.

import BackendCatalog
import Backends
import Foundation

/// The backend under test, the baseline and the references, and how much to run.
public struct CertificationPlan {
    /// The name the backend was given by (`cpu`, `plugin:PATH`): labels the report and, where
    /// ``rankBackend`` is nil, names it.
    public var backendName: String
    public var device: any ComputeDevice
    public var baselineName: String
    public var baselineDevice: any ComputeDevice
    /// The device every op is compared against (`reference`: plain loops in f32 and f64).
    public var referenceDevice: any ComputeDevice
    /// Checkpoint directories, each with a `reference.json` (docs/REFERENCE_FORMAT.md).
    public var models: [URL]
    public var sections: [CertificationSection]
    /// More shapes and longer generations (`--full`).
    public var isFull: Bool
    /// Compute threads of each backend.
    public var threads: Int
    /// The `--backend` spawned tensor-parallel ranks are given, or nil where ranks cannot be
    /// spawned (a device that exists only in this process): the TP check is then skipped.
    public var rankBackend: String?
    /// Fail a performance check whose ratio to the baseline is below this (`--min-ratio`); nil:
    /// performance is measured, not judged.
    public var minimumRatio: Double?
    /// Progress lines (stderr in the command).
    public var progress: @Sendable (String) -> Void

    public init(
        backendName: String, device: any ComputeDevice, baselineName: String, baselineDevice: any ComputeDevice,
        referenceDevice: any ComputeDevice, models: [URL], sections: [CertificationSection] = CertificationSection.allCases,
        isFull: Bool = false, threads: Int = 2, rankBackend: String? = nil, minimumRatio: Double? = nil,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.backendName = backendName
        self.device = device
        self.baselineName = baselineName
        self.baselineDevice = baselineDevice
        self.referenceDevice = referenceDevice
        self.models = models
        self.sections = sections.sorted()
        self.isFull = isFull
        self.threads = threads
        self.rankBackend = rankBackend
        self.minimumRatio = minimumRatio
        self.progress = progress
    }
}

extension CertificationPlan {
    /// The plan of a `radixserve certify` command line: devices resolved through the catalogue
    /// (plugins loaded and initialised), `only` parsed, models checked for a reference file.
    /// `models` empty: `defaultModels`.
    /// - Throws: ``CertificationPlanError`` naming the flag and what is wrong with it.
    public init(
        backend: String, baseline: String, models: [String], defaultModels: [URL], only: String?, isFull: Bool,
        threads: Int, minimumRatio: Double?, progress: @escaping @Sendable (String) -> Void
    ) throws {
        func device(_ name: String, _ flag: String) throws -> any ComputeDevice {
            do { return try BackendCatalog.device(named: name) } catch { throw CertificationPlanError("\(flag): \(error)") }
        }
        guard threads >= 0 else { throw CertificationPlanError("--threads must be ≥ 0, got \(threads)") }
        if let minimumRatio, !(minimumRatio > 0) {
            throw CertificationPlanError("--min-ratio must be a positive number, got \(minimumRatio)")
        }
        let directories = models.isEmpty ? defaultModels : models.map { URL(fileURLWithPath: $0) }
        for directory in directories {
            guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("config.json").path) else {
                throw CertificationPlanError("--model \(directory.path): no config.json there")
            }
            guard FileManager.default.fileExists(atPath: ReferenceFile.url(model: directory).path) else {
                throw CertificationPlanError(
                    "--model \(directory.path): no reference.json; write one with scripts/make-reference.py \(directory.path)")
            }
        }
        self.init(
            backendName: backend, device: try device(backend, "--backend"), baselineName: baseline,
            baselineDevice: try device(baseline, "--baseline"), referenceDevice: try device("reference", "reference"),
            models: directories, sections: try CertificationSection.parse(only), isFull: isFull,
            threads: threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount, rankBackend: backend,
            minimumRatio: minimumRatio, progress: progress)
    }

    /// The models certified when none is named: the bundled demo model first (the engine and
    /// performance sections run on the first), then the test fixtures beside it in the repository
    /// (`Tests/Fixtures/models/*` with a `reference.json`).
    public static func defaultModels(demo: URL) -> [URL] {
        let fixtures = demo.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/Fixtures/models")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []
        return [demo] + names.sorted().map { fixtures.appendingPathComponent($0) }.filter {
            FileManager.default.fileExists(atPath: ReferenceFile.url(model: $0).path)
        }
    }
}

extension CertificationSection {
    /// `--only`: comma-separated section names; nil or empty: all.
    public static func parse(_ text: String?) throws -> [CertificationSection] {
        guard let text, !text.isEmpty else { return allCases }
        return try text.split(separator: ",").map {
            let name = $0.trimmingCharacters(in: .whitespaces)
            guard let section = CertificationSection(rawValue: name) else {
                throw CertificationPlanError(
                    "--only: unknown section '\(name)'; sections: \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return section
        }
    }
}

/// A `radixserve certify` flag that cannot be used.
public struct CertificationPlanError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
