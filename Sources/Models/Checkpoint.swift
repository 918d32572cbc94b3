import Foundation

/// The tensors of a Hugging Face checkpoint directory: one `model.safetensors`, or shards listed by
/// `model.safetensors.index.json`. Files are memory-mapped; nothing is read until used.
public struct Checkpoint {
    public let directory: URL
    private let tensors: [String: TensorData]

    public init(directory: URL) throws {
        self.directory = directory
        let fileManager = FileManager.default
        let single = directory.appendingPathComponent("model.safetensors")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        var files: [String] = []
        if fileManager.fileExists(atPath: index.path) {
            guard let data = fileManager.contents(atPath: index.path),
                let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                let weightMap = json["weight_map"] as? [String: String]
            else { throw ModelError(.invalidCheckpoint, "\(index.path): not a valid index (needs a 'weight_map' object)") }
            files = Array(Set(weightMap.values)).sorted()
            for name in files where name.contains("/") || name.hasPrefix(".") {
                throw ModelError(.invalidCheckpoint, "\(index.path): shard name '\(name)' must be a file in the same directory")
            }
        } else if fileManager.fileExists(atPath: single.path) {
            files = ["model.safetensors"]
        } else {
            throw ModelError(.missingFile, "\(directory.path): no model.safetensors or model.safetensors.index.json")
        }
        var merged: [String: TensorData] = [:]
        for name in files {
            let shard = try SafetensorsFile(path: directory.appendingPathComponent(name).path)
            for (key, tensor) in shard.tensors {
                if merged[key] != nil {
                    throw ModelError(.invalidCheckpoint, "\(shard.file.path): tensor '\(key)' appears in more than one shard")
                }
                merged[key] = tensor
            }
        }
        tensors = merged
    }

    /// Drops every shard's mapped pages from the resident set (``MappedFile/releaseResidentPages()``).
    public func releaseResidentPages() {
        var seen: Set<ObjectIdentifier> = []
        for tensor in tensors.values where seen.insert(ObjectIdentifier(tensor.file)).inserted {
            tensor.file.releaseResidentPages()
        }
    }

    /// Names of all tensors.
    public var tensorNames: [String] { Array(tensors.keys) }

    /// Whether the checkpoint has `name`.
    public func contains(_ name: String) -> Bool { tensors[name] != nil }

    /// The tensor `name`, checked against `shape` when one is given.
    public func tensor(_ name: String, shape: [Int]?) throws -> TensorData {
        guard let tensor = tensors[name] else {
            throw ModelError(.missingTensor, "\(directory.path): tensor '\(name)' not found in the checkpoint")
        }
        guard shape == nil || tensor.shape == shape! else {
            throw ModelError(.shapeMismatch,
                "\(tensor.file.path): tensor '\(name)' has shape \(tensor.shape), expected \(shape!)")
        }
        return tensor
    }
}
