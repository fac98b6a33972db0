import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// `GET /openapi.json` and `GET /docs` as a client reads them, and schemathesis (from PyPI) fuzzing every operation
/// of a deployment whose upstreams are stand-ins on 127.0.0.1.
final class OpenAPITests: XCTestCase {
    func testTheDescriptionCoversHostAndCogRoutesAndFollowsCogsLoading() async throws {
        let host = TestHost(enabled: ["tickets", "memes", "rocket_league", "combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: BuiltInCogsTests.catalogue) { server in
            let admin = try await server.token("admin")
            let described = try await server.request(.GET, "/openapi.json")
            XCTAssertEqual(described.status, 200)
            let document = described.json
            XCTAssertEqual(document["openapi"], "3.1.0")
            let login = document["paths"]?["/api/auth/login"]?["post"]
            XCTAssertEqual(login?["tags"], ["host"])
            XCTAssertEqual(login?["security"], [])
            let credentials = login?["requestBody"]?["content"]?["application/json"]?["schema"]
            XCTAssertEqual(credentials?["properties"]?["username"], ["type": "string"])
            XCTAssertEqual(credentials?["required"]?.arrayValue?.count, 2)
            let users = document["paths"]?["/api/v1/users"]?["get"]
            XCTAssertEqual(users?["x-access"], "admin")
            XCTAssertEqual(Set(users?["parameters"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []), ["limit", "offset"])
            XCTAssertEqual(users?["responses"]?["403"]?["content"]?["application/json"]?["schema"]?["$ref"], "#/components/schemas/Error")
            XCTAssertNotNil(document["paths"]?["/api/users/{id}"]?["get"]?["parameters"], "path parameters in braces")
            XCTAssertEqual(document["paths"]?["/api/tickets"]?["post"]?["tags"], ["tickets"])
            let ticketErrors = document["paths"]?["/api/tickets"]?["post"]?["responses"]?["400"]?["content"]?["application/json"]?["schema"]?["properties"]?["error"]?["enum"]?.arrayValue ?? []
            XCTAssertTrue(ticketErrors.contains("empty_subject") && ticketErrors.contains("invalid_json"), "a cog's codes and the host's")
            try APIDescriptionTests.validate(document)

            // Unloading a cog takes its routes out of the description; loading it puts them back.
            _ = try await server.request(.POST, "/api/cogs/unload", token: admin, json: ["cog_name": "memes"])
            let without = try await server.request(.GET, "/openapi.json").json
            XCTAssertNil(without["paths"]?["/api/memes/random"])
            XCTAssertNotNil(without["paths"]?["/api/tickets"])
            _ = try await server.request(.POST, "/api/cogs/load", token: admin, json: ["cog_name": "memes"])
            try await assertEqual(await server.request(.GET, "/openapi.json").json["paths"]?["/api/memes/random"]?["get"]?["tags"], ["memes"])

            // The page: every path, readable, nothing loaded from elsewhere.
            let page = try await server.request(.GET, "/docs")
            XCTAssertEqual(page.status, 200)
            XCTAssertTrue(page.header("Content-Type")?.hasPrefix("text/html") ?? false)
            XCTAssertEqual(page.header("Content-Security-Policy"), "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
            let html = String(decoding: page.body, as: UTF8.self)
            XCTAssertTrue(html.contains("<code>/api/tickets/{id}/messages</code>"), "cog routes")
            XCTAssertTrue(html.contains("<code>/api/v1/analytics/api-usage</code>"), "host routes")
            XCTAssertFalse(html.contains("<script"), "no script")
            XCTAssertFalse(html.contains("http://") || html.contains("https://cdn"), "nothing from elsewhere")
        }
    }

    /// schemathesis generates requests for every operation from the description — valid ones and, with `--mode all`,
    /// invalid ones — and checks that none answers 5xx and every answer matches its documented schema. The
    /// deployment's upstreams (Reddit, Lemmy, Imgflip, the Tracker Network, Discord, FCM) are stand-ins, so their
    /// features answer as they would in production. The seed is fixed so a run is repeatable; try others with
    /// `.test-venv/bin/schemathesis run URL/openapi.json --seed N` against a deployment of your own.
    func testSchemathesisFindsNoServerErrorAndNoAnswerOutsideTheSchema() async throws {
        let schemathesis = PeerProcess.python.deletingLastPathComponent().appendingPathComponent("schemathesis")
        guard FileManager.default.isExecutableFile(atPath: schemathesis.path) else {
            return XCTFail("\(schemathesis.path) is missing: scripts/test.sh installs schemathesis there")
        }
        try await Self.deployment { server in
            let admin = try await server.token("admin")
            let report = FileManager.default.temporaryDirectory.appendingPathComponent("schemathesis-\(UUID().uuidString).txt")
            defer { try? FileManager.default.removeItem(at: report) }
            let process = Process()
            process.executableURL = schemathesis
            // schemathesis keeps a cache in its working folder: not in the checkout.
            process.currentDirectoryURL = FileManager.default.temporaryDirectory
            process.arguments = [
                "run", "http://127.0.0.1:\(server.port)/openapi.json", "--header", "Authorization: Bearer \(admin)",
                "--checks", "not_a_server_error,response_schema_conformance", "--max-examples", "6", "--seed", "20261129", "--mode", "all",
                // Signing the token out would leave the rest of the run unauthenticated.
                "--exclude-path", "/api/auth/logout", "--no-color",
            ]
            _ = FileManager.default.createFile(atPath: report.path, contents: nil)
            let output = try FileHandle(forWritingTo: report)
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let finished = try await eventually(timeout: .seconds(600)) { !process.isRunning }
            if !finished { process.terminate() }
            try output.close()
            let text = String(decoding: try Data(contentsOf: report), as: UTF8.self)
            XCTAssertTrue(finished, "schemathesis finished within 10 minutes")
            XCTAssertEqual(process.terminationStatus, 0, text)
            XCTAssertTrue(text.contains("Tested:"), text)
            print(text.components(separatedBy: "SUMMARY").last ?? text)  // what was tested, in the test log
        }
    }

    /// Every built-in cog of a deployment loaded, its upstreams (Reddit, Lemmy, Imgflip, Tracker Network, Discord,
    /// FCM) stand-ins on 127.0.0.1, served for `body`.
    static func deployment(_ body: @escaping @Sendable (LiveServer) async throws -> Void) async throws {
        let fcm = try PeerProcess(peer: "fcm_peer.py", arguments: [])
        defer { fcm.terminate() }
        let started = try await fcm.nextEvent()
        let peer = try XCTUnwrap(started)
        try await FakeUpstream.run { upstream in
            FakeMemeServices.serve(on: upstream)
            let players = RocketLeagueTests.Players()
            players.set("steam/known", ["2v2": "Diamond II"])
            RocketLeagueTests.serve(players, on: upstream)
            DiscordSignInTests.serveDiscord(upstream) { [DiscordSignInTests.adminRole] }
            var host = try PushTests.host(peer: peer, enabled: ["tickets", "memes", "rocket_league", "combatlog"])
            defer { host.removeFolder() }
            host.config.runtimeSections["meme"] = [
                "reddit_base_url": .string(upstream.baseURL), "lemmy_base_url": .string(upstream.baseURL),
                "imgflip_base_url": .string(upstream.baseURL), "imgflip_username": "user", "imgflip_password": "secret",
                "default_subreddits": ["memes"], "default_lemmy": ["lemmy.world@memes"], "meme_channel_id": "1234567890123456789",
            ]
            host.config.runtimeSections["rocket_league"] = [
                "api_base_url": .string("\(upstream.baseURL)/api/v2/rocket-league"), "api_key": .string(RocketLeagueTests.key),
            ]
            let discord = DiscordSignInTests.host(upstream).config.discord
            host.config.discord = discord
            try await host.run(catalogue: BuiltInCogsTests.catalogue, body)
        }
    }
}
