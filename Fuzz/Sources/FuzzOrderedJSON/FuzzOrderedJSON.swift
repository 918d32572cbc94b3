// RadixServe fuzzing: the order-keeping JSON reader under tokenizer.json and the chat templates.

import FuzzSupport
import OrderedJSON

/// Parses the input; it must either throw `JSONParseError` or return a value.
func fuzzOrderedJSON(_ bytes: UnsafeRawBufferPointer) {
    _ = try? JSONValue.parse(Array(bytes))
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOrderedJSON(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("FuzzOrderedJSON_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc: argc, argv: argv, testOneInput)
}
