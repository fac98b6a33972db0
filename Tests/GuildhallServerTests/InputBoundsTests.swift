import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// Numbers and text from outside are bounded where they enter, with an answer naming the field and its range.
final class InputBoundsTests: XCTestCase {
    func testAHugeOffsetIsRefusedNamingTheFieldOnEveryListing() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: CombatLogTests.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            let listings = [
                ("/api/v1/encounters", tenants.keyA), ("/api/v1/logs", tenants.keyA), ("/api/v1/characters", tenants.keyA),
                ("/api/v1/encounters/search?boss_name=D", tenants.keyA), ("/api/live-log/messages", admin), ("/api/v1/users", admin),
                ("/api/cogs/audit", admin),
            ]
            for (path, token) in listings {
                let separator = path.contains("?") ? "&" : "?"
                let reply = try await server.request(.GET, path + separator + "offset=9223372036854775807", token: token)
                XCTAssertEqual(reply.status, 400, path)
                XCTAssertEqual(reply.json["details"]?["field"] ?? reply.json["field"], "offset", "\(path): \(reply.json)")
                XCTAssertTrue(reply.json["message"]?.stringValue?.contains("1000000000") ?? false, "\(path): \(reply.json)")
                try await assertEqual(await server.request(.GET, path + separator + "offset=1000000000", token: token).status, 200, path)
            }
            let client = WSTestClient(port: server.port, token: admin)
            _ = await client.next("connected")
            client.send(["action": "get_history", "offset": .int(.max)])
            let refused = await client.next("error")
            XCTAssertEqual(refused?["details"]?["field"], "offset", "\(String(describing: refused))")
            try await assertEqual(await server.request(.GET, "/api/health").status, 200)
        }
    }

    func testConfigNumbersOutsideTheirRangeAreRefusedNamingTheKeyAndRange() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: CombatLogTests.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            let cases: [(String, JSONValue, String)] = [
                ("/api/config/general", ["message_cooldown": .int(.max)], "key 'message_cooldown': expected a number from 0 to 86400"),
                ("/api/config/combatlog", ["death_recap_seconds": .int(.max)], "key 'death_recap_seconds': expected a number from 1 to 600"),
                ("/api/config/general", ["status_dashboard": ["update_interval_minutes": 0, "show_monitoring": true]], "status_dashboard.update_interval_minutes"),
                ("/api/v1/guilds/\(tenants.a)/config/combatlog", ["death_recap_seconds": .int(.max)], "death_recap_seconds"),
                ("/api/v1/guilds/\(tenants.a)/config/general", ["message_cooldown": -1], "message_cooldown"),
            ]
            for (path, body, message) in cases {
                let reply = try await server.request(.PUT, path, token: admin, json: body)
                XCTAssertTrue((400..<500).contains(reply.status), "\(path): \(reply.status)")
                XCTAssertTrue(reply.json["message"]?.stringValue?.contains(message) ?? false, "\(path): \(reply.json)")
            }
            // Nothing was kept: the commands and uploads that use them go on.
            for _ in 0..<2 {
                try await assertEqual(await server.request(.POST, "/api/bot/messages", token: admin, json: ["content": "!help"]).status < 500, true)
            }
            let record = try await CombatLogTests.uploadAndWait(CombatLogFixtures.tww(), key: tenants.keyA, on: server)
            XCTAssertEqual(record["status"], "completed")
        }
    }

    func testSearchTextWithControlCharactersIsTheCallersTextNotAServerError() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            _ = try await server.request(
                .POST, "/api/live-log/messages", token: admin, json: ["type": "user", "user_id": "1", "username": "u", "content": "red dragon"])
            for query in ["%00", "red%00dragon", "%01%02", "%22%00"] {
                let reply = try await server.request(.GET, "/api/live-log/search?q=\(query)", token: admin)
                XCTAssertEqual(reply.status, 200, "\(query): \(reply.json)")
            }
            let found = try await server.request(.GET, "/api/live-log/search?q=red%00dragon", token: admin)
            XCTAssertEqual(found.json["count"] ?? found.json["total"], 1, "\(found.json)")
            let client = WSTestClient(port: server.port, token: admin)
            _ = await client.next("connected")
            client.send(["action": "search", "query": "\u{0}"])
            await assertEqual(await client.next("search_results")?["count"], 0)
            client.send(["action": "search", "query": "red\u{0}dragon"])
            await assertEqual(await client.next("search_results")?["count"], 1)
        }
    }
}
