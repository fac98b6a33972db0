import Foundation
import PluginAPI
import Synchronization

/// Fetches the configured sources through the host's outbound client (listings cached for
/// `listing_cache_seconds`) and picks memes, never one of the last `recent_memory` served.
final class MemeFeed: Sendable {
    let context: any CogContext<MemeConfig>
    private let recent = Mutex<[String]>([])

    init(context: any CogContext<MemeConfig>) {
        self.context = context
    }

    static let reddit = "reddit", lemmy = "lemmy"

    /// The image posts of one subreddit.
    func subreddit(_ name: String) async throws -> [Meme] {
        let config = try context.config()
        let answer = try await context.outbound.send(OutboundRequest(
            url: "\(config.redditBaseURL)/r/\(name)/hot.json?limit=100", upstream: Self.reddit,
            timeout: .seconds(config.requestTimeoutSeconds), cache: OutboundCache(ttl: .seconds(config.listingCacheSeconds))))
        guard answer.status == .ok else {
            if answer.status == .notFound || answer.status == .forbidden { return [] }
            throw OutboundError.failed(upstream: Self.reddit, status: answer.status.code)
        }
        return try Meme.fromReddit(try answer.json(), subreddit: name, upstream: Self.reddit, cached: answer.cached)
    }

    /// The image posts of one Lemmy community, written `instance@community`.
    func lemmyCommunity(_ name: String) async throws -> [Meme] {
        let config = try context.config()
        let parts = name.split(separator: "@", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw APIError(.badRequest, "invalid_source", "A Lemmy community is written instance@community.")
        }
        let base = config.lemmyBaseURL.isEmpty ? "https://\(parts[0])" : config.lemmyBaseURL
        let communityName = "\(parts[1])@\(parts[0])".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let answer = try await context.outbound.send(OutboundRequest(
            url: "\(base)/api/v3/post/list?community_name=\(communityName)&sort=Hot&limit=50", upstream: Self.lemmy,
            timeout: .seconds(config.requestTimeoutSeconds), cache: OutboundCache(ttl: .seconds(config.listingCacheSeconds))))
        guard answer.status == .ok else {
            if answer.status == .notFound { return [] }
            throw OutboundError.failed(upstream: Self.lemmy, status: answer.status.code)
        }
        return try Meme.fromLemmy(try answer.json(), community: name, upstream: Self.lemmy, cached: answer.cached)
    }

    /// A configured source by name: `instance@community` is Lemmy, anything else a subreddit (`r/` optional).
    /// 400 `unknown_source` naming the configured ones for a source that is not configured.
    func configuredSource(_ given: String) throws -> (kind: String, name: String) {
        let config = try context.config()
        let name = given.trimmingCharacters(in: .whitespaces).lowercased()
        if name.contains("@") {
            guard config.defaultLemmy.map({ $0.lowercased() }).contains(name) else { throw unknownSource(given, config) }
            return (Self.lemmy, name)
        }
        let subreddit = name.hasPrefix("r/") ? String(name.dropFirst(2)) : name
        guard config.defaultSubreddits.map({ $0.lowercased() }).contains(subreddit) else { throw unknownSource(given, config) }
        return (Self.reddit, subreddit)
    }

    private func unknownSource(_ given: String, _ config: MemeConfig) -> APIError {
        APIError(
            .badRequest, "unknown_source", "\(given) is not a configured meme source.",
            details: ["available_subreddits": .array(config.defaultSubreddits.map(JSONValue.string)),
                      "available_lemmy": .array(config.defaultLemmy.map(JSONValue.string))])
    }

    func memes(of source: (kind: String, name: String)) async throws -> [Meme] {
        source.kind == Self.lemmy ? try await lemmyCommunity(source.name) : try await subreddit(source.name)
    }

    /// A meme from `sources` (up to `maxSources` of them, chosen at random), at least `minScore`, NSFW only if
    /// allowed, among the `poolSize` best; never one of the recently served. 404 `no_memes` when none is left.
    func pick(
        from sources: [(kind: String, name: String)], allowNSFW: Bool, minScore: Int = 0, maxSources: Int = 3, poolSize: Int = 50
    ) async throws -> Meme {
        var pool: [Meme] = []
        var lastError: (any Error)?
        for source in sources.shuffled().prefix(max(1, maxSources)) {
            do {
                pool += try await memes(of: source)
            } catch let error as OutboundError {
                lastError = error
                context.logger.warning("meme source failed", metadata: ["source": "\(source.name)", "error": "\(error)"])
            }
        }
        if pool.isEmpty, let lastError { throw lastError }
        let seen = Set(recent.withLock { $0 })
        let candidates = pool.filter { ($0.nsfw == false || allowNSFW) && $0.score >= minScore && !seen.contains($0.url) }
            .sorted { $0.score > $1.score }.prefix(max(1, poolSize))
        guard let meme = candidates.randomElement() else {
            throw APIError.notFound("no_memes", "No meme found that has not been shown lately; try another source.")
        }
        let memory = max(0, (try? context.config().recentMemory) ?? 50)
        recent.withLock { urls in
            urls.append(meme.url)
            if urls.count > memory { urls.removeFirst(urls.count - memory) }
        }
        return meme
    }

    /// Every configured source of the kinds in `meme_sources`.
    func allSources() throws -> [(kind: String, name: String)] {
        let config = try context.config()
        var sources: [(String, String)] = []
        if config.memeSources.contains(Self.reddit) { sources += config.defaultSubreddits.map { (Self.reddit, $0.lowercased()) } }
        if config.memeSources.contains(Self.lemmy) { sources += config.defaultLemmy.map { (Self.lemmy, $0.lowercased()) } }
        return sources
    }

    /// Posts `meme` to the live log as the bot (Guildhall's stand-in for the Discord meme channel); answers the
    /// message. Publishes `meme.posted`.
    func post(_ meme: Meme, by caller: Identity?, note: String) async throws -> JSONValue {
        let config = try context.config()
        let message = try await context.liveLog.post([
            "type": "user", "user_id": "bot", "username": "Memes", "user_badge": "bot",
            "content": .string("\(note): \(meme.title) \(meme.url)"),
            "metadata": ["image_url": .string(meme.url), "meme": meme.json, "channel_id": .string(config.memeChannelID.rawValue),
                         "requested_by": caller.map { .string($0.username) } ?? .null],
        ])
        context.events.publish(
            "meme.posted", payload: ["title": .string(meme.title), "url": .string(meme.url), "source": .string(meme.source),
                                     "by": caller.map { .string($0.username) } ?? "daily"] as JSONValue,
            guild: nil, correlationID: nil)
        return message
    }
}
