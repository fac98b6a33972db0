import Foundation
import GuildhallTesting
import Logging
import PluginAPI
import TicketsCog
import XCTest

@testable import GuildhallServer

/// Analytics as admins read it: document 004's stats and active sessions, the admin app's active sessions screen
/// (CONTRACT.md call 73), and document 003's `/api/v1/analytics/*`, all built from what the running host recorded.
final class AnalyticsTests: XCTestCase {
    static let routes = [
        "/api/stats", "/api/active-sessions", "/api/admin/active-sessions", "/api/v1/analytics/summary",
        "/api/v1/analytics/users/activities", "/api/v1/analytics/users/top", "/api/v1/analytics/conversations",
        "/api/v1/analytics/api-usage", "/api/v1/analytics/daily-stats",
    ]

    func testTheActiveSessionsScreenShowsWhoIsUsingTheAppFromWhatTheyRequested() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            let user = try await server.token("user")
            let headers = AdminAppCogsTests.appHeaders(user).map { $0.0 == "X-Device-Info" ? ($0.0, "sdk_gphone64 emulator") : $0 }
            try await assertEqual(await server.request(.GET, "/api/ping", headers: headers).status, 200)
            try await assertEqual(await server.request(.GET, "/api/auth/me", headers: headers).status, 200)
            _ = try await server.request(.POST, "/api/auth/login", json: ["username": "user", "password": "wrong-password"])

            let screen = try await server.request(.GET, "/api/admin/active-sessions", headers: AdminAppCogsTests.appHeaders(admin))
            XCTAssertEqual(screen.status, 200)
            let sessions = screen.json["sessions"]?.arrayValue ?? []
            let mine = try XCTUnwrap(sessions.first { $0["username"] == "user" }, "\(screen.json)")
            XCTAssertEqual(mine["role"], "user")
            let userID = try await AdminAppTicketsTests.userID("user", on: server)
            XCTAssertEqual(mine["discord_id"], .string(String(userID)))
            XCTAssertEqual(mine["app_version"], "3.1.0")
            XCTAssertEqual(mine["platform"], "android")
            XCTAssertEqual(mine["device_info"], "sdk_gphone64 emulator")
            XCTAssertEqual(mine["is_emulator"], true)
            XCTAssertEqual(mine["ip"], "127.0.0.1")
            XCTAssertEqual(mine["user_agent"], "Chillventory/1.0 (Android; Flutter)")
            XCTAssertEqual(mine["last_endpoint"], "GET /api/auth/me")
            XCTAssertEqual(mine["request_count"], 2)
            XCTAssertNotNil(mine["last_seen"]?.stringValue.flatMap(Timestamp.date(from:)))
            XCTAssertLessThanOrEqual(mine["seconds_ago"]?.intValue ?? 99, 5)
            XCTAssertEqual(screen.json["total_active"]?.intValue, Int64(sessions.count))
            XCTAssertNotNil(screen.json["checked_at"]?.stringValue)
            let actions = (screen.json["recent_activity"]?.arrayValue ?? []).compactMap { $0["action"]?.stringValue }
            XCTAssertTrue(actions.contains("login") && actions.contains("login_failed"), "\(actions)")

            // Document 004's path gives the same sessions with its own fields.
            let document = try await server.request(.GET, "/api/active-sessions", token: admin).json["sessions"]?.arrayValue ?? []
            let same = try XCTUnwrap(document.first { $0["username"] == "user" })
            XCTAssertEqual(same["session_id"], mine["session_id"])
            XCTAssertNotNil(same["last_activity"]?.stringValue)
            XCTAssertNotNil(same["duration"]?.intValue)

            // Signing out ends the session at once, and is recorded.
            try await assertEqual(await server.request(.POST, "/api/auth/logout", headers: headers).status, 200)
            let after = try await server.request(.GET, "/api/admin/active-sessions", token: admin).json
            XCTAssertFalse((after["sessions"]?.arrayValue ?? []).contains { $0["username"] == "user" }, "\(after)")
            XCTAssertTrue((after["recent_activity"]?.arrayValue ?? []).contains { $0["action"] == "logout" && $0["username"] == "user" })
        }
    }

    func testDocument003ReportsUsageActivitiesTopUsersConversationsAndDailyFigures() async throws {
        let host = TestHost(enabled: ["tickets"])
        defer { host.removeFolder() }
        try await host.run(catalogue: [TicketsCog.self]) { server in
            let admin = try await server.token("admin")
            let user = try await server.token("user")
            let moderator = try await server.token("moderator")
            let opened = try await server.request(
                .POST, "/api/tickets", token: user, json: ["type": "bug", "subject": "Crash", "description": "It crashes"])
            let ticket = try XCTUnwrap(opened.json["ticket_id"]?.stringValue, "\(opened.json)")
            _ = try await server.request(.POST, "/api/tickets/\(ticket)/messages", token: moderator, json: ["content": "Looking"])
            _ = try await server.request(.POST, "/api/tickets/\(ticket)/messages", token: user, json: ["content": "Thanks"])
            for _ in 0..<3 { _ = try await server.request(.GET, "/api/users/999", token: admin) }
            _ = try await server.request(.GET, "/api/users/1", token: admin)
            await server.host.analytics.flush()
            try await assertTrue(try await eventually {
                await server.host.analytics.flush()
                return try await server.request(.GET, "/api/v1/analytics/conversations", token: admin).json["total_messages"] == 3
            })

            let usage = try await server.request(.GET, "/api/v1/analytics/api-usage?days=7", token: admin).json["endpoints"]?.arrayValue ?? []
            let lookups = try XCTUnwrap(usage.first { $0["endpoint"] == "/api/users/{id}" && $0["method"] == "GET" }, "\(usage)")
            XCTAssertEqual(lookups["count"], 4, "by route template, not by concrete path")
            XCTAssertEqual(lookups["client_errors"], 3)
            XCTAssertEqual(lookups["errors"], 0)
            XCTAssertEqual(lookups["error_rate"]?.doubleValue, 0)
            let p50 = try XCTUnwrap(lookups["p50_ms"]?.doubleValue), p95 = try XCTUnwrap(lookups["p95_ms"]?.doubleValue)
            XCTAssertGreaterThan(p50, 0)
            XCTAssertLessThanOrEqual(p50, p95)
            XCTAssertTrue(usage.contains { $0["endpoint"] == "/api/tickets/{id}/messages" && $0["count"] == 2 }, "cog routes by template too")

            let summary = try await server.request(.GET, "/api/v1/analytics/summary", token: admin).json
            XCTAssertEqual(summary["total_users"], 3)
            XCTAssertEqual(summary["total_conversations"], 1)
            XCTAssertEqual(summary["total_logins"], 3)
            XCTAssertGreaterThanOrEqual(summary["total_requests"]?.intValue ?? 0, 8)

            let conversations = try await server.request(.GET, "/api/v1/analytics/conversations", token: admin).json
            let conversation = try XCTUnwrap(conversations["conversations"]?.arrayValue?.first)
            XCTAssertEqual(conversation["conversation_id"], .string("ticket:\(ticket)"))
            XCTAssertEqual(conversation["messages"], 3)
            XCTAssertEqual(conversation["participant_count"], 2)
            XCTAssertNotNil(conversation["first_response_seconds"]?.doubleValue, "the moderator answered the user")
            try await assertEqual(
                await server.request(.GET, "/api/v1/analytics/conversations?start_date=2999-01-01", token: admin).json["total"], 0)
            try await assertEqual(
                await server.request(.GET, "/api/v1/analytics/conversations?start_date=yesterday", token: admin).json["field"], "start_date")

            // Tracked activities join the logins, newest first, paginated.
            let tracked = try await server.request(
                .POST, "/api/v1/analytics/track/activity", token: admin, json: ["action": "exported_report", "extra_data": ["rows": 12]])
            XCTAssertEqual(tracked.status, 201)
            let page = try await server.request(.GET, "/api/v1/analytics/users/activities?skip=0&limit=2", token: admin).json
            XCTAssertEqual(page["total"], 4)
            XCTAssertEqual(page["activities"]?.arrayValue?.count, 2)
            XCTAssertEqual(page["activities"]?.arrayValue?.first?["action"], "exported_report")
            XCTAssertEqual(page["activities"]?.arrayValue?.first?["extra_data"]?["rows"], 12)
            try await assertEqual(
                await server.request(.GET, "/api/v1/analytics/users/activities?skip=3&limit=2", token: admin).json["activities"]?.arrayValue?.count, 1)
            try await assertEqual(
                await server.request(.GET, "/api/v1/analytics/users/activities?action=login&limit=50", token: admin).json["total"], 3)
            try await assertEqual(await server.request(.GET, "/api/v1/analytics/users/activities?limit=0", token: admin).status, 400)
            try await assertEqual(await server.request(.POST, "/api/v1/analytics/track/activity", token: admin, json: ["action": ""]).status, 400)
            try await assertEqual(await server.request(.POST, "/api/v1/analytics/track/activity", token: admin, raw: "{").error, "invalid_json")

            let top = try await server.request(.GET, "/api/v1/analytics/users/top?limit=1", token: admin).json["users"]?.arrayValue ?? []
            XCTAssertEqual(top.count, 1)
            XCTAssertEqual(top.first?["username"], "admin")

            let stats = try await server.request(.GET, "/api/stats?days=7", token: admin)
            XCTAssertEqual(stats.json["total_users"], 3)
            XCTAssertEqual(stats.json["active_users_7d"], 3)
            XCTAssertEqual(stats.json["total_sessions"], 3)
            XCTAssertGreaterThanOrEqual(stats.json["total_actions"]?.intValue ?? 0, 8)
            try await assertEqual(await server.request(.GET, "/api/stats", token: admin).status, 200)
            try await assertEqual(await server.request(.GET, "/api/stats?days=5", token: admin).json["field"], "days")

            // The scheduled job (it also ran at start) folds today into the daily figures and snapshots the system.
            let snapshots = try await server.host.database.read { try $0.scalar("SELECT COUNT(*) FROM analytics_system") } ?? 0
            await GuildhallHost.analyticsHousekeeping(
                store: AnalyticsStore(database: server.host.database, settings: server.host.config.analytics),
                figures: server.host.systemFigures(), logger: Logger(label: "test"))
            let days = try await server.request(.GET, "/api/v1/analytics/daily-stats?days=2", token: admin).json["days"]?.arrayValue ?? []
            let today = try XCTUnwrap(days.first { $0["day"]?.stringValue == String(Timestamp.string(from: Date()).prefix(10)) }, "\(days)")
            XCTAssertEqual(today["logins"], 3)
            XCTAssertEqual(today["conversations"], 1)
            XCTAssertEqual(today["messages"], 3)
            XCTAssertEqual(today["active_users"], 3)
            XCTAssertGreaterThanOrEqual(today["requests"]?.intValue ?? 0, 8)
            let after = try await server.host.database.read { try $0.scalar("SELECT COUNT(*) FROM analytics_system") } ?? 0
            XCTAssertGreaterThan(after, snapshots, "a system snapshot")
        }
    }

    func testOnlyAdminsReadAnalytics() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let moderator = try await server.token("moderator")
            let user = try await server.token("user")
            for path in Self.routes {
                try await assertEqual(await server.request(.GET, path, token: moderator).status, 403, path)
                try await assertEqual(await server.request(.GET, path, token: user).status, 403, path)
                try await assertEqual(await server.request(.GET, path).status, 401, path)
            }
            try await assertEqual(
                await server.request(.POST, "/api/v1/analytics/track/activity", token: user, json: ["action": "x"]).status, 403)
        }
    }

    func testSwitchedOffNothingIsRecorded() async throws {
        let host = TestHost { $0.analytics.enabled = false }
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            _ = try await server.request(.GET, "/api/ping", token: admin)
            await server.host.analytics.flush()
            let counts = try await server.host.database.read { connection in
                [
                    try connection.scalar("SELECT COUNT(*) FROM analytics_api_usage"),
                    try connection.scalar("SELECT COUNT(*) FROM analytics_sessions"),
                    try connection.scalar("SELECT COUNT(*) FROM analytics_activities"),
                ]
            }
            XCTAssertEqual(counts, [0, 0, 0])
            try await assertEqual(await server.request(.GET, "/api/admin/active-sessions", token: admin).json["total_active"], 0)
        }
    }

    func testAdminStatsShowTheDeploymentAtAGlance() async throws {
        let host = TestHost(enabled: ["tickets"])
        defer { host.removeFolder() }
        try await host.run(catalogue: [TicketsCog.self]) { server in
            let admin = try await server.token("admin")
            let user = try await server.token("user")
            for subject in ["One", "Two"] {
                _ = try await server.request(.POST, "/api/tickets", token: user, json: ["type": "bug", "subject": .string(subject), "description": "x"])
            }
            let first = try await server.request(.GET, "/api/tickets", token: admin).json["tickets"]?.arrayValue?.first?["ticket_id"]?.stringValue ?? ""
            _ = try await server.request(.POST, "/api/tickets/\(first)/close", token: admin)
            let socket = WSTestClient(port: server.port, path: "/ws", token: user)
            _ = await socket.next("connected")

            let stats = try await server.request(.GET, "/api/admin/stats", token: admin)
            XCTAssertEqual(stats.status, 200)
            let figures = stats.json
            XCTAssertNotNil(figures["bot_uptime"]?.intValue)
            XCTAssertEqual(figures["total_guilds"], 1)
            XCTAssertEqual(figures["total_members"], 3)
            XCTAssertEqual(figures["total_tickets"], 2, "\(figures)")
            XCTAssertEqual(figures["open_tickets"], 1)
            XCTAssertEqual(figures["cogs"]?["tickets"]?["total_tickets"], 2)
            XCTAssertEqual(figures["cogs_loaded"], 1)
            XCTAssertEqual(figures["cog_states"]?["tickets"], "loaded")
            XCTAssertEqual(figures["gateway"]?["connections"], 1)
            XCTAssertGreaterThanOrEqual(figures["gateway"]?["frames_out"]?.intValue ?? 0, 1)
            XCTAssertGreaterThanOrEqual(figures["event_bus"]?["published"]?.intValue ?? 0, 3)
            XCTAssertEqual(figures["push"]?["configured"], false)
            XCTAssertGreaterThan(figures["resident_bytes"]?.intValue ?? 0, 0)
            try await assertEqual(await server.request(.GET, "/api/admin/stats", token: user).status, 403)
            socket.close()
        }
    }
}
