import CombatLogCog
import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

final class TenancyTests: XCTestCase {
    static let catalogue: [any Cog.Type] = TestCogs.all + [NotesCog.self] + BuiltInCogsTests.catalogue
    /// Every shipped cog, and the test's own guild-scoped cog.
    static let walked = ["notes", "tickets", "memes", "rocket_league", "combatlog"]

    func testAPIKeysAreShownOnceStoredHashedListedAndRevoked() async throws {
        let host = TestHost(enabled: ["notes"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let admin = try await server.token("admin")
            let guild = try await Tenants.guild("Alpha", on: server, admin: admin)
            let created = try await server.request(
                .POST, "/api/v1/admin/guilds/\(guild)/api-keys", token: admin,
                json: ["description": "uploader", "permissions": ["query", "upload"], "events_per_minute": 500])
            XCTAssertEqual(created.status, 201)
            guard let secret = created.json["api_key"]?.stringValue, case .int(let keyID)? = created.json["key"]?["id"] else {
                return XCTFail("no key in \(created.json)")
            }
            XCTAssertTrue(secret.hasPrefix("ghk_"))
            XCTAssertEqual(created.json["key"]?["permissions"], ["query", "upload"])
            XCTAssertEqual(created.json["key"]?["events_per_minute"], 500)
            XCTAssertEqual(created.json["key"]?["max_connections"], 5, "the document's default")

            let listed = try await server.request(.GET, "/api/v1/admin/guilds/\(guild)/api-keys", token: admin)
            guard case .array(let keys)? = listed.json["api_keys"] else { return XCTFail() }
            XCTAssertEqual(keys.map { $0["description"] }, ["uploader"])
            XCTAssertFalse(String(decoding: listed.body, as: UTF8.self).contains(secret), "the secret is never listed")
            let stored = try await server.host.database.read { try $0.rows("SELECT * FROM guild_api_keys", []) }
            XCTAssertFalse(stored.description.contains(secret), "only a hash is stored")
            XCTAssertEqual(stored.first?["key_hash"], .text(APIKeyStore.hash(secret)))

            // Both header forms work; the guild comes from the key.
            let whoami = try await server.request(.GET, "/api/v1/guild", token: secret)
            XCTAssertEqual(whoami.json["guild_id"], .int(guild))
            XCTAssertEqual(whoami.json["guild_name"], "Alpha")
            XCTAssertEqual(whoami.json["caller"]?["type"], "api_key")
            try await assertEqual(await server.request(.GET, "/api/v1/guild", headers: [("X-API-Key", secret)]).json["guild_id"], .int(guild))

            // Bad input on the admin API.
            for (body, field) in [
                (["description": ""] as JSONValue, "description"), (["description": "x", "permissions": []], "permissions"),
                (["description": "x", "max_connections": 0], "max_connections"), (["description": "x", "permissions": "all"], "permissions"),
            ] {
                let refused = try await server.request(.POST, "/api/v1/admin/guilds/\(guild)/api-keys", token: admin, json: body)
                XCTAssertEqual(refused.status, 400, "\(body)")
                XCTAssertEqual(refused.json["field"], .string(field), "\(body)")
            }
            try await assertEqual(
                await server.request(.POST, "/api/v1/admin/guilds/999/api-keys", token: admin, json: ["description": "x"]).error,
                "guild_not_found")
            try await assertEqual(
                await server.request(.POST, "/api/v1/admin/guilds/\(guild)/api-keys", token: server.token("moderator"), json: ["description": "x"]).status,
                403)

            // Revocation is immediate, and a key of another guild cannot be revoked through this one.
            try await assertEqual(await server.request(.DELETE, "/api/v1/admin/guilds/1/api-keys/\(keyID)", token: admin).error, "api_key_not_found")
            let revoked = try await server.request(.DELETE, "/api/v1/admin/guilds/\(guild)/api-keys/\(keyID)", token: admin)
            XCTAssertNotEqual(revoked.json["revoked"]?["revoked_at"], .null)
            try await assertEqual(await server.request(.GET, "/api/v1/guild", token: secret).error, "api_key_revoked")
        }
    }

    func testKeysAreRefusedWhenForgedOutOfPlaceOrTheirGuildIsDeactivated() async throws {
        let host = TestHost(enabled: ["notes"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let admin = try await server.token("admin")
            let guild = try await Tenants.guild("Alpha", on: server, admin: admin)
            let key = try await Tenants.key(for: guild, on: server, admin: admin, ["permissions": ["stream"]])
            let forged = try await server.request(.GET, "/api/v1/guild", token: "ghk_" + String(repeating: "A", count: 43))
            XCTAssertEqual(forged.status, 401)
            XCTAssertEqual(forged.error, "invalid_api_key")
            let lacking = try await server.request(.GET, "/api/notes", token: key)
            XCTAssertEqual(lacking.status, 403)
            XCTAssertEqual(lacking.error, "missing_permission")
            let personal = try await server.request(.GET, "/api/users/me", token: key)
            XCTAssertEqual(personal.status, 403)
            XCTAssertEqual(personal.error, "api_key_not_allowed")
            try await assertEqual(await server.request(.GET, "/api/cogs", headers: [("X-API-Key", key)]).error, "api_key_not_allowed")

            _ = try await server.request(.DELETE, "/api/v1/admin/guilds/\(guild)", token: admin)
            let inactive = try await server.request(.GET, "/api/v1/guild", token: key)
            XCTAssertEqual(inactive.status, 403)
            XCTAssertEqual(inactive.error, "guild_inactive")
            let closed = WSTestClient(port: server.port, path: "/ws", query: "api_key=\(key)")
            try await assertEqual(await closed.closeFrame()?.closeCode, .unknown(4001))
        }
    }

    func testPeopleActInTheirGuildAndOnlyThere() async throws {
        let host = TestHost(enabled: ["notes"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            _ = try await server.request(.POST, "/api/notes", token: tenants.keyA, json: ["text": "alpha plans"])
            let mine = try await server.request(.GET, "/api/notes", token: tenants.alice)
            XCTAssertEqual(mine.json["total"], 1, "alice's only guild is A")
            try await assertEqual(await server.request(.GET, "/api/notes", token: tenants.bob).json["total"], 0)
            let intruding = try await server.request(.GET, "/api/notes", token: tenants.bob, headers: [("X-Guild-Id", String(tenants.a))])
            XCTAssertEqual(intruding.status, 404, "naming a guild one does not belong to is refused")
            XCTAssertEqual(intruding.error, "guild_not_found")
            try await assertEqual(
                await server.request(.GET, "/api/notes", token: tenants.bob, headers: [("X-Guild-Id", "beta")]).error, "invalid_guild_id")
            try await assertEqual(
                await server.request(.GET, "/api/notes", token: admin, headers: [("X-Guild-Id", String(tenants.a))]).json["total"], 1,
                "admins may act in any guild")
            try await assertEqual(
                await server.request(.GET, "/api/notes", token: server.token("user")).json["total"], 0,
                "someone in no guild acts in the default guild")

            guard case .int(let bobID)? = try await server.request(.GET, "/api/users/me", token: tenants.bob).json["user_id"] else {
                return XCTFail()
            }
            _ = try await server.request(.POST, "/api/v1/admin/guilds/\(tenants.a)/members", token: admin, json: ["user_id": .int(bobID)])
            let ambiguous = try await server.request(.GET, "/api/notes", token: tenants.bob)
            XCTAssertEqual(ambiguous.status, 400)
            XCTAssertEqual(ambiguous.error, "guild_required")
            try await assertEqual(
                await server.request(.GET, "/api/notes", token: tenants.bob, headers: [("X-Guild-Id", String(tenants.a))]).json["total"], 1)
        }
    }

    /// The walked cogs' upstreams point at a closed local port: their routes answer 502 at once, never the internet.
    static func walkedHost(plus extra: [String] = []) -> TestHost {
        TestHost(enabled: walked + extra) { config in
            let nowhere = JSONValue.string("http://127.0.0.1:9")
            config.runtimeSections["meme"] = ["reddit_base_url": nowhere, "lemmy_base_url": nowhere, "imgflip_base_url": nowhere]
            config.runtimeSections["rocket_league"] = ["api_base_url": nowhere]
        }
    }

    func testNothingOfOneGuildIsVisibleToAnother() async throws {
        let host = Self.walkedHost()
        defer { host.removeFolder() }
        let result = try await host.run(catalogue: Self.catalogue) { server in
            try await Self.plantAndWalk(server)
        }
        XCTAssertTrue(result.seenByA.contains("/api/notes"), "the walk reached A's data: \(result.seenByA)")
        XCTAssertTrue(result.seenByA.contains("/api/notes/:id"))
        XCTAssertTrue(result.seenByA.contains("/api/notes/settings"))
        for path in [
            "/api/v1/encounters", "/api/v1/encounters/:id", "/api/v1/encounters/export", "/api/v1/logs/:upload_id", "/api/tickets",
            "/api/tickets/:id", "/api/tickets/:id/transcript",
        ] {
            XCTAssertTrue(result.seenByA.contains(path), path)
        }
        XCTAssertEqual(result.violations, [])
    }

    func testTheIsolationWalkCatchesACogThatForgetsTheFilter() async throws {
        let host = Self.walkedHost(plus: ["leaky"])
        defer { host.removeFolder() }
        let result = try await host.run(catalogue: Self.catalogue + [LeakyNotesCog.self]) { server in
            try await Self.plantAndWalk(server)
        }
        XCTAssertEqual(Set(result.violations), ["GET /api/leaky/notes as B's key", "GET /api/leaky/notes as bob"])
    }

    /// Plants a marker in guild A's notes, config overlay and live log, then walks every route as guild B.
    private static func plantAndWalk(_ server: LiveServer) async throws -> IsolationWalk.Result {
        let tenants = try await Tenants.make(on: server)
        let admin = try await server.token("admin")
        let marker = "secret-of-alpha-\(UUID().uuidString)"
        _ = try await server.request(.POST, "/api/notes", token: tenants.keyA, json: ["text": .string(marker)])
        _ = try await server.request(.POST, "/api/notes", token: tenants.keyB, json: ["text": "beta's own"])
        let overlay = try await server.request(
            .PUT, "/api/v1/guilds/\(tenants.a)/config/notes", token: tenants.alice, json: ["banner": .string(marker)])
        XCTAssertEqual(overlay.status, 200)
        let posted = try await server.request(
            .POST, "/api/live-log/messages", token: admin,
            json: ["type": "guild", "guild_id": .string(String(tenants.a)), "guild_name": "Alpha", "event": .string(marker)])
        XCTAssertEqual(posted.status, 201)
        let ticket = try await server.request(.POST, "/api/tickets", token: tenants.alice, json: ["subject": .string(marker), "message": .string(marker)])
        XCTAssertEqual(ticket.status, 201)
        _ = try await server.request(.POST, "/api/tickets", token: tenants.bob, json: ["subject": "beta's own", "message": "help"])
        let log = try await CombatLogTests.upload(CombatLogFixtures.tww(bossName: marker), key: tenants.keyA, on: server, name: marker + ".txt")
        XCTAssertEqual(log.status, 202)
        _ = try await CombatLogTests.finished(log.json["upload_id"]?.stringValue ?? "", key: tenants.keyA, on: server)
        _ = try await CombatLogTests.upload(CombatLogFixtures.tww(), key: tenants.keyB, on: server)
        return try await IsolationWalk(server: server, tenants: tenants).run(marker: marker)
    }

    func testAGuildCanSwitchACogOffOnEverySurface() async throws {
        Probe.reset()
        let host = TestHost(enabled: ["notes"]) { $0.tenancy.leaderManagedCogs = ["notes"] }
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            // Leaders may switch leader-managed cogs for their own guild only; members may not; outsiders see nothing.
            try await assertEqual(
                await server.request(.POST, "/api/v1/guilds/\(tenants.b)/cogs/notes/disable", token: tenants.alice).status, 404)
            try await assertEqual(
                await server.request(.POST, "/api/v1/guilds/\(tenants.b)/cogs/echo/disable", token: tenants.bob).status, 403,
                "echo is not leader-managed")
            try await assertEqual(
                await server.request(.POST, "/api/v1/guilds/\(tenants.b)/cogs/nope/disable", token: admin).error, "unknown_cog")
            let switched = try await server.request(.POST, "/api/v1/guilds/\(tenants.b)/cogs/notes/disable", token: tenants.bob)
            XCTAssertEqual(switched.json["enabled"], false)
            let listing = try await server.request(.GET, "/api/v1/guilds/\(tenants.b)/cogs", token: tenants.bob)
            guard case .array(let cogs)? = listing.json["cogs"] else { return XCTFail() }
            XCTAssertEqual(cogs.first { $0["name"] == "notes" }?["enabled"], false)
            XCTAssertEqual(cogs.first { $0["name"] == "echo" }?["enabled"], true)

            // HTTP routes.
            let refused = try await server.request(.GET, "/api/notes", token: tenants.keyB)
            XCTAssertEqual(refused.status, 404)
            XCTAssertEqual(refused.error, "cog_disabled_for_guild")
            try await assertEqual(await server.request(.GET, "/api/notes", token: tenants.bob).error, "cog_disabled_for_guild")
            try await assertEqual(await server.request(.GET, "/api/notes", token: tenants.keyA).status, 200)

            // Gateway actions.
            let clientB = WSTestClient(port: server.port, path: "/ws", query: "api_key=\(tenants.keyB)")
            let clientA = WSTestClient(port: server.port, path: "/ws", query: "api_key=\(tenants.keyA)")
            await assertEqual(await clientB.next("connected")?["guild_id"], .int(tenants.b))
            _ = await clientA.next("connected")
            clientB.send(["action": "note_count"])
            await assertEqual(await clientB.next("error")?["details"]?["error"], "cog_disabled_for_guild")
            clientA.send(["action": "note_count"])
            await assertEqual(await clientA.next("note_count")?["count"], 0)

            // Commands are hidden.
            let command = try await server.request(.POST, "/api/bot/messages", token: tenants.bob, json: ["content": "!notes"])
            XCTAssertTrue(command.json["reply"]?.stringValue?.hasPrefix("Unknown command") ?? false, "\(command.json)")
            let help = try await server.request(.POST, "/api/bot/messages", token: tenants.bob, json: ["content": "!help"])
            XCTAssertFalse(help.json["reply"]?.stringValue?.contains("!notes") ?? true)
            try await assertEqual(
                await server.request(.POST, "/api/bot/messages", token: tenants.alice, json: ["content": "!notes"]).json["reply"], "0 notes")

            // Listeners do not receive the guild's events; tasks skip it.
            server.host.bus.publish("notes.ping", payload: ["x": 1], guild: tenants.b, correlationID: nil)
            server.host.bus.publish("notes.ping", payload: ["x": 1], guild: tenants.a, correlationID: nil)
            try await assertTrue(await eventually { Probe.count("notes.listener.\(tenants.a)") == 1 })
            let skippedRuns = Probe.count("notes.task.\(tenants.b)")
            let runsOfA = Probe.count("notes.task.\(tenants.a)")
            try await Task.sleep(for: .milliseconds(200))
            XCTAssertEqual(Probe.count("notes.listener.\(tenants.b)"), 0)
            XCTAssertEqual(Probe.count("notes.task.\(tenants.b)"), skippedRuns, "the task skips B")
            XCTAssertGreaterThan(Probe.count("notes.task.\(tenants.a)"), runsOfA, "and still runs for A")

            // Switching it back on restores it; the switch survives a restart (it is stored).
            _ = try await server.request(.POST, "/api/v1/guilds/\(tenants.b)/cogs/notes/enable", token: admin)
            try await assertEqual(await server.request(.GET, "/api/notes", token: tenants.keyB).status, 200)
            _ = try await server.request(.POST, "/api/v1/guilds/\(tenants.b)/cogs/notes/disable", token: admin)
        }
        try await host.run(catalogue: Self.catalogue) { server in
            await assertTrue(server.host.switches.isOff("notes", for: 3))
        }
    }

    func testGuildConfigOverlaysLayerOverTheDeploymentsValue() async throws {
        let host = TestHost(enabled: ["notes"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            let put = try await server.request(
                .PUT, "/api/v1/guilds/\(tenants.a)/config/notes", token: tenants.alice, json: ["max_length": 50])
            XCTAssertEqual(put.status, 200)
            XCTAssertEqual(put.json["overlay"], ["max_length": 50])
            XCTAssertEqual(put.json["effective"], ["banner": "Notes", "max_length": 50])
            try await assertEqual(await server.request(.GET, "/api/notes/settings", token: tenants.keyA).json["max_length"], 50)
            try await assertEqual(await server.request(.GET, "/api/notes/settings", token: tenants.keyB).json["max_length"], 200)

            // The deployment's value still shows through keys the guild does not set.
            _ = try await server.request(.PUT, "/api/config/notes", token: admin, json: ["banner": "Guild notes"])
            try await assertEqual(
                await server.request(.GET, "/api/notes/settings", token: tenants.keyA).json,
                ["banner": "Guild notes", "max_length": 50])

            let wrongType = try await server.request(
                .PUT, "/api/v1/guilds/\(tenants.a)/config/notes", token: tenants.alice, json: ["max_length": "long"])
            XCTAssertEqual(wrongType.status, 400)
            XCTAssertEqual(wrongType.error, "invalid_config")
            try await assertEqual(
                await server.request(.PUT, "/api/v1/guilds/\(tenants.a)/config/notes", token: tenants.alice, json: [1, 2]).error,
                "invalid_config")
            try await assertEqual(
                await server.request(.GET, "/api/v1/guilds/\(tenants.a)/config/server_guide", token: admin).error, "unknown_section",
                "the server guide is the deployment's alone")
            try await assertEqual(
                await server.request(.PUT, "/api/v1/guilds/\(tenants.a)/config/notes", token: tenants.bob, json: ["max_length": 1]).status,
                404)
            let cleared = try await server.request(.PUT, "/api/v1/guilds/\(tenants.a)/config/notes", token: admin, json: [:])
            XCTAssertEqual(cleared.json["effective"], ["banner": "Guild notes", "max_length": 200])
        }
    }

    func testKeysAndGuildsAreRateLimitedWithHeaders() async throws {
        let host = TestHost(enabled: ["notes"]) { $0.tenancy.guildEventsPerMinute = 150 }
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let admin = try await server.token("admin")
            let guild = try await Tenants.guild("Alpha", on: server, admin: admin)
            let key = try await Tenants.key(
                for: guild, on: server, admin: admin, ["requests_per_minute": 3, "events_per_minute": 100, "max_connections": 1])
            let first = try await server.request(.GET, "/api/v1/guild", token: key)
            XCTAssertEqual(first.header("X-RateLimit-Limit"), "3")
            XCTAssertEqual(first.header("X-RateLimit-Remaining"), "2")
            _ = try await server.request(.GET, "/api/v1/guild", token: key)
            _ = try await server.request(.GET, "/api/v1/guild", token: key)
            let limited = try await server.request(.GET, "/api/v1/guild", token: key)
            XCTAssertEqual(limited.status, 429)
            XCTAssertEqual(limited.error, "rate_limited")
            XCTAssertEqual(limited.json["budget"], "key")
            XCTAssertEqual(limited.header("Retry-After"), "20", "one request refills every 20 s at 3 a minute")
            XCTAssertEqual(limited.header("X-RateLimit-Remaining"), "0")

            // Events: the key's budget, then the guild's across keys.
            let second = try await Tenants.key(for: guild, on: server, admin: admin, ["events_per_minute": 1000])
            try await assertEqual(await server.request(.POST, "/api/notes/events", token: second, json: ["count": 100]).status, 200)
            let overGuild = try await server.request(.POST, "/api/notes/events", token: second, json: ["count": 60])
            XCTAssertEqual(overGuild.status, 429, "the guild's 150 a minute is spent across its keys")
            XCTAssertEqual(overGuild.json["budget"], "guild")
            XCTAssertEqual(overGuild.json["per_minute"], 150)
            XCTAssertNotNil(overGuild.header("Retry-After"))
            let third = try await Tenants.key(for: guild, on: server, admin: admin, ["events_per_minute": 10])
            let overKey = try await server.request(.POST, "/api/notes/events", token: third, json: ["count": 20])
            XCTAssertEqual(overKey.json["retry_after"], 60, "a charge larger than the whole budget never passes in one go")
            XCTAssertEqual(overKey.json["budget"], "key")

            // Connections.
            let open = WSTestClient(port: server.port, path: "/ws", headers: ["X-API-Key": second])
            _ = await open.next("connected")
            let fresh = try await Tenants.key(for: guild, on: server, admin: admin, ["max_connections": 1])
            let only = WSTestClient(port: server.port, path: "/ws", bearer: fresh)
            _ = await only.next("connected")
            let extra = WSTestClient(port: server.port, path: "/ws", bearer: fresh)
            try await assertEqual(await extra.closeFrame()?.closeCode, .unknown(4003))
            only.close()
            _ = try await only.closeFrame()
            try await assertTrue(
                await eventually {
                    let again = WSTestClient(port: server.port, path: "/ws", bearer: fresh)
                    defer { again.close() }
                    return await again.next("connected") != nil
                }, "a closed connection frees its place")

            let metrics = try await server.request(.GET, "/metrics", token: admin)
            let text = String(decoding: metrics.body, as: UTF8.self)
            for limit in ["requests", "events", "connections"] {
                XCTAssertTrue(text.contains("guildhall_rate_limited_total{limit=\"\(limit)\"}"), limit)
            }
            XCTAssertTrue(text.contains("guildhall_guild_requests_total{guild=\""), "requests counted per guild")
        }
    }

    func testGatewayKeysSeeOnlyTheirGuildsMessages() async throws {
        let host = TestHost(enabled: ["notes"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            let a = WSTestClient(port: server.port, path: "/ws/live-log", bearer: tenants.keyA)
            let b = WSTestClient(port: server.port, path: "/ws/live-log", headers: ["X-API-Key": tenants.keyB])
            await assertEqual(await a.next("connected")?["guild_name"], "Alpha")
            _ = await b.next("connected")
            for client in [a, b] {
                client.send(["action": "subscribe", "message_types": ["guild", "user", "system"]])
                _ = await client.next("subscribed")
            }
            for (guild, name) in [(tenants.a, "Alpha"), (tenants.b, "Beta")] {
                _ = try await server.request(
                    .POST, "/api/live-log/messages", token: admin,
                    json: ["type": "guild", "guild_id": .string(String(guild)), "guild_name": .string(name), "event": "raid_formed"])
            }
            _ = try await server.request(.POST, "/api/bot/messages", token: admin, json: ["content": "deployment-wide chat"])
            await assertEqual(await a.next("guild")?["guild_name"], "Alpha")
            await assertEqual(await b.next("guild")?["guild_name"], "Beta")
            let later = await a.drain(for: .milliseconds(300)) + (await b.drain(for: .milliseconds(100)))
            XCTAssertEqual(later.filter { $0["type"] != nil }, [], "no other guild's message, no deployment chat")
        }
    }

    func testServiceKeysIngestIntoTheirOwnGuildOnly() async throws {
        let host = TestHost(enabled: ["notes"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            let raid: JSONValue = ["type": "raid", "raid_id": "r1", "raid_name": "Amirdrassil", "boss_name": "Fyrakk", "status": "victory"]
            let posted = try await server.request(.POST, "/api/live-log/messages", token: tenants.keyA, json: raid)
            XCTAssertEqual(posted.status, 201)
            XCTAssertEqual(posted.json["message"]?["guild_id"], .string(String(tenants.a)), "stamped with the key's guild")
            let news = try await server.request(
                .POST, "/api/live-log/messages", json: ["type": "guild", "event": "level_up"], headers: [("X-API-Key", tenants.keyA)])
            XCTAssertEqual(news.json["message"]?["guild_name"], "Alpha")

            let chat = try await server.request(
                .POST, "/api/live-log/messages", token: tenants.keyA, json: ["type": "user", "user_id": "u", "username": "U", "content": "hi"])
            XCTAssertEqual(chat.status, 403)
            XCTAssertEqual(chat.error, "type_not_allowed")
            var elsewhere = raid
            if case .object(var members) = elsewhere {
                members["guild_id"] = .string(String(tenants.b))
                elsewhere = .object(members)
            }
            try await assertEqual(await server.request(.POST, "/api/live-log/messages", token: tenants.keyA, json: elsewhere).error, "wrong_guild")
            let reader = try await Tenants.key(for: tenants.a, on: server, admin: admin, ["permissions": ["query"]])
            try await assertEqual(await server.request(.POST, "/api/live-log/messages", token: reader, json: raid).error, "missing_permission")
            try await assertEqual(await server.request(.POST, "/api/live-log/messages", token: tenants.alice, json: raid).status, 403)

            // The guild's raid is its members' (and admins') only.
            let seenByAlice = try await server.request(.GET, "/api/live-log/messages?type=raid", token: tenants.alice)
            XCTAssertEqual(seenByAlice.json["total_count"], 1)
            try await assertEqual(await server.request(.GET, "/api/live-log/messages?type=raid", token: tenants.bob).json["total_count"], 0)
            try await assertEqual(await server.request(.GET, "/api/live-log/messages?type=raid", token: admin).json["total_count"], 1)
        }
    }

    func testAGuildsOwnGeneralSettingsRunItsBot() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let put = try await server.request(
                .PUT, "/api/v1/guilds/\(tenants.a)/config/general", token: tenants.alice,
                json: ["command_prefix": "?", "bot_name": "Alpha Bot", "message_cooldown": 0])
            XCTAssertEqual(put.status, 200)
            XCTAssertEqual(put.json["effective"]?["bot_name"], "Alpha Bot")
            let channels = try await server.request(
                .PUT, "/api/v1/guilds/\(tenants.a)/config/channels", token: tenants.alice, json: ["log_channel_id": 1234567890123456789])
            XCTAssertEqual(channels.json["effective"]?["log_channel_id"], "1234567890123456789", "a snowflake, as a string")

            let alice = WSTestClient(port: server.port, token: tenants.alice)
            let bob = WSTestClient(port: server.port, token: tenants.bob)
            for client in [alice, bob] {
                _ = await client.next("connected")
                client.send(["action": "subscribe", "message_types": ["dm"]])
                _ = await client.next("subscribed")
            }
            // Guild A's prefix and bot name, and no cooldown: the same command twice in a row.
            for _ in 0..<2 {
                alice.send(["action": "send", "content": "?cogs"])
                let frames = await alice.drain(for: .milliseconds(300))
                XCTAssertEqual(frames.first { $0["action"] == "command_reply" }?["command"], "cogs")
                XCTAssertEqual(frames.first { $0["type"] == "dm" }?["from_username"], "Alpha Bot")
            }
            alice.send(["action": "send", "content": "?help"])
            await assertTrue(await alice.next("command_reply")?["reply"]?.stringValue?.contains("?cogs") == true, "help speaks the guild's prefix")
            alice.send(["action": "send", "content": "!cogs"])
            await assertFalse(await alice.drain(for: .milliseconds(300)).contains { $0["action"] == "command_reply" }, "just chat in A")

            // Guild B keeps the deployment's: `!`, the default name, a 5 s cooldown.
            bob.send(["action": "send", "content": "!cogs"])
            let frames = await bob.drain(for: .milliseconds(300))
            XCTAssertEqual(frames.first { $0["action"] == "command_reply" }?["command"], "cogs")
            XCTAssertEqual(frames.first { $0["type"] == "dm" }?["from_username"], "Guildhall")
            bob.send(["action": "send", "content": "!cogs"])
            await assertTrue(await bob.next("command_reply")?["reply"]?.stringValue?.hasPrefix("Wait ") == true, "B's cooldown")
            bob.send(["action": "send", "content": "?cogs"])
            await assertFalse(await bob.drain(for: .milliseconds(300)).contains { $0["action"] == "command_reply" }, "A's prefix means nothing in B")

            let bogus = try await server.request(.PUT, "/api/v1/guilds/\(tenants.a)/config/general", token: tenants.alice, json: ["prefix": "?"])
            XCTAssertEqual(bogus.error, "invalid_config", "unknown keys stay refused")
        }
    }
}
