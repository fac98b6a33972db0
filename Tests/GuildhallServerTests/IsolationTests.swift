import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// External cogs are held to what is theirs: a hostile cog (Fixtures/external-cogs/snoop) that asked for nothing
/// tries to read the host's environment and database and another cog's secret, store and folder, and reads none.
final class IsolationTests: XCTestCase {
    func testAHostileCogReadsNothingThatIsNotItsOwn() async throws {
        try XCTSkipUnless(geteuid() == 0, "isolation by users needs a host running as root")
        let host = try ExternalCogTests.host { $0.plugins.enabled = ["probe", "snoop"] }
        defer { host.removeFolder() }
        try ExternalCogTests.copy(fixture: "snoop", into: host.folder.appendingPathComponent("plugins/snoop"))
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            // The victim keeps something in its store and its folder.
            try await assertEqual(await server.request(.PUT, "/api/probe/kv/treasure", token: admin, json: ["value": ["gold": 1]]).status, 200)
            let probe = try await ExternalCogTests.entry(server, admin)
            let victimPID = try XCTUnwrap(probe["process"]?["pid"]?.intValue)
            let snoop = try await ExternalCogTests.entry(server, admin, "snoop")
            XCTAssertEqual(snoop["process"]?["isolation"]?["mode"], "user")
            XCTAssertNotEqual(snoop["process"]?["isolation"]?["uid"], probe["process"]?["isolation"]?["uid"])

            let reply = try await server.request(
                .POST, "/api/snoop/try", token: admin,
                json: ["database": .string(host.config.database.path), "victim_pid": .int(victimPID),
                       "victim_data": .string(host.folder.appendingPathComponent("cogs/probe").path)])
            XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self))
            let tried = reply.json
            XCTAssertNotEqual(tried["uid"], .int(0), "the cog does not run as root")
            XCTAssertEqual(tried["home"], .string(host.folder.appendingPathComponent("cogs/snoop").path))
            for attempt in ["host_environ", "host_database", "victim_environ", "victim_secret_used", "victim_data"] {
                XCTAssertEqual(tried[attempt]?["read"], false, "\(attempt): \(String(describing: tried[attempt]))")
            }
            XCTAssertEqual(tried["own_data"]?["read"], true, "its own folder is writable: \(String(describing: tried["own_data"]))")
            // The host's files are its own alone.
            let attributes = try FileManager.default.attributesOfItem(atPath: host.config.database.path)
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        }
    }

    func testAHostThatCannotIsolateSaysSoAndStartsNoCogUnlessAllowed() throws {
        let refusing = CogIsolation(firstUID: 2_000_000_000, allowUnisolated: false, isRoot: false)
        XCTAssertNil(refusing.user(of: "probe"))
        XCTAssertEqual(refusing.describe("probe")["mode"], "none")
        XCTAssertThrowsError(try refusing.checkMayStart("probe")) { error in
            XCTAssertTrue("\(error)".contains("allow_unisolated_cogs"), "\(error)")
        }
        let allowing = CogIsolation(firstUID: 2_000_000_000, allowUnisolated: true, isRoot: false)
        XCTAssertNoThrow(try allowing.checkMayStart("probe"))
        XCTAssertEqual(allowing.describe("probe")["allowed"], true)
    }

    func testTwoCogsWhoseIdsMapToOneUserDoNotShareIt() throws {
        let isolation = CogIsolation(firstUID: 2_000_000_000, allowUnisolated: false, isRoot: true)
        var seen: [uid_t: String] = [:]
        var pair: (String, String)?
        for index in 0..<100_000 where pair == nil {
            let id = "cog\(index)"
            let uid = try XCTUnwrap(isolation.user(of: id))
            if let first = seen[uid] { pair = (first, id) } else { seen[uid] = id }
        }
        let (first, second) = try XCTUnwrap(pair, "ids that map to one user exist")
        XCTAssertNotNil(try isolation.claimUser(for: first))
        XCTAssertNotNil(try isolation.claimUser(for: first), "a cog keeps its user across restarts")
        XCTAssertThrowsError(try isolation.claimUser(for: second)) { error in
            XCTAssertTrue("\(error)".contains("is cog \(first)'s too"), "\(error)")
        }
    }

    func testNoCogMayTakeAHostSectionOrAnotherCogsSection() async throws {
        let host = try ExternalCogTests.host(load: false)
        defer { host.removeFolder() }
        try await host.run(catalogue: BuiltInCogsTests.catalogue) { server in
            let admin = try await server.token("admin")
            let refusals = ["meme": "invalid_cog", "memes": "builtin_cog", "general": "invalid_manifest", "auth": "invalid_manifest"]
            for (id, code) in refusals {
                let folder = host.folder.appendingPathComponent("shadow-\(id)")
                try ExternalCogTests.copy(fixture: "probe", into: folder, as: id)
                let reply = try await server.request(.POST, "/api/cogs/install", token: admin, json: ["path": .string(folder.path)])
                XCTAssertEqual(reply.error, code, "\(id): \(String(decoding: reply.body, as: UTF8.self))")
                XCTAssertTrue((400..<500).contains(reply.status), "\(id): \(reply.status)")
                let listed = try await server.request(.GET, "/api/cogs", token: admin).json["cogs"]?.arrayValue ?? []
                XCTAssertFalse(listed.contains { $0["name"] == .string(id) && $0["kind"] == "external" }, id)
            }
        }
    }
}
