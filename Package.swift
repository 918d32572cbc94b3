// swift-tools-version:6.0
import Foundation
import PackageDescription

// Numeric code must be compiled for a CPU with AVX2/FMA/F16C: without it SIMD lowers to scalar
// library calls (17–200× slower, see TOOLCHAIN.md). `haswell` runs on every x86_64 server of the last decade.
let numericFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]

let swiftSettings: [SwiftSetting] = [
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0335-existential-any.md
    .enableUpcomingFeature("ExistentialAny"),
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0444-member-import-visibility.md
    .enableUpcomingFeature("MemberImportVisibility"),
]

// The OpenCL plugin builds only where the OpenCL headers are installed (scripts/setup.sh installs
// them with PoCL, a CPU OpenCL device); elsewhere the server builds without it.
let hasOpenCL = FileManager.default.fileExists(atPath: "/usr/include/CL/cl.h")
let openCLProducts: [Product] = hasOpenCL
    ? [.library(name: "RadixServeOpenCLPlugin", type: .dynamic, targets: ["OpenCLPlugin"])] : []
let openCLTargets: [Target] = hasOpenCL
    ? [
        .target(
            name: "OpenCLPlugin", dependencies: ["CBackendABI"], path: "Sources/OpenCLPlugin", exclude: ["kernels.cl"],
            cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [.linkedLibrary("OpenCL"), .linkedLibrary("pthread")]),
    ] : []

let package = Package(
    name: "RadixServe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "radixserve", targets: ["radixserve"]),
        // Preloaded by scripts/check-allocations.sh only; never linked into radixserve.
        .library(name: "RadixServeMallocCounter", type: .dynamic, targets: ["CMallocCounter"]),
        // The reference accelerator plugin (C, its own device memory and queue): the template of an
        // out-of-tree backend, loaded with `--backend plugin:.build/<config>/libRadixServeReferencePlugin.so`.
        .library(name: "RadixServeReferencePlugin", type: .dynamic, targets: ["ReferencePlugin"]),
        // The decoders of untrusted bytes, for the fuzz targets of Fuzz/Package.swift (docs/FUZZING.md).
        .library(
            name: "RadixServeDecoders",
            targets: [
                "Backends", "ChatTemplates", "Collectives", "Models", "OrderedJSON", "ServingTypes", "Tokenizers", "WireProtocol",
            ]),
    ] + openCLProducts,
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // MARK: - System libraries
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        .target(name: "CMallocCounter", path: "Sources/CMallocCounter"),
        .target(name: "CIntrinsics", path: "Sources/CIntrinsics"),
        .target(name: "CKernels", path: "Sources/CKernels"),
        .target(name: "CProcess", path: "Sources/CProcess"),

        // MARK: - Shared serving values (leaf: no dependencies)
        .target(name: "ServingTypes", swiftSettings: swiftSettings),

        // MARK: - Policy (pure Swift, no Foundation)
        .target(name: "PageHashing", swiftSettings: swiftSettings),
        .target(name: "OrderedJSON", swiftSettings: swiftSettings),
        .target(
            name: "ProcessLogging", dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "ProcessLifecycle",
            dependencies: [
                "CProcess",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "RadixTree", dependencies: [.product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: swiftSettings),
        .target(
            name: "KVPaging",
            dependencies: [
                "RadixTree", "PageHashing", "ServingTypes",
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings),
        .target(name: "Scheduling", dependencies: ["KVPaging", "ServingTypes", "RadixTree"], swiftSettings: swiftSettings),

        // MARK: - Wire
        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .target(name: "Transport", dependencies: ["CZeroMQ"], swiftSettings: swiftSettings),
        .target(name: "Collectives", dependencies: ["Transport", "CIntrinsics"], swiftSettings: swiftSettings + numericFlags),
        .target(name: "WireProtocol", dependencies: ["ServingTypes"], swiftSettings: swiftSettings),

        // MARK: - Router policy (pure Swift)
        .target(name: "ChatTemplates", dependencies: ["OrderedJSON"], swiftSettings: swiftSettings),
        .target(
            name: "RouterCore",
            dependencies: ["PageHashing", "ServingTypes", .product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: swiftSettings),

        // MARK: - Compute
        .target(name: "Backends", swiftSettings: swiftSettings),
        .target(name: "BackendReference", dependencies: ["Backends"], swiftSettings: swiftSettings),
        // The versioned C plugin ABI (include/radixserve/backend.h), its loader, and the reference plugin.
        .target(name: "CBackendABI", path: "Sources/CBackendABI"),
        .target(name: "BackendPlugin", dependencies: ["Backends", "CBackendABI"], swiftSettings: swiftSettings),
        .target(
            name: "ReferencePlugin", dependencies: ["CBackendABI"], path: "Sources/ReferencePlugin",
            cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [.linkedLibrary("pthread"), .linkedLibrary("m")]),
        .target(name: "BackendCPU", dependencies: ["Backends", "CBLAS", "CIntrinsics", "CKernels"], swiftSettings: swiftSettings + numericFlags),
        .target(
            name: "BackendCatalog",
            dependencies: ["Backends", "BackendReference", "BackendCPU", "BackendPlugin"],
            swiftSettings: swiftSettings
        ),
        .target(name: "Tokenizers", dependencies: ["OrderedJSON"], swiftSettings: swiftSettings),
        .target(
            name: "StructuredOutput", dependencies: ["OrderedJSON", "ServingTypes", "Tokenizers"], swiftSettings: swiftSettings),
        .target(name: "Models", dependencies: ["Backends"], swiftSettings: swiftSettings + numericFlags),
        .target(
            name: "Engine",
            dependencies: [
                "Backends", "Models", "Scheduling", "KVPaging", "Collectives", "Transport", "WireProtocol", "ServingTypes", "Tokenizers",
                "StructuredOutput", "ProcessLifecycle", "ProcessLogging", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings + numericFlags
        ),

        .target(
            name: "WorkerService",
            dependencies: [
                "Backends", "Engine", "Scheduling", "KVPaging", "Transport", "WireProtocol", "ServingTypes", "Models",
                "Tokenizers", "StructuredOutput", "ProcessLifecycle",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Serving (router process, HTTP API, client)
        .target(
            name: "RouterService",
            dependencies: [
                "ChatTemplates", "PageHashing", "RouterCore", "ServingTypes", "Tokenizers", "Transport",
                "WireProtocol", "ProcessLifecycle",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RouterHTTP",
            dependencies: [
                "PageHashing", "RouterService", "ServingTypes", "Tokenizers", "WireProtocol", "Models", "RouterCore",
                "Transport", "ProcessLifecycle", "OrderedJSON", "StructuredOutput",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ServingClient",
            dependencies: [
                "ServingTypes", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Benchmarks (engine, matmul, router index, all-reduce, serving)
        .target(
            name: "Benchmarks",
            dependencies: [
                "Backends", "Collectives", "Engine", "Models", "PageHashing", "RouterCore", "Scheduling", "ProcessLifecycle",
                "ServingClient", "ServingTypes", "StructuredOutput", "Tokenizers", "Transport",
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Certification (`radixserve certify`: ops, models, engine properties, performance)
        .target(
            name: "Certification",
            dependencies: [
                "BackendCatalog", "Backends", "Benchmarks", "Engine", "Models", "Scheduling", "ServingTypes",
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Conformance kit (`radixserve conformance worker`: plays the router against a worker under test)
        .target(
            name: "WorkerConformance",
            dependencies: ["CProcess", "Models", "PageHashing", "ServingTypes", "Transport", "WireProtocol"],
            swiftSettings: swiftSettings
        ),

        // MARK: - Executable
        .executableTarget(
            name: "radixserve",
            dependencies: [
                "BackendCatalog", "Backends", "BackendCPU", "Collectives", "Engine", "Models", "RouterCore",
                "RouterHTTP", "RouterService", "Scheduling", "ServingClient", "ServingTypes", "Tokenizers",
                "WireProtocol", "WorkerService", "ProcessLogging", "Benchmarks", "Certification", "ProcessLifecycle", "Transport",
                "WorkerConformance", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Test support and tests
        .target(
            name: "TestSupport",
            dependencies: ["BackendCatalog", "Backends", "Certification", "ServingTypes", "Transport", "WireProtocol"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ServingTypesTests", dependencies: ["ServingTypes"], swiftSettings: swiftSettings),
        .testTarget(
            name: "BenchmarksTests",
            dependencies: [
                "BackendCPU", "Backends", "Benchmarks", "Models", "RouterCore", "ServingClient", "ServingTypes", "TestSupport", "Tokenizers",
            ],
            swiftSettings: swiftSettings),
        .testTarget(name: "PageHashingTests", dependencies: ["PageHashing"], swiftSettings: swiftSettings),
        .testTarget(name: "OrderedJSONTests", dependencies: ["OrderedJSON"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ProcessLifecycleTests",
            dependencies: [
                "ProcessLifecycle", "TestSupport", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProcessLoggingTests",
            dependencies: ["ProcessLogging", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .testTarget(name: "RadixTreeTests", dependencies: ["RadixTree", "TestSupport", "ServingTypes"], swiftSettings: swiftSettings),
        .testTarget(
            name: "KVPagingTests", dependencies: ["ServingTypes", "KVPaging", "RadixTree", "TestSupport", "PageHashing"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SchedulingTests", dependencies: ["ServingTypes", "Scheduling", "KVPaging", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "BackendConformanceTests",
            dependencies: ["BackendCatalog", "BackendPlugin", "Backends", "TestSupport", "ServingTypes"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackendCPUTests", dependencies: ["BackendCPU", "BackendReference", "Backends", "CKernels"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ModelsTests",
            dependencies: ["Certification", "ServingTypes", "BackendCatalog", "Backends", "Models", "Engine", "Scheduling", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: ["Certification", 
                "ServingTypes", "BackendCatalog", "Backends", "Models", "Engine", "Scheduling", "TestSupport",
                "KVPaging", "PageHashing", "Tokenizers", "StructuredOutput",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "CZeroMQ"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CollectivesTests", dependencies: ["Collectives", "Transport", "TestSupport", "ServingTypes"], swiftSettings: swiftSettings),
        .testTarget(name: "WireProtocolTests", dependencies: ["ServingTypes", "WireProtocol"], swiftSettings: swiftSettings),
        .testTarget(
            name: "WorkerServiceTests",
            dependencies: ["Certification", 
                "ProcessLogging", "BackendCatalog", "Backends", "Engine", "KVPaging", "Models", "PageHashing",
                "Scheduling", "ServingTypes", "TestSupport", "Transport", "WireProtocol", "WorkerService", "ServingClient",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkerConformanceTests",
            dependencies: ["PageHashing", "ServingTypes", "TestSupport", "Transport", "WireProtocol", "WorkerConformance"],
            swiftSettings: swiftSettings),
        .testTarget(name: "TensorParallelTests", dependencies: ["Certification", "Collectives", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ChatTemplatesTests", dependencies: ["ChatTemplates"], exclude: ["Data"], swiftSettings: swiftSettings),
        .testTarget(name: "RouterCoreTests", dependencies: ["ServingTypes", "RouterCore", "PageHashing"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CertificationTests", dependencies: ["BackendCatalog", "Backends", "Certification", "Engine", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["Certification", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ServingClientTests", dependencies: ["ServingClient", "ServingTypes", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RouterServiceTests",
            dependencies: [
                "ProcessLogging", "ServingTypes", "RouterService", "RouterCore", "WireProtocol", "Transport",
                "TestSupport", "PageHashing", "Tokenizers",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RouterHTTPTests",
            dependencies: [
                "ProcessLogging", "RouterHTTP", "RouterService", "ServingClient", "ServingTypes", "WireProtocol", "Transport",
                "Tokenizers", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ClusterTests", dependencies: ["Certification", "ServingClient", "ServingTypes", "TestSupport", "Transport"], swiftSettings: swiftSettings),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestSupport", "ServingTypes"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StructuredOutputTests", dependencies: ["StructuredOutput", "ServingTypes", "Tokenizers", "OrderedJSON"],
            swiftSettings: swiftSettings),
    ] + openCLTargets
)
