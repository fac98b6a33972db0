import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

final class HTTPConventionTests: XCTestCase {
    func testHealthAnswersWithoutAuth() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run { server in
            for path in ["/api/health", "/health"] {
                let reply = try await server.request(.GET, path)
                XCTAssertEqual(reply.status, 200)
                XCTAssertEqual(reply.json["status"], "ok")
                XCTAssertEqual(reply.json["version"], .string(GuildhallHost.version))
                XCTAssertEqual(reply.json["cogs_loaded"], 1)
                XCTAssertNotNil(reply.json["timestamp"]?.stringValue.flatMap(Timestamp.date(from:)))
            }
        }
    }

    func testEveryResponseCarriesARequestIdAndSecurityHeaders() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let fresh = try await server.request(.GET, "/api/health")
            let another = try await server.request(.GET, "/api/health")
            XCTAssertGreaterThanOrEqual(fresh.header("X-Request-Id")?.count ?? 0, 16)
            XCTAssertNotEqual(fresh.header("X-Request-Id"), another.header("X-Request-Id"))
            XCTAssertEqual(fresh.header("X-Content-Type-Options"), "nosniff")
            XCTAssertEqual(fresh.header("X-Frame-Options"), "DENY")
            XCTAssertNotNil(fresh.header("Content-Security-Policy"))
            let echoed = try await server.request(.GET, "/nowhere", headers: [("X-Request-Id", "trace-123")])
            XCTAssertEqual(echoed.header("X-Request-Id"), "trace-123")
        }
    }

    func testErrorsAreJSONWithTheRightStatus() async throws {
        let host = TestHost(enabled: ["echo"]) { $0.server.maxBodyBytes = 1024 }
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let notFound = try await server.request(.GET, "/api/nothing-here")
            XCTAssertEqual(notFound.status, 404)
            XCTAssertEqual(notFound.error, "not_found")
            XCTAssertNotNil(notFound.json["message"]?.stringValue)
            XCTAssertEqual(notFound.header("Content-Type"), "application/json; charset=utf-8")

            let wrongMethod = try await server.request(.DELETE, "/api/health")
            XCTAssertEqual(wrongMethod.status, 405)
            XCTAssertEqual(wrongMethod.error, "method_not_allowed")
            XCTAssertEqual(wrongMethod.header("Allow"), "GET")
            let wrongCogMethod = try await server.request(.DELETE, "/api/echo")
            XCTAssertEqual(wrongCogMethod.status, 405)
            XCTAssertEqual(wrongCogMethod.header("Allow"), "GET, POST")
            let unknownCogPath = try await server.request(.GET, "/api/echo/unknown/path")
            XCTAssertEqual(unknownCogPath.status, 404)
            XCTAssertEqual(unknownCogPath.error, "not_found")

            let oversize = try await server.request(
                .POST, "/api/cogs/load", token: admin, raw: "{\"cog_name\": \"" + String(repeating: "x", count: 4096) + "\"}")
            XCTAssertEqual(oversize.status, 413)
            XCTAssertEqual(oversize.error, "payload_too_large")
            let malformed = try await server.request(.POST, "/api/cogs/load", token: admin, raw: "cog_name=echo")
            XCTAssertEqual(malformed.status, 400)
            XCTAssertEqual(malformed.error, "invalid_json")
            let wrongType = try await server.request(.POST, "/api/cogs/load", token: admin, json: ["cog_name": 5])
            XCTAssertEqual(wrongType.status, 400)
            XCTAssertEqual(wrongType.error, "invalid_field")
            XCTAssertEqual(wrongType.json["field"], "cog_name")
            let empty = try await server.request(.POST, "/api/cogs/load", token: admin, raw: "")
            XCTAssertEqual(empty.status, 400)
            let neither = try await server.request(.POST, "/api/cogs/load", token: admin, json: [:])
            XCTAssertEqual(neither.status, 400)
            try await assertEqual(await server.request(.GET, "/api/health").status, 200, "still serving")
        }
    }

    func testCORSAllowsOnlyConfiguredOrigins() async throws {
        let host = TestHost { $0.server.corsOrigins = ["https://app.example"] }
        defer { host.removeFolder() }
        try await host.run { server in
            let allowed = try await server.request(.GET, "/api/health", headers: [("Origin", "https://app.example")])
            XCTAssertEqual(allowed.header("Access-Control-Allow-Origin"), "https://app.example")
            let preflight = try await server.request(
                .OPTIONS, "/api/cogs", headers: [("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST")])
            XCTAssertEqual(preflight.status, 204)
            XCTAssertTrue(preflight.header("Access-Control-Allow-Headers")?.contains("Authorization") == true)
            let other = try await server.request(.GET, "/api/health", headers: [("Origin", "https://evil.example")])
            XCTAssertNil(other.header("Access-Control-Allow-Origin"))
        }
    }

    func testBackupCopiesTheLiveDatabase() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        let copy = host.folder.appendingPathComponent("backup.sqlite").path
        try await host.run { server in
            try server.host.database.backup(to: copy)
        }
        let restored = try SQLiteDatabase(path: copy)
        let names = try await restored.read { try $0.rows("SELECT username FROM users ORDER BY id", []) }
        XCTAssertEqual(names.compactMap { $0["username"] }, [.text("admin"), .text("moderator"), .text("user")])
        try restored.close()
    }
}

final class HeadRequestTests: XCTestCase {
    func testHeadAnswersLikeGetWithoutTheBody() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run(catalogue: ContractTests.catalogue) { server in
            try await assertEqual(await server.request(.HEAD, "/api/echo").status, 200, "a cog's GET route too")
            let head = try await server.request(.HEAD, "/api/health")
            XCTAssertEqual(head.status, 200)
            XCTAssertTrue(head.body.isEmpty)
            XCTAssertNotNil(head.header("X-Request-Id"))
            try await assertEqual(await server.request(.HEAD, "/api/v1/users").status, 401, "access applies as for GET")
            try await assertEqual(await server.request(.HEAD, "/api/nothing-here").status, 404)
        }
    }
}

final class MetricsTests: XCTestCase {
    func testMetricsAreServedToAdmins() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            server.host.bus.publish("test.metric", payload: ["n": 1] as JSONValue)
            _ = try await eventually { Probe.count("echo.listener") >= 1 }
            let metrics = try await server.request(.GET, "/metrics", token: admin)
            XCTAssertEqual(metrics.status, 200)
            let text = String(decoding: metrics.body, as: UTF8.self)
            XCTAssertTrue(text.contains("guildhall_events_published_total"), text)
            XCTAssertTrue(text.contains("guildhall_cache_entries"), text)
            try await assertEqual(await server.request(.GET, "/metrics", token: server.token("user")).status, 403)
        }
    }

    func testMetricsCoverRoutesGatewayCogsCacheUpstreamsAndGuilds() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            _ = try await server.request(.GET, "/api/echo/admin", token: admin)
            _ = try await server.request(.GET, "/api/users/7", token: admin)
            let socket = WSTestClient(port: server.port, path: "/ws", token: admin)
            _ = await socket.next("connected")
            socket.send(["action": "ping"])
            _ = await socket.next("pong")
            server.host.outboundBreakers.failed("api.example.org")
            server.host.bus.publish("combatlog.encounter", payload: ["id": 1] as JSONValue, guild: 1, correlationID: nil)
            let text = String(decoding: try await server.request(.GET, "/metrics", token: admin).body, as: UTF8.self)
            for expected in [
                #"guildhall_http_requests_total{method="GET",route="/api/echo/admin",status="200"}"#,
                #"guildhall_http_requests_total{method="GET",route="/api/users/{id}",status="404"}"#,
                #"guildhall_http_request_duration_seconds_bucket{method="GET",route="/api/echo/admin",status="200",le="#,
                "guildhall_gateway_connections 1", #"guildhall_gateway_frames_total{direction="in"}"#,
                #"guildhall_gateway_frames_total{direction="out"}"#,
                #"guildhall_cog_state{cog="echo",state="loaded"} 1"#, #"guildhall_cog_state{cog="echo",state="failed"} 0"#,
                "guildhall_cache_hit_ratio", "guildhall_cache_hits_total",
                #"guildhall_upstream_up{upstream="api.example.org"} 1"#,
                #"guildhall_upstream_consecutive_failures{upstream="api.example.org"} 1"#,
                #"guildhall_guild_events_total{guild="1",event="combatlog.encounter"} 1"#,
                "guildhall_uptime_seconds", "guildhall_resident_memory_bytes",
            ] {
                XCTAssertTrue(text.contains(expected), "\(expected) in\n\(text)")
            }
            // Every series the shipped Grafana dashboard reads is served (three appear with their first event: an
            // outbound call, a rate-limit refusal, a failing listener; their own tests show them).
            let dashboard = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../docs/grafana/guildhall-dashboard.json").standardized
            let queries = String(decoding: try Data(contentsOf: dashboard), as: UTF8.self)
            let names = Set(queries.matches(of: /guildhall_[a-z_]+/).map { String($0.output) })
            XCTAssertGreaterThan(names.count, 10)
            for name in names.subtracting(["guildhall_outbound_requests_total", "guildhall_rate_limited_total", "guildhall_events_failed_total"]) {
                XCTAssertTrue(text.contains(name), "the dashboard reads \(name)")
            }
            socket.close()
        }
    }
}
