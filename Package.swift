// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Baton",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Baton", targets: ["Baton"]),
        .library(name: "BatonAPI", targets: ["BatonAPI"]),
        .library(name: "BatonHost", targets: ["BatonHost"]),
        .library(name: "BatonTesting", targets: ["BatonTesting"]),
        .executable(name: "baton", targets: ["baton"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // libpq, found through pkg-config (Debian: libpq-dev).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The few lines that must run between fork and exec (process group, parent-death signal).
        .target(name: "CBatonSupport"),
        // Pure logic: state machine, retry policy, progress, handler documents. No I/O.
        .target(name: "BatonCore"),
        // The I/O edges: PostgreSQL, listener, worker, handlers, migrations.
        .target(
            name: "Baton",
            dependencies: [
                "BatonCore", "CLibPQ", "CBatonSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            plugins: ["EmbedSQLPlugin"]
        ),
        // The HTTP API: routes, long-poll fan-out, errors, OpenAPI document (Resources/openapi.json), /metrics.
        .target(
            name: "BatonAPI",
            dependencies: [
                "Baton", "BatonCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // The OpenAPI document and the dashboard's templates, script and style, compiled into
            // the binary (no resource bundle on disk: the binary is copied around on its own).
            resources: [
                .embedInCode("Resources/openapi.json"),
                .embedInCode("Resources/dashboard/layout.mustache"),
                .embedInCode("Resources/dashboard/sessions.mustache"),
                .embedInCode("Resources/dashboard/session.mustache"),
                .embedInCode("Resources/dashboard/statistics.mustache"),
                .embedInCode("Resources/dashboard/schedules.mustache"),
                .embedInCode("Resources/dashboard/dashboard.js"),
                .embedInCode("Resources/dashboard/dashboard.css"),
            ]
        ),
        // The process wiring: worker and/or API under one service group, signals, metrics set-up
        // (what `baton start` runs, for applications that embed a worker).
        .target(
            name: "BatonHost",
            dependencies: [
                "Baton", "BatonAPI",
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A kit for applications' own tests: test databases, LISTEN-driven waits, one handler
        // run without a worker, assertions on what was queued. No XCTest or swift-testing in it.
        .target(
            name: "BatonTesting",
            dependencies: ["Baton", "BatonCore", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "BatonCLI",
            dependencies: [
                "Baton", "BatonAPI", "BatonHost",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(name: "baton", dependencies: ["BatonCLI"]),
        // Build-time tool: carries sql/*.sql into the binary so `baton migrate` needs no source tree.
        .executableTarget(name: "EmbedSQL"),
        .plugin(name: "EmbedSQLPlugin", capability: .buildTool(), dependencies: ["EmbedSQL"]),
        // A step handler program that the tests run through `command:` (not shipped).
        .executableTarget(name: "BatonTestHandler"),
        // docs/handlers.md's Swift example: a program embedding a worker with its own handler,
        // built with the package so that it keeps compiling (not shipped).
        .executableTarget(name: "ExampleSwiftWorker", dependencies: ["Baton", "BatonHost"], path: "examples/handlers/swift"),
        .testTarget(name: "BatonCoreTests", dependencies: ["BatonCore"]),
        .testTarget(
            name: "BatonTests",
            dependencies: [
                "Baton", "BatonAPI", "BatonHost", "BatonCLI", "BatonTesting", "CLibPQ",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            // SQL the upgrade tests read from the source tree: migrations of the baton before sql/functions.
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
