import Foundation
import GuildhallTesting
import PluginAPI
import RocketLeagueCog
import Synchronization
import XCTest

@testable import GuildhallServer

/// The Rocket League cog against a fake Tracker Network on 127.0.0.1: both contracts' routes, and every way the
/// upstream fails, through the host's outbound client.
final class RocketLeagueTests: XCTestCase {
    static let catalogue: [any Cog.Type] = [RocketLeagueCog.self]
    static let key = "trn-secret-key-0123"

    /// Players the fake knows: `platform/name` → tier per playlist.
    final class Players: Sendable {
        let tiers = Mutex<[String: [String: String]]>([:])
        func set(_ player: String, _ ranks: [String: String]) { tiers.withLock { $0[player] = ranks } }
    }

    /// A Tracker Network v2 profile answer.
    static func profile(_ handle: String, _ ranks: [String: String]) -> JSONValue {
        let names = ["1v1": "Ranked Duel 1v1", "2v2": "Ranked Doubles 2v2", "3v3": "Ranked Standard 3v3"]
        let playlists: [JSONValue] = ranks.sorted { $0.key < $1.key }.map { key, tier in
            [
                "type": "playlist", "attributes": ["playlistId": 11], "metadata": ["name": .string(names[key] ?? key)],
                "stats": [
                    "tier": ["value": 15, "metadata": ["name": .string(tier), "iconUrl": .string("https://trackercdn.test/\(tier).png")]],
                    "division": ["value": 2, "metadata": ["name": "Division III"]], "rating": ["value": 1151.0],
                ],
            ]
        }
        return ["data": ["platformInfo": ["platformSlug": "steam", "platformUserHandle": .string(handle)],
                         "segments": .array([["type": "overview", "stats": [:]]] + playlists)]]
    }

    static func serve(_ players: Players, on upstream: FakeUpstream) {
        upstream.answer(.get, "/api/v2/rocket-league/standard/profile/*") { request in
            let parts = request.path.split(separator: "/").suffix(2).map { $0.removingPercentEncoding ?? String($0) }
            guard let ranks = players.tiers.withLock({ $0["\(parts[0])/\(parts[1])"] }) else {
                return .json(["errors": [["code": "CollectorResultStatus::NotFound"]]], status: 404)
            }
            return .json(profile(parts[1], ranks))
        }
    }

    static func host(_ upstream: FakeUpstream, _ extra: [String: JSONValue] = [:]) -> TestHost {
        TestHost(enabled: ["rocket_league"]) { config in
            config.outbound.backoffBaseMilliseconds = 10
            config.outbound.backoffMaxMilliseconds = 40
            config.outbound.breakerFailures = 3
            config.outbound.breakerCooldownSeconds = 1
            var section: [String: JSONValue] = [
                "api_base_url": .string("\(upstream.baseURL)/api/v2/rocket-league"), "api_key": .string(key),
                "request_timeout_seconds": 2, "check_spacing_milliseconds": 0,
            ]
            section.merge(extra) { $1 }
            config.runtimeSections["rocket_league"] = .object(section)
        }
    }

    func testStatsInBothShapesCachedAndNamingTheDeployment() async throws {
        try await FakeUpstream.run { upstream in
            let players = Players()
            players.set("steam/Ace", ["1v1": "Diamond II", "2v2": "Champion II", "3v3": "Gold I"])
            Self.serve(players, on: upstream)
            let host = Self.host(upstream)
            defer { host.removeFolder() }
            try await host.run(catalogue: Self.catalogue) { server in
                let user = try await server.token("user")
                let first = try await server.request(.GET, "/api/rocket-league/stats/steam/Ace", token: user)
                XCTAssertEqual(first.status, 200)
                XCTAssertEqual(first.json["username"], "Ace")
                XCTAssertEqual(first.json["platform"], "steam")
                XCTAssertEqual(first.json["ranks"]?["2v2"], ["tier": "Champion II", "division": 3, "mmr": 1151])
                XCTAssertEqual(first.json["cached"], false)
                let stats = first.json["stats"]
                XCTAssertEqual(stats?["platform"], "STEAM")
                XCTAssertEqual(stats?["rank_2v2"], "Champion II Div III")
                XCTAssertEqual(stats?["rank_4v4"], "Unranked")
                XCTAssertEqual(stats?["tier_names"]?["1v1"], "Diamond II")
                XCTAssertEqual(stats?["icon_urls"]?["3v3"], "https://trackercdn.test/Gold I.png")
                XCTAssertEqual(stats?["highest_icon_url"], "https://trackercdn.test/Champion II.png")

                let second = try await server.request(.GET, "/api/rocket-league/stats/STEAM/Ace", token: user)
                XCTAssertEqual(second.json["cached"], true)
                XCTAssertEqual(upstream.requests.count, 1, "the second answer came from the cache")
                let sent = try XCTUnwrap(upstream.requests.first)
                XCTAssertEqual(sent.headers["trn-api-key"], Self.key)
                XCTAssertTrue(sent.headers["user-agent"]?.hasPrefix("Guildhall/") == true, sent.headers["user-agent"] ?? "")
                XCTAssertTrue(sent.headers["user-agent"]?.contains("(Guildhall)") == true, "names the deployment's bot")

                let unknown = try await server.request(.GET, "/api/rocket-league/stats/epic/Nobody", token: user)
                XCTAssertEqual(unknown.status, 404)
                XCTAssertEqual(unknown.error, "player_not_found")
                try await assertEqual(await server.request(.GET, "/api/rocket-league/stats/switch/Ace", token: user).error, "invalid_platform")
                try await assertEqual(await server.request(.GET, "/api/rocket-league/stats/steam/Ace").status, 401)

                // The key stays secret in every answer and log.
                let admin = try await server.token("admin")
                let config = try await server.request(.GET, "/api/config/rocket_league", token: admin)
                XCTAssertEqual(config.json["api_key"], "********")
                let logs = try await server.request(.GET, "/api/cogs/rocket_league/logs?limit=200", token: admin)
                for body in [first.body, second.body, config.body, logs.body] {
                    XCTAssertFalse(String(decoding: body, as: UTF8.self).contains(Self.key))
                }
            }
        }
    }

    func testEveryUpstreamFailureAnswersAClearErrorOrTheCache() async throws {
        try await FakeUpstream.run { upstream in
            let players = Players()
            players.set("steam/Ace", ["2v2": "Champion II"])
            players.set("steam/Bee", ["2v2": "Gold I"])
            players.set("steam/Cee", ["2v2": "Silver II"])
            players.set("steam/Dee", ["2v2": "Bronze I"])
            Self.serve(players, on: upstream)
            let host = Self.host(upstream, ["rank_cache_ttl_seconds": 0])
            defer { host.removeFolder() }
            try await host.run(catalogue: Self.catalogue) { server in
                let user = try await server.token("user")
                let stats = { (name: String) in try await server.request(.GET, "/api/rocket-league/stats/steam/\(name)", token: user) }
                try await assertEqual(try await stats("Ace").status, 200, "cached for the failures to come")

                // 500 three times: retried, then the cached answer stands in.
                upstream.fail(.status(500))
                var before = upstream.requests.count
                let stale = try await stats("Ace")
                XCTAssertEqual(stale.status, 200)
                XCTAssertEqual(stale.json["cached"], true)
                XCTAssertEqual(upstream.requests.count - before, 3, "three attempts")
                // Nothing cached for Bee: 502 naming the upstream; the circuit is open now.
                let failed = try await stats("Bee")
                XCTAssertEqual(failed.status, 502)
                XCTAssertEqual(failed.json["upstream"], "tracker-network")
                before = upstream.requests.count
                let refused = try await stats("Bee")
                XCTAssertEqual(refused.error, "upstream_unavailable")
                XCTAssertEqual(upstream.requests.count, before, "an open circuit does not call")
                upstream.recover()
                try await Task.sleep(for: .milliseconds(1100))
                try await assertEqual(try await stats("Bee").status, 200, "a trial call closes the circuit")

                // Garbage, a timeout, and 429s.
                upstream.fail(.garbage, count: 1)
                try await assertEqual(try await stats("Bee").error, "bad_upstream_answer")
                upstream.fail(.delay(.seconds(3)))
                let slow = try await stats("Dee")
                XCTAssertEqual(slow.status, 504)
                XCTAssertEqual(slow.error, "upstream_timeout")
                upstream.recover()
                try await Task.sleep(for: .milliseconds(1100))
                upstream.fail(.status(429, retryAfter: "1"), count: 1)
                let started = ContinuousClock.now
                try await assertEqual(try await stats("Bee").status, 200, "Retry-After 1 s is waited for")
                XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(900))
                upstream.fail(.status(429, retryAfter: "120"))
                let limited = try await stats("Cee")
                XCTAssertEqual(limited.status, 502, "too long to wait, and nothing cached")
                XCTAssertEqual(limited.error, "upstream_unavailable")
                try await assertEqual(try await stats("Bee").json["cached"], true, "Bee's last good answer stands in")
                upstream.recover()
            }
        }
    }

    func testLinkedAccountsAndTheRankCheck() async throws {
        try await FakeUpstream.run { upstream in
            let players = Players()
            players.set("steam/Ace", ["1v1": "Gold I", "2v2": "Gold III"])
            Self.serve(players, on: upstream)
            let host = Self.host(upstream)
            defer { host.removeFolder() }
            try await host.run(catalogue: Self.catalogue) { server in
                let (user, moderator, admin) = (try await server.token("user"), try await server.token("moderator"), try await server.token("admin"))
                let app = { (method: HTTPMethod, path: String, token: String, body: JSONValue?) in
                    try await server.request(
                        method, path, raw: body.map { String(decoding: $0.jsonData(), as: UTF8.self) }, headers: AdminAppCogsTests.appHeaders(token))
                }
                try await assertEqual(try await app(.GET, "/api/user/rocket-league/account", user, nil).json, ["linked": false])
                let missing = try await app(.POST, "/api/user/rocket-league/link", user, ["platform": "steam", "username": "Ghost"])
                XCTAssertEqual(missing.status, 404)
                XCTAssertNotNil(missing.json["error"]?.stringValue)
                let linked = try await app(.POST, "/api/user/rocket-league/link", user, ["platform": "Steam", "username": "Ace"])
                XCTAssertEqual(linked.status, 200)
                XCTAssertEqual(linked.json["account"]?["ranks"]?["1v1"], "Gold I")
                try await assertEqual(
                    try await server.request(.POST, "/api/rocket-league/link", token: user, json: ["platform": "steam", "username": "Ace"]).error,
                    "already_linked")
                let account = try await app(.GET, "/api/user/rocket-league/account", user, nil).json
                XCTAssertEqual(account["linked"], true)
                XCTAssertEqual(account["account"]?["platform"], "steam")
                XCTAssertEqual(account["account"]?["username"], "Ace")
                XCTAssertEqual(account["account"]?["rank_display"]?["2v2"], "Gold III Div III")

                let accounts = try await app(.GET, "/api/rocket-league/accounts", admin, nil)
                XCTAssertEqual(accounts.json.arrayValue?.count, 1)
                XCTAssertEqual(accounts.json.arrayValue?.first?["rl_username"], "Ace")
                XCTAssertEqual(accounts.json.arrayValue?.first?["username"], "user")
                try await assertEqual(try await app(.GET, "/api/rocket-league/accounts", user, nil).status, 403)
                try await assertEqual(try await server.request(.GET, "/api/rocket-league/tracked", token: moderator).json.arrayValue?.count, 1)

                // The player climbs; the check finds it, says so, and a second check finds nothing new.
                players.set("steam/Ace", ["1v1": "Gold I", "2v2": "Platinum II"])
                let check = try await app(.POST, "/api/rocket-league/check-ranks", admin, nil)
                let userID = try await AdminAppTicketsTests.userID("user", on: server)
                XCTAssertEqual(check.status, 200)
                XCTAssertEqual(check.json["changes"], [[
                    "user_id": .string(String(userID)), "username": "user", "platform": "steam",
                    "rl_username": "Ace", "playlist": "2v2", "from": "Gold III", "to": "Platinum II",
                ]])
                XCTAssertNotNil(check.json["message"]?.stringValue)
                try await assertEqual(try await app(.POST, "/api/rocket-league/check-ranks", admin, nil).json["changes"], [])
                let log = try await server.request(.GET, "/api/live-log/messages?limit=20", token: user).json["messages"]?.arrayValue ?? []
                XCTAssertTrue(log.contains { $0["content"] == "user reached Platinum II in 2v2" }, "\(log)")
                try await assertEqual(try await app(.POST, "/api/rocket-league/check-ranks", moderator, nil).status, 403)

                try await assertEqual(try await app(.POST, "/api/user/rocket-league/post-stats", user, [:]).status, 200)
                let posted = try await server.request(.GET, "/api/live-log/messages?limit=5", token: user).json["messages"]?.arrayValue ?? []
                XCTAssertTrue(posted.contains { $0["content"]?.stringValue?.contains("2v2: Platinum II Div III") == true }, "\(posted)")

                // The command, and unlinking both ways.
                let reply = try await server.request(.POST, "/api/bot/messages", token: user, json: ["content": "!rank steam Ace"])
                XCTAssertEqual(reply.json["reply"], "Ace (steam): 1v1: Gold I Div III, 2v2: Platinum II Div III")
                try await assertEqual(try await app(.DELETE, "/api/user/rocket-league/unlink", user, nil).status, 200)
                try await assertEqual(try await app(.DELETE, "/api/user/rocket-league/unlink", user, nil).error, "not_linked")
                _ = try await app(.POST, "/api/user/rocket-league/link", user, ["platform": "steam", "username": "Ace"])
                try await assertEqual(try await app(.DELETE, "/api/rocket-league/accounts/\(userID)", admin, nil).status, 200)
                try await assertEqual(try await app(.GET, "/api/rocket-league/accounts", admin, nil).json, [])

                // A config change applies at once: another base URL, and the next lookup goes there.
                try await assertEqual(
                    try await app(.PUT, "/api/config/rocket_league", admin, ["api_base_url": "http://127.0.0.1:9/nowhere"]).status, 200)
                try await assertEqual(
                    try await server.request(.GET, "/api/rocket-league/stats/steam/Someone", token: user).error, "upstream_unavailable")
                try await assertEqual(try await app(.POST, "/api/config/rocket_league/reset", admin, nil).status, 200)
            }
        }
    }
}
