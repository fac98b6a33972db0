import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

/// The HazeBot admin app's cogs screen (CONTRACT.md, "Cogs", calls 45-49), called as the app calls: its headers on
/// every request, `Content-Type: application/json` on body-less POSTs, success only on 200.
final class AdminAppCogsTests: XCTestCase {
    override func setUp() { Probe.reset() }

    static func appHeaders(_ token: String) -> [(String, String)] {
        [("Content-Type", "application/json"), ("User-Agent", "Chillventory/1.0 (Android; Flutter)"), ("X-App-Version", "3.1.0"),
         ("X-Platform", "android"), ("X-Device-Info", "Pixel 8"), ("X-Session-ID", "session-1"), ("Authorization", "Bearer \(token)")]
    }

    func testTheCogsScreenListsLoadsUnloadsReloadsAndReadsLogs() async throws {
        let host = TestHost(enabled: ["echo", "dependent"])
        defer { host.removeFolder() }
        try await host.run(catalogue: ContractTests.catalogue) { server in
            let admin = try await server.token("admin")
            let headers = Self.appHeaders(admin)
            let list = try await server.request(.GET, "/api/cogs", headers: headers)
            XCTAssertEqual(list.status, 200)
            guard let cogs = list.json["cogs"]?.arrayValue else { return XCTFail("no cogs") }
            for cog in cogs {
                XCTAssertNotNil(cog["name"]?.stringValue)
                XCTAssertTrue(["loaded", "unloaded", "disabled", "error"].contains(cog["status"]?.stringValue ?? ""), "\(cog)")
                for flag in ["can_load", "can_unload", "can_reload"] { XCTAssertNotNil(cog[flag].flatMap { if case .bool = $0 { $0 } else { nil } }, flag) }
                XCTAssertNotNil(cog["description"]?.stringValue)
                XCTAssertNotNil(cog["features"]?.arrayValue)
            }
            func cog(_ name: String) async throws -> JSONValue? {
                try await server.request(.GET, "/api/cogs", headers: headers).json["cogs"]?.arrayValue?.first { $0["name"] == .string(name) }
            }
            let echo = try await cog("echo")
            XCTAssertEqual(echo?["status"], "loaded")
            XCTAssertEqual(echo?["can_unload"], false, "dependent is loaded and needs it")
            XCTAssertEqual(echo?["can_reload"], true)
            try await assertEqual(try await cog("flaky")?["can_load"], true)
            try await assertEqual(try await cog("future")?["status"], "disabled", "built for contract 3.0")
            try await assertEqual(try await cog("future")?["can_load"], false)

            let refused = try await server.request(.POST, "/api/cogs/echo/unload", headers: headers)
            XCTAssertEqual(refused.status, 409)
            XCTAssertEqual(refused.error, "has_dependants")
            try await assertEqual(try await server.request(.POST, "/api/cogs/dependent/unload", headers: headers).status, 200)
            try await assertEqual(try await cog("dependent")?["status"], "unloaded")
            try await assertEqual(try await cog("echo")?["can_unload"], true)
            try await assertEqual(try await server.request(.POST, "/api/cogs/echo/reload", headers: headers).status, 200)
            try await assertEqual(try await server.request(.POST, "/api/cogs/dependent/load", headers: headers).json["status"], "loaded")
            Probe.set("flaky.fail", true)
            let failed = try await server.request(.POST, "/api/cogs/flaky/load", headers: headers)
            XCTAssertNotEqual(failed.status, 200)
            XCTAssertNotNil(failed.error)
            try await assertEqual(try await cog("flaky")?["status"], "error")
            try await assertNotEqual(try await cog("flaky")?["error_message"], .null)
            try await assertEqual(try await server.request(.POST, "/api/cogs/nope/load", headers: headers).error, "cog_not_found")

            // What the cog logged, and what was done to it.
            _ = try await server.request(.PUT, "/api/config/echo", token: admin, json: ["greeting": "refuse"])
            let logs = try await server.request(.GET, "/api/cogs/echo/logs?limit=100", headers: headers)
            XCTAssertEqual(logs.status, 200)
            guard let records = logs.json["logs"]?.arrayValue else { return XCTFail("no logs") }
            for record in records {
                for field in ["timestamp", "level", "message"] { XCTAssertNotNil(record[field]?.stringValue, field) }
            }
            let messages = records.compactMap { $0["message"]?.stringValue }
            XCTAssertTrue(messages.contains("reload by admin: reloaded"), "\(messages)")
            XCTAssertTrue(messages.contains { $0.hasPrefix("echo is refusing") }, "the cog's own record: \(messages)")
            let one = try await server.request(.GET, "/api/cogs/echo/logs?limit=1", headers: headers)
            XCTAssertEqual(one.json["logs"]?.arrayValue?.count, 1)
            try await assertEqual(try await server.request(.GET, "/api/cogs/nope/logs", headers: headers).status, 404)
            let user = try await server.request(.GET, "/api/cogs/echo/logs", token: try await server.token("user"))
            XCTAssertEqual(user.status, 403)
        }
    }
}
