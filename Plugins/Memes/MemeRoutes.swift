import Foundation
import PluginAPI

/// Document 004's meme routes (`/api/memes/*`) and the admin app's (`/api/meme-sources`, `/api/test/*`,
/// `/api/meme-generator/*`, `/api/daily-meme/*`) over one feed, one Imgflip client and one daily task.
struct MemeRoutes {
    let context: any CogContext<MemeConfig>
    let feed: MemeFeed
    let imgflip: Imgflip
    let daily: DailyMeme

    struct RandomQuery: Decodable, Sendable {
        var source: String?
        var subreddit: String?
        var community: String?
    }

    struct SourceQuery: Decodable, Sendable {
        var source: String
    }

    struct SendMeme: Decodable, Sendable {
        var meme: Meme
    }

    struct Generate: Decodable, Sendable {
        var templateId: JSONValue
        var texts: [String]?

        enum CodingKeys: String, CodingKey {
            case templateId = "template_id", texts
        }
    }

    struct PostGenerated: Decodable, Sendable {
        var memeUrl: String
        var templateName: String?
        var texts: [String]?

        enum CodingKeys: String, CodingKey {
            case memeUrl = "meme_url", templateName = "template_name", texts
        }
    }

    static let upstreamErrors: [ResponseDescription] = [
        .error(.badGateway, "upstream_unavailable", "upstream_error", "bad_upstream_answer"), .error(.gatewayTimeout, "upstream_timeout"),
        .error(.notFound, "no_memes"),
    ]

    func register() {
        registerFeed()
        registerGenerator()
        registerDaily()
    }

    private func registerFeed() {
        context.route(
            .get, "/api/memes/random", access: .user, summary: "A random image meme: `?source=reddit|lemmy`, `?subreddit=` or `?community=`",
            query: RandomQuery.self, responses: [.json(.ok, JSONValue.self, "`{title, url, source, subreddit|community, author, score, permalink, nsfw}`")]
                + Self.upstreamErrors
        ) { call in
            let config = try context.config()
            var sources = try feed.allSources()
            if let named = call.query.subreddit ?? call.query.community {
                sources = [try feed.configuredSource(named)]
            } else if let kind = call.query.source?.lowercased() {
                guard [MemeFeed.reddit, MemeFeed.lemmy].contains(kind) else {
                    throw APIError(.badRequest, "invalid_field", "source must be reddit or lemmy.", details: ["field": "source"])
                }
                sources = sources.filter { $0.kind == kind }
            }
            guard !sources.isEmpty else { throw APIError.notFound("no_memes", "No meme source is configured.") }
            return try await feed.pick(from: sources, allowNSFW: config.allowNSFW).json
        }
        context.route(
            .get, "/api/memes/sources", access: .user, summary: "The configured meme sources",
            responses: [.json(.ok, JSONValue.self, "`{sources, subreddits, lemmy_communities}`")]
        ) { _ in
            let config = try context.config()
            return [
                "sources": .array(config.memeSources.map(JSONValue.string)), "subreddits": .array(config.defaultSubreddits.map(JSONValue.string)),
                "lemmy_communities": .array(config.defaultLemmy.map(JSONValue.string)),
            ] as JSONValue
        }
        context.route(
            .get, "/api/meme-sources", access: .user, summary: "The configured sources, as the admin app reads them",
            responses: [.json(.ok, JSONValue.self, "`{success, sources: {subreddits, lemmy}}`")]
        ) { _ in
            let config = try context.config()
            return [
                "success": true,
                "sources": ["subreddits": .array(config.defaultSubreddits.map(JSONValue.string)), "lemmy": .array(config.defaultLemmy.map(JSONValue.string))],
            ] as JSONValue
        }
        context.route(
            .get, "/api/test/random-meme", access: .user, summary: "A random meme from every configured source (no NSFW)",
            responses: [.json(.ok, JSONValue.self, "`{success, meme}`")] + Self.upstreamErrors
        ) { _ in
            ["success": true, "meme": try await feed.pick(from: try feed.allSources(), allowNSFW: false).json] as JSONValue
        }
        context.route(
            .get, "/api/test/meme-from-source", access: .user, summary: "A meme from one configured source (`?source=` subreddit or instance@community)",
            query: SourceQuery.self, responses: [.json(.ok, JSONValue.self, "`{success, source, source_type, meme}`"), .error(.badRequest, "unknown_source")]
                + Self.upstreamErrors
        ) { call in
            let source = try feed.configuredSource(call.query.source)
            let meme = try await feed.pick(from: [source], allowNSFW: try context.config().allowNSFW)
            return [
                "success": true, "source": .string(source.kind == MemeFeed.reddit ? "r/\(source.name)" : source.name),
                "source_type": .string(source.kind), "meme": meme.json,
            ] as JSONValue
        }
        context.route(
            .post, "/api/test/send-meme", access: .user, summary: "Post a meme to the community's live log (the app's 'send to Discord')",
            body: SendMeme.self, responses: [.json(.ok, JSONValue.self, "`{success, message, message_id, channel_id}`")]
        ) { call in
            guard Meme.isImage(call.body.meme.url), call.body.meme.url.hasPrefix("https://") || call.body.meme.url.hasPrefix("http://") else {
                throw APIError(.badRequest, "invalid_field", "meme.url must be an image's address.", details: ["field": "meme.url"])
            }
            let message = try await feed.post(call.body.meme, by: try call.requireIdentity(), note: "Meme sent by \(try call.requireIdentity().username)")
            return [
                "success": true, "message": "Meme posted", "message_id": message["id"] ?? .null,
                "channel_id": .string(try context.config().memeChannelID.rawValue),
            ] as JSONValue
        }
    }

    private func registerGenerator() {
        for path in ["/api/memes/templates", "/api/meme-generator/templates"] {
            context.route(
                .get, path, access: .user, summary: "Imgflip's meme templates, cached for templates_cache_duration",
                responses: [.json(.ok, JSONValue.self, "`{success, data: {memes}}` and the app's `{templates, count, cached}`")] + Self.upstreamErrors
            ) { _ in
                let (templates, cached) = try await imgflip.templates()
                return [
                    "success": true, "data": ["memes": .array(templates)], "templates": .array(templates), "count": .int(Int64(templates.count)),
                    "cached": .bool(cached),
                ] as JSONValue
            }
        }
        context.route(
            .post, "/api/meme-generator/templates/refresh", access: .admin, summary: "Fetch the templates from Imgflip now",
            responses: [.json(.ok, JSONValue.self, "`{success, message, count}`")] + Self.upstreamErrors
        ) { _ in
            let (templates, _) = try await imgflip.templates(refresh: true)
            return ["success": true, "message": "Templates refreshed", "count": .int(Int64(templates.count))] as JSONValue
        }
        context.route(
            .post, "/api/meme-generator/generate", access: .user, summary: "Caption a template through Imgflip: `{template_id, texts}`",
            body: Generate.self,
            responses: [.json(.ok, JSONValue.self, "`{success, url}`"), .error(.serviceUnavailable, "imgflip_not_configured"),
                        .error(.badGateway, "caption_failed")] + Self.upstreamErrors
        ) { call in
            let id: String
            switch call.body.templateId {
            case .string(let text) where !text.isEmpty: id = text
            case .int(let number): id = String(number)
            default: throw APIError(.badRequest, "invalid_field", "template_id is required.", details: ["field": "template_id"])
            }
            let texts = call.body.texts ?? []
            guard texts.count <= 20, texts.allSatisfy({ $0.count <= 500 }) else {
                throw APIError(.badRequest, "invalid_field", "At most 20 texts of 500 characters.", details: ["field": "texts"])
            }
            return ["success": true, "url": .string(try await imgflip.caption(templateID: id, texts: texts))] as JSONValue
        }
        context.route(
            .post, "/api/meme-generator/post-to-discord", access: .user, summary: "Post a generated meme to the live log",
            body: PostGenerated.self, responses: [.json(.ok, JSONValue.self, "`{success, message, channel_id, message_id}`")]
        ) { call in
            let caller = try call.requireIdentity()
            guard call.body.memeUrl.hasPrefix("https://") || call.body.memeUrl.hasPrefix("http://") else {
                throw APIError(.badRequest, "invalid_field", "meme_url must be an address.", details: ["field": "meme_url"])
            }
            let name = call.body.templateName ?? "Custom meme"
            let meme = Meme(
                title: "\(name): " + (call.body.texts ?? []).filter { !$0.isEmpty }.joined(separator: " / "), url: call.body.memeUrl,
                source: "generator", subreddit: "generator", community: nil, author: caller.username, score: 0, permalink: call.body.memeUrl, nsfw: false)
            let message = try await feed.post(meme, by: caller, note: "Custom meme by \(caller.username)")
            return [
                "success": true, "message": "Meme posted", "channel_id": .string(try context.config().memeChannelID.rawValue),
                "message_id": message["id"] ?? .null,
            ] as JSONValue
        }
    }

    /// The app's daily-meme keys and the config keys behind them.
    static let dailyKeys: [String: String] = [
        "enabled": "daily_enabled", "hour": "daily_hour", "minute": "daily_minute", "channel_id": "daily_channel_id",
        "role_id": "daily_role_id", "allow_nsfw": "daily_allow_nsfw", "subreddits": "default_subreddits",
        "lemmy_communities": "default_lemmy", "min_score": "min_score", "max_sources": "max_sources", "pool_size": "pool_size",
        "use_subreddits": "use_subreddits", "use_lemmy": "use_lemmy",
    ]

    /// The app's view of the daily meme settings.
    static func dailyView(_ config: MemeConfig) -> JSONValue {
        [
            "enabled": .bool(config.dailyEnabled), "hour": .int(Int64(config.dailyHour)), "minute": .int(Int64(config.dailyMinute)),
            "channel_id": .string(config.dailyChannelID.rawValue), "role_id": .string(config.dailyRoleID.rawValue),
            "allow_nsfw": .bool(config.dailyAllowNSFW), "available_subreddits": .array(config.defaultSubreddits.map(JSONValue.string)),
            "available_lemmy": .array(config.defaultLemmy.map(JSONValue.string)), "min_score": .int(Int64(config.minScore)),
            "max_sources": .int(Int64(config.maxSources)), "pool_size": .int(Int64(config.poolSize)),
            "use_subreddits": config.useSubreddits.isEmpty ? .null : .array(config.useSubreddits.map(JSONValue.string)),
            "use_lemmy": config.useLemmy.isEmpty ? .null : .array(config.useLemmy.map(JSONValue.string)),
            "time_zone": .string(config.dailyTimeZone),
        ]
    }

    private func registerDaily() {
        context.route(
            .get, "/api/daily-meme/config", access: .user, summary: "The daily meme's settings, as the admin app reads them",
            responses: [.json(.ok, JSONValue.self)]
        ) { _ in Self.dailyView(try context.config()) }
        context.route(
            .post, "/api/daily-meme/config", access: .admin,
            summary: "Change the daily meme's settings (the app's keys; stored in the meme section with its history)",
            body: JSONValue.self, responses: [.json(.ok, JSONValue.self, "`{success, message, config}`"), .error(.badRequest, "invalid_field", "invalid_config")]
        ) { call in
            guard case .object(let given) = call.body else {
                throw APIError(.badRequest, "invalid_field", "Send an object of settings.")
            }
            var changes: [String: JSONValue] = [:]
            for (key, value) in given {
                guard let target = Self.dailyKeys[key] else {
                    throw APIError(
                        .badRequest, "invalid_field", "\(key) is not a daily meme setting; expected one of: \(Self.dailyKeys.keys.sorted().joined(separator: ", ")).",
                        details: ["field": .string(key)])
                }
                changes[target] = value == .null && target.hasPrefix("use_") ? .array([]) : value
            }
            let config = try await context.updateConfig(.object(changes), by: try call.requireIdentity())
            return ["success": true, "message": "Daily meme configuration updated", "config": Self.dailyView(config)] as JSONValue
        }
        context.route(
            .post, "/api/daily-meme/config/reset", access: .admin, summary: "Put the meme section back to config.yaml's values",
            responses: [.json(.ok, JSONValue.self, "`{success, message, config}`")]
        ) { call in
            let config = try await context.resetConfig(by: try call.requireIdentity())
            return ["success": true, "message": "Daily meme configuration reset", "config": Self.dailyView(config)] as JSONValue
        }
        context.route(
            .post, "/api/test/daily-meme", access: .admin, summary: "Post a daily meme now", responses: [.json(.ok, JSONValue.self, "`{success, message}`")]
                + Self.upstreamErrors
        ) { _ in
            try await daily.post(try context.config())
            return ["success": true, "message": "Daily meme posted"] as JSONValue
        }
    }
}
