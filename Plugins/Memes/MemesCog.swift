import PluginAPI

/// Random memes from Reddit and Lemmy. This release ships the cog's manifest, configuration and the listing of its
/// configured sources; fetching memes arrives with the Memes issue.
public struct MemesCog: Cog {
    public static let manifest = CogManifest(
        id: "memes", displayName: "Memes", version: "0.1.0",
        summary: "Random memes from configured Reddit and Lemmy communities.",
        routePrefixes: ["/api/memes"], config: .section("meme", MemeConfig.self))

    public init() {}

    public func setup(_ context: any CogContext) async throws {
        _ = try context.config(MemeConfig.self)
        context.route(.get, "/api/memes/sources", access: .user, summary: "The configured meme sources") { _, _ in
            let config = try context.config(MemeConfig.self)
            return Sources(
                sources: config.memeSources, subreddits: config.defaultSubreddits, lemmyCommunities: config.defaultLemmy)
        }
    }

    struct Sources: ResponseEncodable {
        var sources: [String]
        var subreddits: [String]
        var lemmyCommunities: [String]

        enum CodingKeys: String, CodingKey {
            case sources, subreddits
            case lemmyCommunities = "lemmy_communities"
        }
    }
}

/// The `meme` config section.
public struct MemeConfig: CogConfiguration {
    public var defaultSubreddits = ["memes", "dankmemes"]
    public var defaultLemmy: [String] = []
    /// Which sources `!meme` draws from: reddit, lemmy.
    public var memeSources = ["reddit", "lemmy"]
    /// Seconds meme templates stay cached.
    public var templatesCacheDuration = 3600
    /// Base URLs of the sources, configurable so tests and mirrors can stand in.
    public var redditBaseURL = "https://www.reddit.com"
    public var lemmyBaseURL = "https://lemmy.world"

    public init() {}

    enum CodingKeys: String, CodingKey {
        case defaultSubreddits = "default_subreddits", defaultLemmy = "default_lemmy", memeSources = "meme_sources"
        case templatesCacheDuration = "templates_cache_duration", redditBaseURL = "reddit_base_url"
        case lemmyBaseURL = "lemmy_base_url"
    }
}
