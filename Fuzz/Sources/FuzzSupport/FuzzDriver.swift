// RadixServe fuzzing: the glue between a target's `main` and libFuzzer.

import CFuzzerDriver

/// libFuzzer's per-input callback: `LLVMFuzzerTestOneInput`'s C signature.
public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// Starts libFuzzer. Every target defines two C symbols, both required by the runtime:
///
/// ```swift
/// @_cdecl("LLVMFuzzerTestOneInput")
/// func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { …; return 0 }
///
/// @_cdecl("FuzzX_main")   // SwiftPM links executables with `--defsym main=<Target>_main`
/// func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
///     FuzzDriver.run(argc: argc, argv: argv, testOneInput)
/// }
/// ```
///
/// A callback returns normally for every input, whether the decoder accepted it or threw; a trap,
/// a precondition failure or a sanitizer report is a bug that libFuzzer records as a crash.
public enum FuzzDriver {
    /// Runs libFuzzer with the process's arguments (`-runs=N`, `-max_total_time=S`, corpus
    /// directories, …) and returns its exit status.
    public static func run(
        argc: CInt, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ callback: FuzzCallback
    ) -> CInt {
        var argc = argc
        var argv = argv
        return LLVMFuzzerRunDriver(&argc, &argv, callback)
    }

    /// The input as a buffer (libFuzzer passes `nil` for the empty input).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
        guard let data, size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: data, count: size)
    }
}

/// Checks a property of a decoded value (a round trip, an invariant the decoder promises); a
/// failure traps so that libFuzzer records the input as a crash.
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError("fuzz property violated: \(message())", file: file, line: line) }
}
