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
}
