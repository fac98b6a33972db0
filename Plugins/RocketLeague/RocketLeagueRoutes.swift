import Foundation
import PluginAPI

/// Document 004's routes (`/api/rocket-league/stats`, `check-ranks`, `link`, `tracked`) and the admin app's
/// (`/api/user/rocket-league/*`, `/api/rocket-league/accounts`) over one `RankService`.
struct RocketLeagueRoutes {
    let ranks: RankService
    let context: any CogContext<RocketLeagueConfig>
    var store: RocketLeagueStore { ranks.store }

    struct PlayerPath: Decodable, Sendable {
        var platform: String
        var username: String
    }

    struct LinkRequest: Decodable, Sendable {
        var platform: String
        var username: String
    }

    struct UserPath: Decodable, Sendable {
        var userId: Int64

        enum CodingKeys: String, CodingKey { case userId = "user_id" }
    }

    func register() {
        context.route(
            .get, "/api/rocket-league/stats/{platform}/{username}", access: .user,
            summary: "A player's ranks: document 004's `ranks` and the app's `stats` in one answer", parameters: PlayerPath.self,
            responses: [
                .json(.ok, JSONValue.self, "`{username, platform, ranks, cached, success, stats}`"),
                .error(.badRequest, "invalid_platform"), .error(.notFound, "player_not_found"),
                .error(.badGateway, "upstream_unavailable", "upstream_error", "bad_upstream_answer"), .error(.gatewayTimeout, "upstream_timeout"),
            ]
        ) { call in
            let platform = try RankService.platform(call.parameters.platform)
            // The answer itself is kept beside the profile (same life, same tag): a dashboard asking again gets bytes.
            let key = "answer:\(platform)/\(call.parameters.username.lowercased())"
            if let kept = context.cache.value(forKey: key, as: CogResponse.self) { return kept }
            let (player, cached) = try await ranks.lookUp(platform: platform, username: call.parameters.username)
            func answer(cached: Bool) throws -> CogResponse {
                try ([
                    "username": .string(player.handle), "platform": .string(platform), "ranks": player.documentRanks, "cached": .bool(cached),
                    "success": true, "stats": player.appStats(platform: platform),
                ] as JSONValue).response()
            }
            context.cache.set(try answer(cached: true), forKey: key, ttl: .seconds(try context.config().rankCacheTTLSeconds), tags: ["profiles"])
            return try answer(cached: cached)
        }
        context.route(
            .post, "/api/rocket-league/check-ranks", access: .admin, summary: "Check every linked account now and report the changes",
            responses: [.json(.ok, JSONValue.self, "`{success, message, checked, failed, changes}`")]
        ) { _ in
            let report = try await ranks.checkAll()
            return [
                "success": true, "message": .string("Rank check completed: \(report.checked) checked, \(report.changes.count) changed"),
                "checked": .int(Int64(report.checked)), "failed": .int(Int64(report.failed)), "changes": .array(report.changes),
            ] as JSONValue
        }
        registerAccounts()
    }

    private func registerAccounts() {
        for path in ["/api/rocket-league/link", "/api/user/rocket-league/link"] {
            context.route(
                .post, path, access: .user, summary: "Link the caller's Rocket League account (checked with the service)",
                body: LinkRequest.self,
                responses: [
                    .json(.ok, JSONValue.self, "`{success, message, account}`"), .error(.conflict, "already_linked"),
                    .error(.notFound, "player_not_found"),
                ]
            ) { call in
                let caller = try call.requireIdentity(), guild = try call.requireGuild()
                let platform = try RankService.platform(call.body.platform)
                let username = call.body.username.trimmingCharacters(in: .whitespaces)
                guard try await store.account(of: caller.userID, in: guild) == nil else { throw Self.alreadyLinked }
                let (player, _) = try await ranks.lookUp(platform: platform, username: username, fresh: true)
                guard try await store.link(caller, in: guild, platform: platform, username: username, ranks: player) else {
                    throw Self.alreadyLinked
                }
                return [
                    "success": true, "message": .string("Linked Rocket League account \(player.handle)"),
                    "account": ["platform": .string(platform), "username": .string(username), "ranks": player.tierNames],
                ] as JSONValue
            }
        }
        for path in ["/api/rocket-league/link", "/api/user/rocket-league/unlink"] {
            context.route(
                .delete, path, access: .user, summary: "Unlink the caller's account",
                responses: [.json(.ok, JSONValue.self, "`{success, message}`"), .error(.notFound, "not_linked")]
            ) { call in
                guard let account = try await store.unlink(try call.requireIdentity().userID, in: try call.requireGuild()) else {
                    throw APIError.notFound("not_linked", "No Rocket League account is linked.")
                }
                return ["success": true, "message": .string("Unlinked Rocket League account \(account.rlUsername)")] as JSONValue
            }
        }
        context.route(
            .get, "/api/user/rocket-league/account", access: .user, summary: "The caller's linked account",
            responses: [.json(.ok, JSONValue.self, "`{linked, account?}`")]
        ) { call in
            guard let account = try await store.account(of: try call.requireIdentity().userID, in: try call.requireGuild()) else {
                return ["linked": false] as JSONValue
            }
            return ["linked": true, "account": account.appView] as JSONValue
        }
        context.route(
            .post, "/api/user/rocket-league/post-stats", access: .user, summary: "Post the caller's ranks to the live log",
            responses: [.json(.ok, JSONValue.self, "`{success, message}`"), .error(.notFound, "not_linked")]
        ) { call in
            let caller = try call.requireIdentity()
            guard let account = try await store.account(of: caller.userID, in: try call.requireGuild()) else {
                throw APIError.notFound("not_linked", "Link a Rocket League account first.")
            }
            let (player, _) = try await ranks.lookUp(platform: account.platform, username: account.rlUsername)
            let lines = PlayerRanks.keys.compactMap { key in player.playlists[key].map { "\(key): \($0.display)" } }
            _ = try await context.liveLog.post([
                "type": "user", "user_id": "bot", "username": "Rocket League", "user_badge": "bot",
                "content": .string("\(caller.username) — \(player.handle) (\(account.platform)): " + lines.joined(separator: ", ")),
                "metadata": ["ranks": player.tierNames, "icon_url": player.highestIconURL.map(JSONValue.string) ?? .null],
            ])
            return ["success": true, "message": "Your Rocket League stats were posted"] as JSONValue
        }
        for (path, access) in [("/api/rocket-league/tracked", Access.moderator), ("/api/rocket-league/accounts", Access.admin)] {
            context.route(
                .get, path, access: access, summary: "The guild's linked accounts (a bare list)",
                responses: [.json(.ok, JSONValue.self, "`[{user_id, username, display_name, platform, rl_username, ranks, ...}]`")]
            ) { call in
                let accounts = try await store.accounts(in: try call.requireGuild())
                return JSONValue.array(accounts.map { account in
                    guard case .object(var view) = account.appView else { return .null }
                    view["user_id"] = .string(String(account.userID))
                    view["username"] = .string(account.userName)
                    view["display_name"] = .string(account.userName)
                    view["avatar_url"] = .null
                    view["rl_username"] = .string(account.rlUsername)
                    return .object(view)
                })
            }
        }
        context.route(
            .delete, "/api/rocket-league/accounts/{user_id}", access: .admin, summary: "Unlink a member's account",
            parameters: UserPath.self, responses: [.json(.ok, JSONValue.self, "`{success, message}`"), .error(.notFound, "not_linked")]
        ) { call in
            guard let account = try await store.unlink(call.parameters.userId, in: try call.requireGuild()) else {
                throw APIError.notFound("not_linked", "That member has no linked account.")
            }
            return ["success": true, "message": .string("Unlinked \(account.userName)'s account \(account.rlUsername)")] as JSONValue
        }
    }

    static let alreadyLinked = APIError.conflict("already_linked", "You have a Rocket League account linked; unlink it first.")
}
