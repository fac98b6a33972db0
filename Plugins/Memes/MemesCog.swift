import Foundation
import PluginAPI

/// Memes from Reddit and Lemmy, Imgflip's templates and captions, and a daily meme, to document 004 and to the
/// HazeBot admin app (docs/memes.md). Every upstream goes through the host's outbound client.
public struct MemesCog: Cog {
    public typealias Configuration = MemeConfig

    public static let manifest = CogManifest(
        id: "memes", displayName: "Memes", version: "1.0.0", contract: "2.0",
        summary: "Random memes from Reddit and Lemmy, a meme generator and a daily meme.", category: "fun",
        features: ["Reddit and Lemmy sources", "Meme generator (Imgflip)", "Daily meme", "!meme command"],
        routePrefixes: ["/api/memes", "/api/meme-sources", "/api/test", "/api/meme-generator", "/api/daily-meme"],
        configSection: "meme")

    public static let migrations = DailyMeme.migrations

    public init() {}

    public func setup(_ context: any CogContext<MemeConfig>) async throws {
        let feed = MemeFeed(context: context)
        let daily = DailyMeme(context: context, feed: feed)
        MemeRoutes(context: context, feed: feed, imgflip: Imgflip(context: context), daily: daily).register()
        // daily_hour and daily_minute are bounded by the section's ranges.
        context.validateConfig { config in
            guard TimeZone(identifier: config.dailyTimeZone) != nil else { throw CommandError("daily_time_zone \(config.dailyTimeZone) is not a time zone") }
            let unknown = Set(config.memeSources).subtracting([MemeFeed.reddit, MemeFeed.lemmy])
            guard unknown.isEmpty else { throw CommandError("meme_sources may hold reddit and lemmy, not \(unknown.sorted().joined(separator: ", "))") }
        }
        context.command(BotCommand(name: "meme", usage: "!meme [subreddit | instance@community]", summary: "A random meme") { call in
            do {
                let sources = try call.arguments.first.map { [try feed.configuredSource($0)] } ?? feed.allSources()
                let meme = try await feed.pick(from: sources, allowNSFW: try context.config().allowNSFW)
                return "\(meme.title) — \(meme.url)"
            } catch let error as APIError {
                throw CommandError(error.message)
            }
        })
        context.schedule("daily-meme", every: .seconds(30)) {
            try await daily.postIfDue()
        }
    }
}

/// The `meme` config section.
public struct MemeConfig: CogConfiguration {
    public var defaultSubreddits = ["memes", "dankmemes"]
    /// Lemmy communities, written `instance@community` (`lemmy.world@memes`).
    public var defaultLemmy: [String] = []
    /// Which kinds of source random memes come from: reddit, lemmy.
    public var memeSources = ["reddit", "lemmy"]
    /// Seconds Imgflip's templates stay cached.
    public var templatesCacheDuration = 3600
    /// Seconds a subreddit's or community's listing stays cached.
    public var listingCacheSeconds = 300
    /// How many memes served lately are not served again.
    public var recentMemory = 50
    /// Whether random memes may be NSFW.
    public var allowNSFW = false
    /// Upstreams, configurable so tests and mirrors can stand in. An empty Lemmy base URL asks each community's own
    /// instance.
    public var redditBaseURL = "https://www.reddit.com"
    public var lemmyBaseURL = ""
    public var imgflipBaseURL = "https://api.imgflip.com"
    /// The Imgflip account captions are made with.
    public var imgflipUsername = ""
    public var imgflipPassword = ""
    public var requestTimeoutSeconds = 10
    /// Where memes are "sent" (a channel id shown with each posted meme).
    public var memeChannelID: SnowflakeID = ""
    /// The daily meme: when, where, and from which pool.
    public var dailyEnabled = false
    public var dailyHour = 12
    public var dailyMinute = 0
    public var dailyTimeZone = "UTC"
    public var dailyChannelID: SnowflakeID = ""
    public var dailyRoleID: SnowflakeID = ""
    public var dailyAllowNSFW = false
    public var minScore = 100
    public var maxSources = 5
    public var poolSize = 50
    /// The subset of sources the daily meme draws from; empty: all.
    public var useSubreddits: [String] = []
    public var useLemmy: [String] = []

    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "templates_cache_duration": 0...31_536_000,
            "listing_cache_seconds": 0...31_536_000,
            "recent_memory": 0...100_000,
            "request_timeout_seconds": 1...300,
            "daily_hour": 0...23,
            "daily_minute": 0...59,
            "min_score": -1_000_000_000...1_000_000_000,
            "max_sources": 1...100,
            "pool_size": 1...10_000,
        ]
    }

    public static var secretKeys: Set<String> { ["imgflip_password"] }

    enum CodingKeys: String, CodingKey {
        case defaultSubreddits = "default_subreddits", defaultLemmy = "default_lemmy", memeSources = "meme_sources"
        case templatesCacheDuration = "templates_cache_duration", listingCacheSeconds = "listing_cache_seconds"
        case recentMemory = "recent_memory", allowNSFW = "allow_nsfw", redditBaseURL = "reddit_base_url", lemmyBaseURL = "lemmy_base_url"
        case imgflipBaseURL = "imgflip_base_url", imgflipUsername = "imgflip_username", imgflipPassword = "imgflip_password"
        case requestTimeoutSeconds = "request_timeout_seconds", memeChannelID = "meme_channel_id", dailyEnabled = "daily_enabled"
        case dailyHour = "daily_hour", dailyMinute = "daily_minute", dailyTimeZone = "daily_time_zone", dailyChannelID = "daily_channel_id"
        case dailyRoleID = "daily_role_id", dailyAllowNSFW = "daily_allow_nsfw", minScore = "min_score", maxSources = "max_sources"
        case poolSize = "pool_size", useSubreddits = "use_subreddits", useLemmy = "use_lemmy"
    }
}
