import Foundation
import GuildhallServer
import GuildhallTesting
import NIOHTTP1
import PluginAPI
import XCTest

/// The external cog examples — tournaments in Python, the counter in Node — installed into a real host and used as
/// their users would.
final class ExternalExamplesTests: XCTestCase {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../examples").standardized
    static let example = examples.appendingPathComponent("tournaments")

    func testTheTournamentsCogThroughTheHost() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin"), moderator = try await server.token("moderator"), user = try await server.token("user")
            let installed = try await server.request(.POST, "/api/cogs/install", token: admin, json: ["path": .string(Self.example.path)])
            XCTAssertEqual(installed.status, 201, "\(installed.json)")
            XCTAssertEqual(installed.json["permissions"], ["events:publish:tournament.*", "gateway:publish", "live_log:post"])
            try await assertEqual(try await server.request(.POST, "/api/cogs/tournaments/load", token: admin).status, 200)

            // Staff create; members may not.
            try await assertEqual(try await server.request(.POST, "/api/v1/tournaments", token: user, json: ["name": "Cup", "game": "Go"]).status, 403)
            let created = try await server.request(
                .POST, "/api/v1/tournaments", token: moderator, json: ["name": "Friday Cup", "game": "Rocket League", "max_participants": 2])
            XCTAssertEqual(created.status, 201, "\(created.json)")
            let id = try XCTUnwrap(created.json["id"]?.intValue)
            try await assertEqual(try await server.request(.GET, "/api/v1/tournaments/abc", token: user).error, "invalid_id")
            let opened = try await server.request(.PUT, "/api/v1/tournaments/\(id)", token: moderator, json: ["status": "registration_open"])
            XCTAssertEqual(opened.json["status"], "registration_open")

            // A member watches it over the gateway and sees registrations arrive.
            let watcher = WSTestClient(port: server.port, path: "/ws", token: user)
            _ = await watcher.next("welcome")
            watcher.send(["action": "tournament_watch", "tournament_id": .int(id)])
            let watching = await watcher.next("tournament_watching")
            XCTAssertEqual(watching?["tournament_id"], .int(id))

            let registrations = [
                try await server.request(.POST, "/api/v1/tournaments/\(id)/registration", token: user),
                try await server.request(.POST, "/api/v1/tournaments/\(id)/registration", token: moderator),
                try await server.request(.POST, "/api/v1/tournaments/\(id)/registration", token: admin),
            ]
            XCTAssertEqual(registrations.map(\.status), [201, 201, 201])
            XCTAssertEqual(registrations.map { $0.json["status"] }, ["registered", "registered", "waitlisted"])
            let frame = await watcher.next("tournament_registered")
            XCTAssertEqual(frame?["tournament_id"], .int(id))

            let withdrawn = try await server.request(.DELETE, "/api/v1/tournaments/\(id)/registration", token: moderator)
            XCTAssertEqual(withdrawn.json["promoted"]?.arrayValue?.first?["username"], "admin")
            let page = try await server.request(.GET, "/api/v1/tournaments?status=registration_open&per_page=10", token: user)
            XCTAssertEqual(page.json["pagination"]?["total"], 1)
            XCTAssertEqual(page.json["items"]?.arrayValue?.first?["participants"], 2)
            let figures = try await server.request(.GET, "/api/v1/tournaments/\(id)/statistics", token: user)
            XCTAssertEqual(figures.json["participants"], 2)
            XCTAssertEqual(figures.json["withdrawn"], 1)
            XCTAssertEqual(figures.json["fill_rate"], 1.0)
            let reply = try await server.host.chat("!tournaments", as: Identity(userID: 3, username: "user", role: .user))
            XCTAssertEqual(reply?.contains("#\(id) Friday Cup"), true, reply ?? "no reply")
            watcher.close()
        }
    }

    func testTournamentsStayInTheirGuild() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            try await assertEqual(try await server.request(.POST, "/api/cogs/install", token: admin, json: ["path": .string(Self.example.path)]).status, 201)
            try await assertEqual(try await server.request(.POST, "/api/cogs/tournaments/load", token: admin).status, 200)
            let tenants = try await Tenants.make(on: server)
            let organiser = try await Tenants.key(for: tenants.a, on: server, admin: admin, ["permissions": ["query", "tournaments"]])
            let marker = "secret-of-alpha-\(UUID().uuidString)"
            let created = try await server.request(.POST, "/api/v1/tournaments", token: organiser, json: ["name": .string(marker), "game": "Go"])
            XCTAssertEqual(created.status, 201, "\(created.json)")
            let readOnly = try await server.request(.POST, "/api/v1/tournaments", token: tenants.keyA, json: ["name": "x", "game": "Go"])
            XCTAssertEqual(readOnly.error, "missing_permission")
            let result = try await IsolationWalk(server: server, tenants: tenants).run(marker: marker)
            XCTAssertTrue(result.seenByA.contains("/api/v1/tournaments"), "\(result.seenByA)")
            XCTAssertTrue(result.seenByA.contains("/api/v1/tournaments/:id"), "\(result.seenByA)")
            XCTAssertTrue(result.seenByA.contains("/api/live-log/messages"), "its announcement reached guild A only")
            XCTAssertEqual(result.violations, [])
        }
    }

    func testTheNodeCounterSpeaksTheProtocolWithoutAnSDK() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            let path = Self.examples.appendingPathComponent("node-counter").path
            try await assertEqual(try await server.request(.POST, "/api/cogs/install", token: admin, json: ["path": .string(path)]).status, 201)
            let loaded = try await server.request(.POST, "/api/cogs/counter/load", token: admin)
            XCTAssertEqual(loaded.status, 200, "\(loaded.json)")
            let tenants = try await Tenants.make(on: server)
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let reply = try await server.request(.POST, "/api/counter", token: tenants.alice)
                        XCTAssertEqual(reply.status, 200, "\(reply.json)")
                        return Int(reply.json["count"]?.intValue ?? 0)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            XCTAssertEqual(counts.sorted(), [1, 2, 3, 4], "compare-and-set lets no increment overwrite another")
            try await assertEqual(try await server.request(.GET, "/api/counter", token: tenants.keyA).json["count"], 4)
            try await assertEqual(try await server.request(.GET, "/api/counter", token: tenants.bob).json["count"], 0, "guild B counts apart")
            try await assertEqual(try await server.request(.GET, "/api/counter/ping").json, ["pong": true])
        }
    }
}
