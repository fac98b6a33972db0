import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

/// The HazeBot admin app's general, channels and roles screens (CONTRACT.md, "Configuration", calls 23-31), sent as
/// the app sends them.
final class AdminAppConfigTests: XCTestCase {
    func testTheConfigScreensSaveWhatTheAppSendsAndReadItBack() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let headers = AdminAppCogsTests.appHeaders(admin)

            let general: JSONValue = [
                "bot_name": "HazeBot", "command_prefix": "!", "presence_update_interval": 120, "message_cooldown": 3,
                "fuzzy_matching_threshold": 0.7, "pink_color": 16_738_740, "embed_footer_text": "Made with love",
                "role_names": ["admin": "Staff", "member": "Crew"], "status_dashboard": ["update_interval_minutes": 10, "show_monitoring": false],
            ]
            try await assertEqual(try await server.request(.PUT, "/api/config/general", json: general, headers: headers).status, 200)
            let readGeneral = try await server.request(.GET, "/api/config/general", headers: headers).json
            XCTAssertEqual(readGeneral["pink_color"], 16_738_740)
            XCTAssertEqual(readGeneral["role_names"], ["admin": "Staff", "member": "Crew"])
            XCTAssertEqual(readGeneral["status_dashboard"], ["update_interval_minutes": 10, "show_monitoring": false])

            // Snowflakes beyond JavaScript's safe integers, as integers and null, as the app sends them.
            var channels: [String: JSONValue] = [:]
            for key in ["log", "changelog", "todo", "rl", "meme", "server_guide", "welcome_rules", "welcome_public", "transcript", "gaming", "status"] {
                channels["\(key)_channel_id"] = .null
            }
            channels["log_channel_id"] = .int(1_234_567_890_123_456_789)
            channels["tickets_category_id"] = .int(987_654_321_098_765_432)
            channels["gaming_channel_id"] = "1111111111111111111"
            try await assertEqual(try await server.request(.PUT, "/api/config/channels", json: .object(channels), headers: headers).status, 200)
            let readChannels = try await server.request(.GET, "/api/config/channels", headers: headers).json
            XCTAssertEqual(readChannels["log_channel_id"], "1234567890123456789", "kept exactly, as a string")
            XCTAssertEqual(readChannels["tickets_category_id"], "987654321098765432")
            XCTAssertEqual(readChannels["gaming_channel_id"], "1111111111111111111")
            XCTAssertEqual(readChannels["status_channel_id"], "", "null is no channel")
            if case .object(let members) = readChannels { XCTAssertEqual(members.count, 12) }

            let roles: JSONValue = [
                "admin_role_id": .int(111_111_111_111_111_111), "moderator_role_id": .int(222_222_222_222_222_222), "normal_role_id": nil,
                "member_role_id": nil, "changelog_role_id": nil, "meme_role_id": "333333333333333333",
            ]
            try await assertEqual(try await server.request(.PUT, "/api/config/roles", json: roles, headers: headers).status, 200)
            let readRoles = try await server.request(.GET, "/api/config/roles", headers: headers).json
            XCTAssertEqual(readRoles["admin_role_id"], "111111111111111111")
            XCTAssertEqual(readRoles["meme_role_id"], "333333333333333333")
            XCTAssertEqual(readRoles["normal_role_id"], "")

            // Unknown keys stay refused, and an id must be digits.
            let unknown = try await server.request(.PUT, "/api/config/channels", json: ["lobby_channel_id": 1], headers: headers)
            XCTAssertEqual(unknown.status, 400)
            XCTAssertEqual(unknown.json["field"], "lobby_channel_id")
            let notAnID = try await server.request(.PUT, "/api/config/roles", json: ["admin_role_id": "admins"], headers: headers)
            XCTAssertEqual(notAnID.status, 400)
            XCTAssertEqual(notAnID.json["field"], "admin_role_id")
            try await assertEqual(try await server.request(.POST, "/api/config/roles/reset", headers: headers).json["value"]?["admin_role_id"], "")
        }
    }
}
