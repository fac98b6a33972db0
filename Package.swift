// swift-tools-version:6.1
import PackageDescription

/// Guildhall: a plugin host. `GuildhallServer` never imports a cog and cogs never import it; both import `PluginAPI`.
/// An executable is the composition root: `guildhall` names the built-in cogs, and a third party's executable names
/// its own (see examples/third-party-cog).
let package = Package(
    name: "Guildhall",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "guildhall", targets: ["guildhall"]),
        // The plugin contract: the one module a cog imports.
        .library(name: "PluginAPI", targets: ["PluginAPI"]),
        // The host and its command line, for an executable that names its own cogs.
        .library(name: "GuildhallServer", targets: ["GuildhallServer"]),
        // Test a cog: a harness without a server, and a whole host on an ephemeral port.
        .library(name: "GuildhallTesting", targets: ["GuildhallTesting"]),
        // The built-in cogs, to serve beside your own.
        .library(name: "TicketsCog", targets: ["TicketsCog"]),
        .library(name: "MemesCog", targets: ["MemesCog"]),
        .library(name: "RocketLeagueCog", targets: ["RocketLeagueCog"]),
        .library(name: "CombatLogCog", targets: ["CombatLogCog"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "4.1.0"..<"6.0.0"),
    ],
    targets: [
        .target(
            name: "PluginAPI",
            dependencies: [
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "GuildhallServer",
            dependencies: [
                "PluginAPI", "CSpawn", "Gzip",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "GuildhallTesting",
            dependencies: [
                "GuildhallServer", "PluginAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "TicketsCog", dependencies: ["PluginAPI"], path: "Plugins/Tickets"),
        .target(name: "MemesCog", dependencies: ["PluginAPI"], path: "Plugins/Memes"),
        .target(name: "RocketLeagueCog", dependencies: ["PluginAPI"], path: "Plugins/RocketLeague"),
        .target(name: "CombatLogCog", dependencies: ["PluginAPI", "Gzip"], path: "Plugins/CombatLog"),
        // Starts external cogs in a process group of their own that dies with the host (fork, setpgid, prctl, exec).
        .target(name: "CSpawn"),
        // The system's zlib, and a streaming inflater on it: combat logs and cog archives arrive gzip-compressed.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Gzip", dependencies: ["CZlib"]),
        .executableTarget(
            name: "guildhall",
            dependencies: [
                "GuildhallServer", "PluginAPI", "TicketsCog", "MemesCog", "RocketLeagueCog", "CombatLogCog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The baseline of scripts/bench.sh: a bare Hummingbird hello-world built like guildhall.
        .executableTarget(
            name: "hello-baseline",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Benchmarks/HelloBaseline"
        ),
        // The in-process side of scripts/bench-external.sh: the host with a one-route cog beside external ones.
        .executableTarget(
            name: "bench-external",
            dependencies: ["GuildhallServer", "PluginAPI"],
            path: "Benchmarks/ExternalRoute"
        ),
        .testTarget(
            name: "PluginAPITests",
            dependencies: ["PluginAPI", .product(name: "NIOFoundationCompat", package: "swift-nio")]
        ),
        // Each target's tests in Tests/<Target>Tests; the built-in cogs on the test harness, without a server.
        .testTarget(name: "GuildhallTestingTests", dependencies: ["GuildhallTesting", "GuildhallServer", "PluginAPI"]),
        .testTarget(name: "TicketsCogTests", dependencies: ["GuildhallTesting", "GuildhallServer", "PluginAPI", "TicketsCog"]),
        .testTarget(name: "MemesCogTests", dependencies: ["GuildhallTesting", "PluginAPI", "MemesCog"]),
        .testTarget(name: "RocketLeagueCogTests", dependencies: ["GuildhallTesting", "PluginAPI", "RocketLeagueCog"]),
        // The host, through whole hosts on a port where a test crosses cogs or surfaces.
        .testTarget(
            name: "GuildhallServerTests",
            dependencies: [
                "GuildhallServer", "GuildhallTesting", "PluginAPI",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), "TicketsCog", "MemesCog", "RocketLeagueCog", "CombatLogCog",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
