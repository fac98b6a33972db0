import Foundation
import PluginAPI

/// Looks players up through the host's outbound client and keeps linked accounts' ranks current.
struct RankService: Sendable {
    let context: any CogContext<RocketLeagueConfig>
    let store: RocketLeagueStore
    /// `ROCKET_LEAGUE_API_KEY`, read once: the environment is copied out on every read.
    let environmentKey = ProcessInfo.processInfo.environment["ROCKET_LEAGUE_API_KEY"] ?? ""

    static let platforms = ["steam", "epic", "psn", "xbl"]
    static let upstream = "tracker-network"

    /// `name` as a supported platform; 400 `invalid_platform` otherwise.
    static func platform(_ name: String) throws -> String {
        let platform = name.lowercased()
        guard platforms.contains(platform) else {
            throw APIError(
                .badRequest, "invalid_platform", "The platform must be one of: \(platforms.joined(separator: ", ")).",
                details: ["field": "platform"])
        }
        return platform
    }

    /// The player's ranks: from the cache for `rank_cache_ttl_seconds` (`fresh` asks the service), and whether they
    /// came from the cache. 404 `player_not_found` if the service does not know them.
    func lookUp(platform: String, username: String, fresh: Bool = false) async throws -> (PlayerRanks, cached: Bool) {
        let config = try context.config()
        let name = username.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else {
            throw APIError(.badRequest, "invalid_field", "The username must be 1 to 100 characters.", details: ["field": "username"])
        }
        // The profile as read, kept as long as the outbound cache keeps its answer, so a cached lookup parses nothing.
        let memo = "ranks:\(platform)/\(name.lowercased())"
        if !fresh, let known = context.cache.value(forKey: memo, as: PlayerRanks.self) { return (known, true) }
        let (ranks, cached) = try await fetch(platform: platform, name: name, fresh: fresh, config: config)
        if !cached { context.cache.set(ranks, forKey: memo, ttl: .seconds(config.rankCacheTTLSeconds), tags: ["profiles"]) }
        return (ranks, cached)
    }

    private func fetch(platform: String, name: String, fresh: Bool, config: RocketLeagueConfig) async throws -> (PlayerRanks, cached: Bool) {
        let key = config.apiKey.isEmpty ? environmentKey : config.apiKey
        var headers = HTTPFields()
        headers[.accept] = "application/json"
        if !key.isEmpty, let field = HTTPField.Name("TRN-Api-Key") { headers[field] = key }
        let path = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? name
        let answer = try await context.outbound.send(OutboundRequest(
            url: "\(config.apiBaseURL)/standard/profile/\(platform)/\(path)", headers: headers, upstream: Self.upstream,
            timeout: .seconds(config.requestTimeoutSeconds),
            cache: fresh ? nil : OutboundCache(ttl: .seconds(config.rankCacheTTLSeconds), tags: ["profiles"])))
        switch answer.status.code {
        case 200: return (try PlayerRanks(profile: try answer.json(), upstream: Self.upstream), answer.cached)
        case 404: throw APIError.notFound("player_not_found", "No \(platform) player named \(name).")
        default: throw OutboundError.failed(upstream: Self.upstream, status: answer.status.code)
        }
    }

    /// What a rank check found: accounts checked, those that failed, and each changed playlist.
    struct CheckReport: Sendable {
        var checked = 0
        var failed = 0
        var changes: [JSONValue] = []
    }

    /// Asks the service for every linked account, one at a time with `check_spacing_milliseconds` between them;
    /// a changed tier is stored, published as `rocketleague.rank_changed` and announced in the live log.
    func checkAll() async throws -> CheckReport {
        var report = CheckReport()
        let spacing = Duration.milliseconds(try context.config().checkSpacingMilliseconds)
        for (index, account) in try await store.accounts(in: nil).enumerated() {
            if index > 0 { try await Task.sleep(for: spacing) }
            do {
                let (now, _) = try await lookUp(platform: account.platform, username: account.rlUsername, fresh: true)
                report.checked += 1
                let changes = account.playerRanks.map { now.changes(since: $0) } ?? []
                try await store.record(now, for: account)
                for change in changes { report.changes.append(await announce(change, of: account)) }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                report.failed += 1
                context.logger.warning("rank check failed", metadata: ["user_id": "\(account.userID)", "error": "\(error)"])
            }
        }
        return report
    }

    private func announce(_ change: (playlist: String, from: String, to: String), of account: RocketLeagueStore.Account) async -> JSONValue {
        let payload: JSONValue = [
            "user_id": .string(String(account.userID)), "username": .string(account.userName), "platform": .string(account.platform),
            "rl_username": .string(account.rlUsername), "playlist": .string(change.playlist), "from": .string(change.from),
            "to": .string(change.to),
        ]
        context.events.publish("rocketleague.rank_changed", payload: payload, guild: account.guildID, correlationID: nil)
        do {
            _ = try await context.liveLog.post([
                "type": "user", "user_id": "bot", "username": "Rocket League", "user_badge": "bot", "metadata": payload,
                "content": .string("\(account.userName) reached \(change.to) in \(change.playlist)"),
            ])
        } catch {
            context.logger.warning("rank change not posted", metadata: ["error": "\(error)"])
        }
        return payload
    }
}
