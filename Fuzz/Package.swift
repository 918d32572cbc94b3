// swift-tools-version:6.0
// RadixServe fuzz targets: one libFuzzer executable per family of decoders of untrusted bytes.
// Build and run them with scripts/fuzz.sh (docs/FUZZING.md); plain `swift build` of the server never
// compiles this package.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0335-existential-any.md
    .enableUpcomingFeature("ExistentialAny"),
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0444-member-import-visibility.md
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Each target defines `<Target>_main` (SwiftPM links executables with `--defsym main=<Target>_main`)
// and hands control to libFuzzer's driver. gold fails on the sanitizer runtimes; lld links them.
// scripts/fuzz.sh passes `-sanitize=fuzzer,address` to every module too, so the decoders carry coverage.
let fuzzerSwiftFlags: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])]
let fuzzerLinkerFlags: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address", "-use-ld=lld"])]

/// The fuzz targets and the modules each one feeds untrusted bytes to.
let fuzzTargets: [(name: String, modules: [String])] = [
    ("FuzzWorkerFrames", ["WireProtocol", "ServingTypes"]),
    ("FuzzRankFrames", ["WireProtocol"]),
    ("FuzzCollectives", ["Collectives"]),
    ("FuzzHTTPBodies", ["ServingTypes"]),
    ("FuzzOrderedJSON", ["OrderedJSON"]),
    ("FuzzTokenizer", ["Tokenizers"]),
    ("FuzzModelConfig", ["Models"]),
    ("FuzzSafetensors", ["Models"]),
    ("FuzzChatTemplate", ["ChatTemplates"]),
]

let package = Package(
    name: "RadixServeFuzz",
    platforms: [.macOS(.v15)],
    products: fuzzTargets.map { .executable(name: $0.name, targets: [$0.name]) },
    dependencies: [.package(name: "RadixServe", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver"], swiftSettings: swiftSettings),
    ]
        + fuzzTargets.map { target -> Target in
            .executableTarget(
                name: target.name,
                dependencies: ["FuzzSupport", .product(name: "RadixServeDecoders", package: "RadixServe")],
                swiftSettings: swiftSettings + fuzzerSwiftFlags,
                linkerSettings: fuzzerLinkerFlags)
        }
)
