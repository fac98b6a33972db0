// swift-tools-version:6.1
import PackageDescription

/// A cog written outside Guildhall's repository: it depends on Guildhall as any package would (here by path, so
/// that it always builds against the code beside it; elsewhere by URL and version), defines a cog, serves it beside
/// the built-in Tickets cog from its own executable, and tests it with GuildhallTesting.
let package = Package(
    name: "QuotesCog",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "QuotesCog", targets: ["QuotesCog"]),
        .executable(name: "quotes-server", targets: ["quotes-server"]),
    ],
    dependencies: [
        .package(name: "Guildhall", path: "../.."),
    ],
    targets: [
        // The cog imports the contract and nothing else of Guildhall.
        .target(name: "QuotesCog", dependencies: [.product(name: "PluginAPI", package: "Guildhall")]),
        .executableTarget(
            name: "quotes-server",
            dependencies: [
                "QuotesCog",
                .product(name: "GuildhallServer", package: "Guildhall"),
                .product(name: "TicketsCog", package: "Guildhall"),
            ]
        ),
        .testTarget(
            name: "QuotesCogTests",
            dependencies: [
                "QuotesCog",
                .product(name: "GuildhallTesting", package: "Guildhall"),
                .product(name: "PluginAPI", package: "Guildhall"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
