import Foundation
import GuildhallServer
import GuildhallTesting
import PluginAPI
import XCTest

/// A cog that breaks the host's registration rules: the harness must refuse it as the host does, so a cog cannot pass
/// its harness tests and then fail to load.
struct MisregisteredCog: Cog {
    static let manifest = CogManifest(
        id: "misregistered", displayName: "Misregistered", version: "1.0.0", contract: "2.0", summary: "Breaks the rules",
        routePrefixes: ["/api/polls"])

    func setup(_ context: any CogContext<NoConfiguration>) async throws {
        context.route(.get, "/api/polls/{id}", access: .user, summary: "A poll") { _ in JSONValue.object([:]) }
        context.route(.get, "/api/polls/{name}", access: .user, summary: "The same route again") { _ in JSONValue.object([:]) }
        context.route(.get, "/api/votes", access: .user, summary: "Outside the prefixes") { _ in JSONValue.object([:]) }
        context.topic("poll:1") { _, _, _ in true }
    }
}

final class RegistrationRulesTests: XCTestCase {
    static let expected = [
        "route GET /api/polls/{name} is registered twice",
        "route GET /api/votes lies outside the declared prefixes [\"/api/polls\"]",
        "topic prefix 'poll:1' must be a non-empty name without ':'",
    ]

    func testTheHarnessRefusesWhatTheHostRefuses() async throws {
        do {
            _ = try await CogHarness(MisregisteredCog.self)
            XCTFail("the harness set up a cog the host would not load")
        } catch let error as RegistrationProblems {
            XCTAssertEqual(error.problems, Self.expected)
        }
    }

    func testTheHostRefusesItWithTheSameWords() async throws {
        let host = TestHost(enabled: ["misregistered"])
        defer { host.removeFolder() }
        try await host.run(catalogue: [MisregisteredCog.self]) { server in
            let admin = try await server.token("admin")
            let cogs = try await server.request(.GET, "/api/cogs", token: admin).json["cogs"]?.arrayValue ?? []
            let cog = try XCTUnwrap(cogs.first { $0["name"] == "misregistered" })
            XCTAssertEqual(cog["status"], "error")
            XCTAssertEqual(cog["error"]?.stringValue, Self.expected.joined(separator: "; "))
        }
    }
}
