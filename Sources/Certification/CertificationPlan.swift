// RadixServe: what one `radixserve certify` run checks, and on what.

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
