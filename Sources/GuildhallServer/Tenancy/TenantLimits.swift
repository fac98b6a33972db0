import Foundation
import HTTPTypes
import Metrics
import PluginAPI

/// The budgets of guild API keys and of their guilds: requests and events per minute (token buckets) and open
/// gateway connections. People signed in with a token are not counted here; machines are.
final class TenantLimits: Sendable {
    let defaults: TenancySettings
    private let requests = TokenBuckets()
    private let events = TokenBuckets()
    private let connections = ConnectionCounts()

    init(defaults: TenancySettings) {
        self.defaults = defaults
    }

    /// A guild's own budgets: `settings.rate_limits` (as in the combat log document), else the deployment's.
    struct GuildBudget {
        var requestsPerMinute: Int
        var eventsPerMinute: Int
        var maxConnections: Int
    }

    func budget(of guild: Guild) -> GuildBudget {
        let limits = guild.settings["rate_limits"]
        func value(_ key: String, _ fallback: Int) -> Int {
            if case .int(let number)? = limits?[key], number > 0 { return Int(clamping: number) }
            return fallback
        }
        return GuildBudget(
            requestsPerMinute: value("requests_per_minute", defaults.guildRequestsPerMinute),
            eventsPerMinute: value("events_per_minute", defaults.guildEventsPerMinute),
            maxConnections: value("max_connections", defaults.guildMaxConnections))
    }

    /// Counts one request of `key`; answers the rate headers for the response, or throws 429 with Retry-After.
    func admitRequest(of key: APIKey, in guild: Guild) throws -> [HTTPField] {
        let outcome = requests.take(
            1, from: [("key:\(key.id)", key.requestsPerMinute), ("guild:\(guild.id)", budget(of: guild).requestsPerMinute)])
        switch outcome {
        case .allowed(let remaining):
            return [
                HTTPField(name: .rateLimitLimit, value: String(key.requestsPerMinute)),
                HTTPField(name: .rateLimitRemaining, value: String(remaining)),
            ]
        case .refused(let bucket, let perMinute, let wait):
            throw Self.refusal("requests", of: bucket, perMinute: perMinute, wait: wait)
        }
    }

    /// Charges `count` events to `guild` and, if given, to `key`; throws 429 with Retry-After past either budget.
    func charge(events count: Int, key: APIKey?, in guild: Guild) throws {
        var limits = [("guild:\(guild.id)", budget(of: guild).eventsPerMinute)]
        if let key { limits.append(("key:\(key.id)", key.eventsPerMinute)) }
        if case .refused(let bucket, let perMinute, let wait) = events.take(count, from: limits) {
            throw Self.refusal("events", of: bucket, perMinute: perMinute, wait: wait)
        }
    }

    /// Counts a gateway connection of `key`; answers false when the key or its guild holds its maximum already.
    func openConnection(of key: APIKey, in guild: Guild) -> Bool {
        let opened = connections.open([("key:\(key.id)", key.maxConnections), ("guild:\(guild.id)", budget(of: guild).maxConnections)])
        if !opened { Self.count("connections") }
        return opened
    }

    func closeConnection(of key: APIKey) {
        connections.close(["key:\(key.id)", "guild:\(key.guildID)"])
    }

    /// 429 naming what ran out (`requests` or `events`) and whose budget (`key` or `guild`).
    private static func refusal(_ limit: String, of bucket: String, perMinute: Int, wait: Duration) -> APIError {
        count(limit)
        let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
        let owner = bucket.hasPrefix("key:") ? "key" : "guild"
        return APIError(
            .tooManyRequests, "rate_limited", "Too many \(limit) for this \(owner); retry in \(seconds) s.",
            details: [
                "limit": .string(limit), "budget": .string(owner), "per_minute": .int(Int64(perMinute)), "retry_after": .int(Int64(seconds)),
            ],
            headers: [.retryAfter: String(seconds), .rateLimitLimit: String(perMinute), .rateLimitRemaining: "0"])
    }

    private static func count(_ limit: String) {
        Counter(label: "guildhall_rate_limited_total", dimensions: [("limit", limit)]).increment()
    }
}

extension HTTPField.Name {
    static let rateLimitLimit = Self("X-RateLimit-Limit")!
    static let rateLimitRemaining = Self("X-RateLimit-Remaining")!
}
