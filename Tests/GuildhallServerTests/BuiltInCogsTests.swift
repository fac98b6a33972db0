import CombatLogCog
import Foundation
import MemesCog
import GuildhallTesting
import PluginAPI
import RocketLeagueCog
import TicketsCog
import XCTest

@testable import GuildhallServer

/// The shipped catalogue with the shipped config.yaml.
final class BuiltInCogsTests: XCTestCase {
    static let catalogue: [any Cog.Type] = [TicketsCog.self, MemesCog.self, RocketLeagueCog.self, CombatLogCog.self]

    func testTheDefaultDeploymentLoadsEveryBuiltInCog() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shipped = try HostConfig.load(path: root.appendingPathComponent("config.yaml").path, environment: [:])
        XCTAssertEqual(ConfigCheck.problems(in: shipped, catalogue: Self.catalogue), [])
        let host = TestHost(enabled: shipped.plugins.enabled) { $0.runtimeSections = shipped.runtimeSections }
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let admin = try await server.token("admin")
            let cogs = try await server.request(.GET, "/api/cogs", token: admin).json["cogs"]
            guard case .array(let entries)? = cogs else { return XCTFail() }
            XCTAssertEqual(entries.compactMap { $0["name"]?.stringValue }, ["combatlog", "memes", "rocket_league", "tickets"])
            XCTAssertTrue(entries.allSatisfy { $0["state"] == "loaded" })

            let config = try await server.request(.GET, "/api/config", token: admin).json
            for section in ["general", "channels", "roles", "welcome", "server_guide", "tickets", "meme", "rocket_league", "combatlog"] {
                XCTAssertNotNil(config[section], section)
            }
            XCTAssertEqual(
                config["tickets"],
                ["enabled": true, "max_open_per_user": 3, "auto_close_hours": 72, "transcript_enabled": true, "max_message_length": 2000,
                 "auto_close_check_seconds": 300, "categories": ["Application", "Bug", "Support"], "require_claim": false,
                 "owner_can_close": false, "auto_delete_after_close_days": 0, "send_transcript_email": false, "transcript_email_address": ""])
        }
    }
}
