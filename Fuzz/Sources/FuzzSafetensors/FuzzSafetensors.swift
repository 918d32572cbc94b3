// RadixServe fuzzing: safetensors files (header and data bounds).

import Backends
import Foundation
import FuzzSupport
import Models

private let directory = ScratchDirectory(name: "safetensors")

/// Opens the input as a `.safetensors` file (memory-mapped, as a checkpoint is); it must either
/// throw `ModelError` or return tensors whose bytes lie inside the file's data section and match
/// their shape.
func fuzzSafetensors(_ bytes: UnsafeRawBufferPointer) {
    let url = directory.write(bytes, to: "model.safetensors")
    let file: SafetensorsFile
    do {
        file = try SafetensorsFile(path: url.path)
    } catch {
        fuzzCheck(error is ModelError, "safetensors threw \(type(of: error)), not ModelError: \(error)")
        return
    }
    let mapped = file.file.bytes
    for tensor in file.tensors.values {
        let start = tensor.bytes.baseAddress.map { $0 - mapped.baseAddress! } ?? 8
        fuzzCheck(start >= 8 && start + tensor.bytes.count <= mapped.count, "tensor '\(tensor.name)' outside the file")
        fuzzCheck(tensor.elementCount * tensor.dtype.byteSize == tensor.bytes.count, "tensor '\(tensor.name)' size")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzSafetensors(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("FuzzSafetensors_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc: argc, argv: argv, testOneInput)
}
