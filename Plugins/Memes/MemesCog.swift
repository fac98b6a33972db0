import PluginAPI

/// Random memes from Reddit and Lemmy. This release ships the cog's manifest, configuration and the listing of its
/// configured sources; fetching memes arrives with the Memes issue.
public struct MemesCog: Cog {
    public typealias Configuration = MemeConfig

    public static let manifest = CogManifest(
        id: "memes", displayName: "Memes", version: "0.2.0", contract: "1.0",
        summary: "Random memes from configured Reddit and Lemmy communities.", category: "fun",
        features: ["Reddit and Lemmy sources"],
        routePrefixes: ["/api/memes"], configSection: "meme")

    public init() {}

    public func setup(_ context: any CogContext<MemeConfig>) async throws {
        _ = try context.config()
        context.route(
            .get, "/api/memes/sources", access: .user, summary: "The configured meme sources",
            responses: [.json(.ok, Sources.self)]
        ) { _ in
            let config = try context.config()
            return Sources(sources: config.memeSources, subreddits: config.defaultSubreddits, lemmyCommunities: config.defaultLemmy)
        }
    }

    struct Sources: Codable, ResponseConvertible {
        var sources: [String]
        var subreddits: [String]
        var lemmyCommunities: [String]
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
}
