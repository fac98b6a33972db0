import CombatLogCog
import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// A combat log is input from outside: numbers at the bounds of their type, lines without end, gzip bombs and a
/// log that stopped the server once must each be refused or parsed, and never take the server down.
final class CombatLogHardeningTests: XCTestCase {
    typealias F = CombatLogFixtures

    /// A pull whose ENCOUNTER_END states the largest fight time, with amounts at the bounds of 64 bits and 20,000
    /// hits of 15 digits each, whose sum passes 2⁶³.
    static func overflowingLog() -> String {
        let lines = F.tww().split(separator: "\n").map(String.init)
        let start = lines.firstIndex { $0.contains("ENCOUNTER_START") }!
        let hit = lines.first { $0.contains("Shield Slam") && $0.contains("23:01:01") }!
        let huge = hit.replacingOccurrences(of: ",1000,1200,-1,", with: ",999999999999999,999999999999999,-1,")
        let lowest = hit.replacingOccurrences(of: ",1000,1200,-1,", with: ",-9223372036854775808,9223372036854775807,-1,")
        let end = lines.first { $0.contains("ENCOUNTER_END") && $0.hasSuffix(",11000") }!
            .replacingOccurrences(of: ",11000", with: ",9223372036854775807")
        return (lines[...start] + [lowest] + Array(repeating: huge, count: 20_000) + [end]).joined(separator: "\n") + "\n"
    }

    func testNumbersAtTheBoundsOfTheirTypeAreParsedOrRefusedNeverTrapped() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: CombatLogTests.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let record = try await CombatLogTests.uploadAndWait(Self.overflowingLog(), key: tenants.keyA, on: server)
            XCTAssertEqual(record["status"], "completed", "\(record)")
            let encounters = try await server.request(.GET, "/api/v1/encounters", token: tenants.keyA).json["data"]?["encounters"]?.arrayValue ?? []
            let pull = try XCTUnwrap(encounters.first)
            XCTAssertLessThanOrEqual(pull["duration_ms"]?.intValue ?? .max, 86_400_000, "a fight time no fight can have is not taken: \(pull)")
            let id = try XCTUnwrap(pull["id"]?.intValue)
            let detail = try await server.request(.GET, "/api/v1/encounters/\(id)", token: tenants.keyA)
            XCTAssertEqual(detail.status, 200)
            let tank = detail.json["data"]?["characters"]?.arrayValue?.first { $0["name"] == "Tankard-Ravencrest-EU" }
            XCTAssertEqual(tank?["damage_done"], .int(Int64.max), "the sum is held at the largest figure")
            try await assertEqual(await server.request(.GET, "/api/health").status, 200)
        }
    }

    func testAnEndlessLineIsMalformedAndTheRestOfTheLogIsRead() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: CombatLogTests.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            // 8 MiB without a newline, compressed to a few kilobytes, in the middle of an honest log.
            let lines = F.tww().split(separator: "\n", omittingEmptySubsequences: false)
            let endless = (lines.prefix(2) + [Substring(String(repeating: "A", count: 8 << 20))] + lines.dropFirst(2)).joined(separator: "\n")
            let (status, answer) = try await CombatLogStreamsTests.post(
                try CombatLogStreamsTests.gzipped(endless), to: "/api/v1/logs/upload", port: server.port, token: tenants.keyA,
                headers: [("X-File-Name", "WoWCombatLog-021626_230000.txt.gz")])
            XCTAssertEqual(status, 202, "\(answer)")
            let record = try await CombatLogTests.finished(try XCTUnwrap(answer["upload_id"]?.stringValue), key: tenants.keyA, on: server)
            XCTAssertEqual(record["status"], "completed", "\(record)")
            XCTAssertEqual(record["encounters"], 2)
            let summary = try JSONValue(parsing: Data((record["summary"]?.stringValue ?? "{}").utf8))
            let problems = summary["problems"]?.arrayValue ?? record["summary"]?["problems"]?.arrayValue ?? []
            XCTAssertTrue(problems.contains { $0["reason"]?.stringValue?.contains("longer than") ?? false }, "\(record)")
        }
    }

    func testAGzipBombIsStoppedAtTheUploadLimitAndChargedToTheBudget() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: CombatLogTests.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            try await assertEqual(
                await server.request(.PUT, "/api/config/combatlog", token: admin, json: ["max_upload_bytes": .int(4 << 20)]).status, 200)
            // A log's first lines, then 16 MiB of newlines: tiny as sent, four times the limit once inflated (sent
            // with a budget that lets it be read that far).
            let uploader = try await Tenants.key(for: tenants.a, on: server, admin: admin, ["events_per_minute": 100_000_000])
            let bomb = try CombatLogStreamsTests.gzipped(F.tww().split(separator: "\n").prefix(2).joined(separator: "\n") + String(repeating: "\n", count: 16 << 20))
            XCTAssertLessThan(bomb.count, 4 << 20)
            let (status, answer) = try await CombatLogStreamsTests.post(
                bomb, to: "/api/v1/logs/upload", port: server.port, token: uploader,
                headers: [("X-File-Name", "WoWCombatLog-021626_230000.txt.gz")])
            XCTAssertEqual(status, 202, "\(answer)")
            let record = try await CombatLogTests.finished(try XCTUnwrap(answer["upload_id"]?.stringValue), key: uploader, on: server)
            XCTAssertEqual(record["status"], "failed")
            XCTAssertTrue(record["error"]?.stringValue?.contains("max_upload_bytes") ?? false, "\(record)")

            // Blank lines cost parsing: they are charged like events, and a small budget holds the upload back.
            let slow = try await Tenants.key(for: tenants.a, on: server, admin: admin, ["events_per_minute": 1_000])
            let blanks = try CombatLogStreamsTests.gzipped(F.tww().split(separator: "\n").prefix(2).joined(separator: "\n") + String(repeating: "\n", count: 100_000))
            let (accepted, upload) = try await CombatLogStreamsTests.post(
                blanks, to: "/api/v1/logs/upload", port: server.port, token: slow, headers: [("X-File-Name", "WoWCombatLog-021626_230000.txt.gz")])
            XCTAssertEqual(accepted, 202)
            let id = try XCTUnwrap(upload["upload_id"]?.stringValue)
            let throttled = try await eventually(timeout: .seconds(10)) {
                try await server.request(.GET, "/api/v1/logs/\(id)", token: slow).json["data"]?["status"] == "throttled"
            }
            XCTAssertTrue(throttled, "100,000 blank lines are past a budget of 1,000 a minute")
        }
    }

    func testAnUploadThatStoppedTheServerWhenResumedIsFailedAndTheHostStarts() async throws {
        var host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        let uploads = try await host.run(catalogue: CombatLogTests.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            var ids: [String] = []
            for _ in 0..<2 {
                let record = try await CombatLogTests.uploadAndWait(F.tww(), key: tenants.keyA, on: server)
                ids.append(try XCTUnwrap(record["id"]?.stringValue ?? record["upload_id"]?.stringValue))
            }
            return (ids, tenants.keyA)
        }
        // As a stop of the whole process leaves them: both being parsed, their files spooled; the first had been
        // resumed once already (and stopped the server again), the second not.
        let database = try SQLiteDatabase(path: host.config.database.path)
        let spool = host.folder.appendingPathComponent("cogs/combatlog/uploads")
        try FileManager.default.createDirectory(at: spool, withIntermediateDirectories: true)
        for (index, id) in uploads.0.enumerated() {
            try await database.execute(
                "UPDATE combatlog_uploads SET status = 'processing', resumes = ? WHERE id = ?", [index == 0 ? 1 : 0, id])
            try F.tww().write(to: spool.appendingPathComponent("\(id).log"), atomically: true, encoding: .utf8)
        }
        try database.close()
        host.config.plugins.enabled = ["combatlog"]
        try await host.run(catalogue: CombatLogTests.catalogue) { server in
            let key = uploads.1
            let first = try await CombatLogTests.finished(uploads.0[0], key: key, on: server)
            XCTAssertEqual(first["status"], "failed")
            XCTAssertTrue(first["error"]?.stringValue?.contains("not tried again") ?? false, "\(first)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: spool.appendingPathComponent("\(uploads.0[0]).log").path))
            let second = try await CombatLogTests.finished(uploads.0[1], key: key, on: server)
            XCTAssertEqual(second["status"], "completed", "a first interruption is resumed: \(second)")
        }
    }
}
