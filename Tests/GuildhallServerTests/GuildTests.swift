import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

final class GuildTests: XCTestCase {
    func testGuildsAreCreatedReadChangedAndDeactivated() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let list = try await server.request(.GET, "/api/v1/admin/guilds", token: admin)
            guard case .array(let initial)? = list.json["guilds"] else { return XCTFail() }
            XCTAssertEqual(initial.map { $0["name"] }, ["Default"], "a default guild exists from the first run")

            let created = try await server.request(
                .POST, "/api/v1/admin/guilds", token: admin,
                json: ["name": "Dragonslayers", "server": "Silvermoon", "region": "eu", "faction": "Horde"])
            XCTAssertEqual(created.status, 201)
            XCTAssertEqual(created.json["faction"], "Horde")
            XCTAssertEqual(created.json["is_active"], true)
            guard case .int(let id)? = created.json["id"] else { return XCTFail() }

            let duplicate = try await server.request(
                .POST, "/api/v1/admin/guilds", token: admin,
                json: ["name": "Dragonslayers", "server": "Silvermoon", "region": "eu", "faction": "Alliance"])
            XCTAssertEqual(duplicate.status, 409)
            XCTAssertEqual(duplicate.error, "guild_exists")
            let badFaction = try await server.request(
                .POST, "/api/v1/admin/guilds", token: admin, json: ["name": "X", "server": "Y", "region": "eu", "faction": "Scourge"])
            XCTAssertEqual(badFaction.status, 400)
            XCTAssertEqual(badFaction.json["field"], "faction")
            let blank = try await server.request(
                .POST, "/api/v1/admin/guilds", token: admin, json: ["name": " ", "server": "Y", "region": "eu", "faction": "Horde"])
            XCTAssertEqual(blank.json["field"], "name")

            let patched = try await server.request(
                .PATCH, "/api/v1/admin/guilds/\(id)", token: admin, json: ["name": "Dragon Slayers", "settings": ["motd": "hi"]])
            XCTAssertEqual(patched.json["name"], "Dragon Slayers")
            XCTAssertEqual(patched.json["settings"], ["motd": "hi"])
            try await assertEqual(await server.request(.GET, "/api/v1/admin/guilds/\(id)", token: admin).json["settings"], ["motd": "hi"])

            let other = try await server.request(
                .POST, "/api/v1/admin/guilds", token: admin, json: ["name": "Other", "server": "Silvermoon", "region": "eu", "faction": "Horde"])
            guard case .int(let otherID)? = other.json["id"] else { return XCTFail() }
            let clash = try await server.request(.PATCH, "/api/v1/admin/guilds/\(otherID)", token: admin, json: ["name": "Dragon Slayers"])
            XCTAssertEqual(clash.status, 409)
            XCTAssertEqual(clash.error, "guild_exists")
            try await assertEqual(await server.request(.GET, "/api/v1/admin/guilds/\(otherID)", token: admin).json["name"], "Other")

            let deactivated = try await server.request(.DELETE, "/api/v1/admin/guilds/\(id)", token: admin)
            XCTAssertEqual(deactivated.json["is_active"], false)
            try await assertEqual(await server.request(.GET, "/api/v1/admin/guilds/\(id)", token: admin).status, 200, "data kept")
            try await assertEqual(await server.request(.DELETE, "/api/v1/admin/guilds/1", token: admin).error, "default_guild")
            try await assertEqual(await server.request(.GET, "/api/v1/admin/guilds/999", token: admin).error, "guild_not_found")
            try await assertEqual(await server.request(.GET, "/api/v1/admin/guilds/abc", token: admin).status, 400)
            try await assertEqual(await server.request(.GET, "/api/v1/admin/guilds", token: server.token("moderator")).status, 403)
        }
    }

    func testMembersAndGuildMessageVisibility() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let created = try await server.request(
                .POST, "/api/v1/admin/guilds", token: admin,
                json: ["name": "Dragonslayers", "server": "Silvermoon", "region": "eu", "faction": "Horde"])
            guard case .int(let guildID)? = created.json["id"] else { return XCTFail() }
            let added = try await server.request(
                .POST, "/api/v1/admin/guilds/\(guildID)/members", token: admin, json: ["user_id": 3, "role": "officer"])
            guard case .array(let members)? = added.json["members"], let first = members.first else { return XCTFail("no members") }
            XCTAssertEqual(members.count, 1)
            XCTAssertEqual(first["user_id"], 3)
            XCTAssertEqual(first["username"], "user")
            XCTAssertEqual(first["role"], "officer")
            try await assertEqual(await server.request(
                .POST, "/api/v1/admin/guilds/\(guildID)/members", token: admin, json: ["user_id": 99]).error, "user_not_found")
            try await assertEqual(await server.request(
                .POST, "/api/v1/admin/guilds/\(guildID)/members", token: admin, json: ["user_id": 2, "role": "king"]).status, 400)

            let member = WSTestClient(port: server.port, token: try await server.token("user"))
            let outsider = WSTestClient(port: server.port, token: try await server.token("moderator"))
            for client in [member, outsider] {
                _ = await client.next("connected")
                client.send(["action": "subscribe", "message_types": ["guild"]])
                _ = await client.next("subscribed")
            }
            _ = try await server.request(
                .POST, "/api/live-log/messages", token: admin,
                json: ["type": "guild", "guild_id": .string(String(guildID)), "guild_name": "Dragonslayers", "event": "conquest_complete"])
            await assertEqual(await member.next("guild")?["event"], "conquest_complete")
            let seen = await outsider.drain(for: .milliseconds(300))
            XCTAssertFalse(seen.contains { $0["type"] == "guild" }, "not a member")
            try await assertEqual(await server.request(.GET, "/api/live-log/messages?type=guild", token: server.token("user")).json["total_count"], 1)
            try await assertEqual(await server.request(.GET, "/api/live-log/messages?type=guild", token: server.token("moderator")).json["total_count"], 0)

            let removed = try await server.request(.DELETE, "/api/v1/admin/guilds/\(guildID)/members?user_id=3", token: admin)
            XCTAssertEqual(removed.json["members"], [])
            try await assertEqual(await server.request(.DELETE, "/api/v1/admin/guilds/\(guildID)/members?user_id=3", token: admin).status, 404)
            try await assertEqual(await server.request(.GET, "/api/live-log/messages?type=guild", token: server.token("user")).json["total_count"], 0)
        }
    }
}
