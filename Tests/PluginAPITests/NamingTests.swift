import PluginAPI
import XCTest

/// Event patterns and the snake_case keys the contract's coders write.
final class NamingTests: XCTestCase {
    func testPatterns() {
        XCTAssertTrue(EventPattern("ticket.*").matches("ticket.opened"))
        XCTAssertFalse(EventPattern("ticket.*").matches("tickets.opened"))
        XCTAssertTrue(EventPattern("*").matches("anything"))
        XCTAssertFalse(EventPattern("ticket.opened").matches("ticket.opened.twice"))
    }

    func testSnakeCaseKeys() {
        XCTAssertEqual(SnakeCase.key("guildID"), "guild_id")
        XCTAssertEqual(SnakeCase.key("HTTPStatusCode"), "http_status_code")
        XCTAssertEqual(SnakeCase.key("rank2v2Tier"), "rank2v2_tier")
        XCTAssertEqual(SnakeCase.key("already_snake"), "already_snake")
        XCTAssertEqual(SnakeCase.key("max_open_perUser"), "max_open_per_user")
    }
}
