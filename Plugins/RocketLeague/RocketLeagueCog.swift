import PluginAPI

/// Rocket League player ranks. This release ships the cog's manifest and configuration; rank lookups arrive with
/// the RocketLeague issue.
public struct RocketLeagueCog: Cog {
    public typealias Configuration = RocketLeagueConfig

    public static let manifest = CogManifest(
        id: "rocket_league", displayName: "Rocket League", version: "0.2.0", contract: "1.0",
        summary: "Rocket League player ranks, tracked and cached.", category: "games", features: ["Player ranks"],
        routePrefixes: ["/api/rocket-league"], configSection: "rocket_league")

    public init() {}

    public func setup(_ context: any CogContext<RocketLeagueConfig>) async throws {
        _ = try context.config()
    }
}

/// The `rocket_league` config section.
public struct RocketLeagueConfig: CogConfiguration {
    public var rankCheckIntervalHours = 24
    public var rankCacheTTLSeconds = 3600
    /// The stats service's base URL and key.
    public var apiBaseURL = "https://api.tracker.gg"
    public var apiKey = ""

    public init() {}

    public static var secretKeys: Set<String> { ["api_key"] }
}
