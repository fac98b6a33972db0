import Foundation
import PluginAPI

/// Rocket League player ranks from the Tracker Network: look a player up, link your own account, and a scheduled
/// check that tells the community when a linked player reaches a new rank. Serves document 004's routes and the
/// HazeBot admin app's (see docs/rocket-league.md) over one implementation.
public struct RocketLeagueCog: Cog {
    public typealias Configuration = RocketLeagueConfig

    public static let manifest = CogManifest(
        id: "rocket_league", displayName: "Rocket League", version: "1.0.0", contract: "2.0",
        summary: "Rocket League player ranks, linked accounts and rank-up announcements.", category: "games",
        features: ["Player ranks", "Linked accounts", "Rank-up announcements", "!rank command"],
        routePrefixes: ["/api/rocket-league", "/api/user/rocket-league"], configSection: "rocket_league")

    public static let migrations = RocketLeagueStore.migrations

    public init() {}

    public func setup(_ context: any CogContext<RocketLeagueConfig>) async throws {
        let settings = try context.config()
        let ranks = RankService(context: context, store: RocketLeagueStore(database: context.database))
        RocketLeagueRoutes(ranks: ranks, context: context).register()
        context.command(
            BotCommand(name: "rank", usage: "!rank <platform> <username>", summary: "A Rocket League player's ranks") { call in
                guard call.arguments.count >= 2 else { throw CommandError("Usage: !rank <platform> <username>") }
                do {
                    let platform = try RankService.platform(call.arguments[0])
                    let (player, _) = try await ranks.lookUp(platform: platform, username: call.arguments.dropFirst().joined(separator: " "))
                    let lines = PlayerRanks.keys.compactMap { key in player.playlists[key].map { "\(key): \($0.display)" } }
                    return "\(player.handle) (\(platform)): " + (lines.isEmpty ? "no ranks yet" : lines.joined(separator: ", "))
                } catch let error as APIError {
                    throw CommandError(error.message)
                } catch let error as OutboundError {
                    throw CommandError(error.apiError.message)
                }
            })
        // Profiles read from another service, or kept for another TTL, are not kept past a change.
        context.onConfigApplied { _ in context.cache.invalidate(tag: "profiles") }
        context.schedule("rank-check", every: .seconds(max(60, settings.rankCheckIntervalHours * 3600))) {
            _ = try await ranks.checkAll()
        }
    }
}

/// The `rocket_league` config section.
public struct RocketLeagueConfig: CogConfiguration {
    /// Hours between checks of the linked accounts (read when the cog loads).
    public var rankCheckIntervalHours = 24
    /// How long a looked-up profile is answered from the cache.
    public var rankCacheTTLSeconds = 3600
    /// The Tracker Network API: profiles at `{api_base_url}/standard/profile/{platform}/{username}`.
    public var apiBaseURL = "https://api.tracker.gg/api/v2/rocket-league"
    /// The Tracker Network key (`TRN-Api-Key`); empty reads `ROCKET_LEAGUE_API_KEY` from the environment.
    public var apiKey = ""
    /// The longest a profile lookup may take, retries included.
    public var requestTimeoutSeconds = 15
    /// The pause between two accounts in a rank check, to stay under the service's rate limit.
    public var checkSpacingMilliseconds = 2000

    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "rank_check_interval_hours": 1...8_760,
            "rank_cache_ttl_seconds": 0...31_536_000,
            "request_timeout_seconds": 1...300,
            "check_spacing_milliseconds": 0...600_000,
        ]
    }

    public static var secretKeys: Set<String> { ["api_key"] }

    enum CodingKeys: String, CodingKey {
        case rankCheckIntervalHours = "rank_check_interval_hours", rankCacheTTLSeconds = "rank_cache_ttl_seconds"
        case apiBaseURL = "api_base_url", apiKey = "api_key", requestTimeoutSeconds = "request_timeout_seconds"
        case checkSpacingMilliseconds = "check_spacing_milliseconds"
    }
}
