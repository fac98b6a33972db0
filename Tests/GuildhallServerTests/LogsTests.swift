import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// The admin app's logs screen (CONTRACT.md call 74): the host's and the cogs' recent records, filtered.
final class LogsTests: XCTestCase {
    func testTheLogsScreenReadsHostAndCogRecordsFiltered() async throws {
        let host = TestHost(enabled: ["echo", "no-such-cog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: ContractTests.catalogue) { server in
            let admin = try await server.token("admin")
            _ = try await server.request(.PUT, "/api/config/echo", token: admin, json: ["greeting": "refuse"])
            let all = try await server.request(.GET, "/api/logs?limit=500", headers: AdminAppCogsTests.appHeaders(admin))
            XCTAssertEqual(all.status, 200)
            let records = all.json["logs"]?.arrayValue ?? []
            for record in records {
                for field in ["timestamp", "level", "message"] { XCTAssertNotNil(record[field]?.stringValue, field) }
            }
            let hostWarning = records.first { $0["message"]?.stringValue?.hasPrefix("enabled cog is not in the catalogue") == true }
            XCTAssertEqual(hostWarning?["cog"], "host")
            XCTAssertEqual(hostWarning?["level"], "WARNING")
            XCTAssertTrue(records.contains { $0["cog"] == "echo" && $0["message"]?.stringValue?.hasPrefix("echo is refusing") == true }, "\(records)")
            XCTAssertEqual(records.filter { $0["message"]?.stringValue?.hasPrefix("echo is refusing") == true }.count, 1, "kept once, in the cog's ring")
            let cogs = all.json["available_cogs"]?.arrayValue ?? []
            XCTAssertTrue(cogs.contains("host") && cogs.contains("echo"), "\(cogs)")

            let echoOnly = try await server.request(.GET, "/api/logs?cog=echo", token: admin).json["logs"]?.arrayValue ?? []
            XCTAssertFalse(echoOnly.isEmpty)
            XCTAssertTrue(echoOnly.allSatisfy { $0["cog"] == "echo" })
            let errors = try await server.request(.GET, "/api/logs?level=ERROR", token: admin).json["logs"]?.arrayValue ?? []
            XCTAssertFalse(errors.contains { $0["level"] == "WARNING" || $0["level"] == "INFO" })
            let found = try await server.request(.GET, "/api/logs?search=CATALOGUE", token: admin).json["logs"]?.arrayValue ?? []
            XCTAssertEqual(found.count, 1)
            try await assertEqual(await server.request(.GET, "/api/logs?limit=1", token: admin).json["logs"]?.arrayValue?.count, 1)
            try await assertEqual(await server.request(.GET, "/api/logs?level=loud", token: admin).json["field"], "level")
            try await assertEqual(await server.request(.GET, "/api/logs", token: try await server.token("user")).status, 403)
        }
    }

    func testWithALogFileTheScreenReachesBackAcrossARestart() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("guildhall-logfile-\(UUID().uuidString)")
        let logFile = folder.appendingPathComponent("logs/guildhall.jsonl").path
        let first = TestHost(enabled: ["echo", "no-such-cog"], folder: folder) { $0.logging.file = logFile }
        defer { first.removeFolder() }
        try await first.run(catalogue: ContractTests.catalogue) { server in
            let admin = try await server.token("admin")
            _ = try await server.request(.PUT, "/api/config/echo", token: admin, json: ["greeting": "refuse"])
        }
        let lines = try String(contentsOfFile: logFile, encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.contains("\"cog\":\"echo\"") && $0.contains("echo is refusing") }, "one JSON line per record")

        // A restart: the rings are empty, the file still has what happened before.
        let second = TestHost(enabled: [], folder: folder) { $0.logging.file = logFile }
        try await second.run(catalogue: ContractTests.catalogue) { server in
            let admin = try await server.token("admin")
            let echo = try await server.request(.GET, "/api/logs?cog=echo", token: admin).json
            XCTAssertTrue((echo["logs"]?.arrayValue ?? []).contains { $0["message"]?.stringValue?.hasPrefix("echo is refusing") == true }, "\(echo)")
            XCTAssertTrue(echo["available_cogs"]?.arrayValue?.contains("echo") ?? false)
            let found = try await server.request(.GET, "/api/logs?search=catalogue", token: admin).json["logs"]?.arrayValue ?? []
            XCTAssertGreaterThanOrEqual(found.count, 1)
        }
    }

    func testTheLogFileMovesAsideAtItsLimit() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("guildhall-logrotate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("g.jsonl").path
        let file = try XCTUnwrap(LogFile(path: path, maxBytes: 4096))
        for index in 0..<200 {
            file.append(CogLogs.Record(timestamp: Timestamp.string(from: Date()), level: "info", message: "record \(index)"), source: "host")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: path + ".1"))
        XCTAssertLessThanOrEqual(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0, 4096)
        let records = file.records()
        XCTAssertEqual(records.last?.record.message, "record 199")
        XCTAssertEqual(records.map(\.record.message), records.map(\.record.message).sorted { Int($0.split(separator: " ")[1])! < Int($1.split(separator: " ")[1])! }, "oldest first")
    }
}
