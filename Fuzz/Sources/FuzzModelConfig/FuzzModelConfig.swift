// RadixServe fuzzing: a checkpoint's config.json.

import Foundation
import FuzzSupport
import Models

/// Parses the input as `config.json`; it must either throw `ModelError` or return a config.
func fuzzModelConfig(_ bytes: UnsafeRawBufferPointer) {
    do {
        _ = try ModelConfig.parse(Data(bytes), path: "config.json")
    } catch {
        fuzzCheck(error is ModelError, "config.json threw \(type(of: error)), not ModelError: \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzModelConfig(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("FuzzModelConfig_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc: argc, argv: argv, testOneInput)
}
