// RadixServe: the catalogue of compute devices a command can name with `--backend`.

import BackendCPU
import BackendReference
import Backends

/// Every compiled-in device. A new accelerator registers here and must pass the conformance suite.
public enum BackendCatalog {
    /// All devices, the default first.
    public static let allDevices: [any ComputeDevice] = [CPUDevice(), ReferenceDevice()]

    /// Names accepted by `--backend`.
    public static var names: [String] { allDevices.map(\.name) }

    /// The device called `name`, or an error listing the known ones.
    public static func device(named name: String) throws -> any ComputeDevice {
        guard let device = allDevices.first(where: { $0.name == name }) else {
            throw BackendError(.invalidArgument, "unknown backend '\(name)'; available: \(names.joined(separator: ", "))")
        }
        return device
    }
}
