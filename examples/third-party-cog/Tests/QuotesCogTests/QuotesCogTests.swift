import Foundation
import GuildhallTesting
import PluginAPI
import QuotesCog
import XCTest

final class QuotesCogTests: XCTestCase {
    let member = Identity.person(.user, id: 5, name: "ann")
    let guildA = GuildScope(id: 2, name: "Loothing")
    let guildB = GuildScope(id: 3, name: "Other")

    /// The cog alone, on the harness: no server.
    func testQuotesAreAddedListedAndRecitedWithinTheirGuild() async throws {
        let harness = try await CogHarness(QuotesCog.self, guilds: [guildA, guildB])
        let added = await harness.request(
            .post, "/api/quotes", as: member, guild: guildA, body: ["text": "Never split the party.", "author": "Leeroy"])
        XCTAssertEqual(added.status, .created)
        XCTAssertEqual(added.json["added_by"], "ann")
        XCTAssertEqual(harness.publishedEvents.map(\.name), ["quote.added"])

        let mine = await harness.request(.get, "/api/quotes", as: member, guild: guildA)
        XCTAssertEqual(mine.json["total"], 1)
        let theirs = await harness.request(.get, "/api/quotes", as: member, guild: guildB)
        XCTAssertEqual(theirs.json["total"], 0, "another guild sees none of it")

        let recited = try await harness.command("!quote", as: member, guild: guildA)
        XCTAssertEqual(recited, "“Never split the party.” — Leeroy")
        await harness.tearDown()
    }

    func testBadInputAndRolesAreRefused() async throws {
        let harness = try await CogHarness(QuotesCog.self, config: ["max_length": 10], guilds: [guildA])
        let tooLong = await harness.request(.post, "/api/quotes", as: member, body: ["text": "far too long a line", "author": "x"])
        XCTAssertEqual(tooLong.error, "quote_too_long")
        let wrongType = await harness.request(.post, "/api/quotes", as: member, body: ["text": 42, "author": "x"])
        XCTAssertEqual(wrongType.error, "invalid_field")
        XCTAssertEqual(wrongType.json["field"], "text")
        let anonymous = await harness.request(.get, "/api/quotes")
        XCTAssertEqual(anonymous.status, .unauthorized)
        let byMember = await harness.request(.delete, "/api/quotes/1", as: member)
        XCTAssertEqual(byMember.status, .forbidden)
        let missing = await harness.request(.delete, "/api/quotes/99", as: .person(.moderator))
        XCTAssertEqual(missing.error, "quote_not_found")
        do {
            try await harness.updateConfig(["max_length": 0])
            XCTFail("a zero length is refused")
        } catch {
            XCTAssertEqual("\(error)", "key 'max_length': expected a number from 1 to 10000, found 0", "the section's declared range")
        }
        await harness.tearDown()
    }

    /// The cog in a real host, on a real port, beside nothing else.
    func testEndToEndThroughARunningHost() async throws {
        let host = TestHost(enabled: ["quotes"])
        defer { host.removeFolder() }
        try await host.run(catalogue: [QuotesCog.self]) { server in
            let token = try await server.token("user")
            let added = try await server.request(.POST, "/api/quotes", token: token, json: ["text": "Hi", "author": "Me"])
            XCTAssertEqual(added.status, 201)
            let listed = try await server.request(.GET, "/api/quotes?limit=5", token: token)
            XCTAssertEqual(listed.json["total"], 1)
            let cogs = try await server.request(.GET, "/api/cogs", token: try await server.token("admin"))
            guard case .array(let entries)? = cogs.json["cogs"] else { return XCTFail("no cogs") }
            XCTAssertEqual(entries.first?["contract_version"], "2.0")
        }
    }
}
