import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

final class ConfigAPITests: XCTestCase {
    override func setUp() { Probe.reset() }

    func testSectionsAreReadChangedLiveAndVersioned() async throws {
        let host = TestHost(enabled: ["echo"]) { $0.runtimeSections["echo"] = ["greeting": "hi", "token": "s3cret"] }
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let all = try await server.request(.GET, "/api/config", token: admin)
            XCTAssertEqual(all.status, 200)
            XCTAssertEqual(all.json["general"]?["command_prefix"], "!")
            XCTAssertEqual(all.json["echo"], ["greeting": "hi", "limit": 10, "token": "********"], "secrets are masked")
            XCTAssertFalse(String(decoding: all.body, as: UTF8.self).contains("s3cret"))

            let seen = EventRecorder()
            server.host.bus.add([seen.listener(server.host.bus, pattern: "config.changed")])
            let put = try await server.request(.PUT, "/api/config/echo", token: admin, json: ["greeting": "howdy", "token": "********"])
            XCTAssertEqual(put.status, 200)
            XCTAssertEqual(put.json["version"], 1)
            XCTAssertEqual(put.json["value"], ["greeting": "howdy", "limit": 10, "token": "********"])
            XCTAssertEqual(Probe.count("echo.config:howdy"), 1, "the cog was told")
            let effective = try await server.request(.GET, "/api/echo/config")
            XCTAssertEqual(effective.json, ["greeting": "howdy", "limit": 10, "token": "s3cret"], "applied live, secret kept")
            try await assertTrue(await eventually { seen.names == ["config.changed"] })
            XCTAssertEqual(seen.events.first?.payload["section"], "echo")

            _ = try await server.request(.PUT, "/api/config/echo", token: admin, json: ["limit": 20])
            let history = try await server.request(.GET, "/api/config/echo/history", token: admin)
            XCTAssertEqual(history.json["total_count"], 2)
            guard case .array(let versions)? = history.json["versions"] else { return XCTFail() }
            XCTAssertEqual(versions.map { $0["version"] }, [2, 1])
            XCTAssertEqual(versions[0]["value"]?["limit"], 20)
            XCTAssertEqual(versions[0]["value"]?["greeting"], "howdy", "a PUT changes only the keys it sends")
            XCTAssertEqual(versions[0]["changed_by"], "admin")
            XCTAssertEqual(versions[0]["value"]?["token"], "********")
        }
    }

    func testAResetPutsASectionBackToTheFilesValueAndKeepsTheHistory() async throws {
        let host = TestHost(enabled: ["echo"]) { $0.runtimeSections["echo"] = ["greeting": "hi", "token": "s3cret"] }
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            _ = try await server.request(.PUT, "/api/config/echo", token: admin, json: ["greeting": "changed", "limit": 3])
            // As the admin app sends it: JSON content type, no body.
            let reset = try await server.request(
                .POST, "/api/config/echo/reset", headers: AdminAppCogsTests.appHeaders(admin))
            XCTAssertEqual(reset.status, 200)
            XCTAssertEqual(reset.json["version"], 2)
            XCTAssertEqual(reset.json["value"], ["greeting": "hi", "limit": 10, "token": "********"])
            let now = try await server.request(.GET, "/api/config/echo", token: admin).json
            XCTAssertEqual(now["greeting"], "hi", "config.yaml's value")
            XCTAssertEqual(now["limit"], 10, "the type's default where the file is silent")
            try await assertEqual(await server.request(.GET, "/api/echo/config").json["token"], "s3cret", "the secret is kept")
            let history = try await server.request(.GET, "/api/config/echo/history", token: admin).json
            XCTAssertEqual(history["total_count"], 2)
            XCTAssertTrue(Probe.count("echo.config:hi") >= 1, "the cog was told")
            try await assertEqual(await server.request(.POST, "/api/config/nope/reset", token: admin).error, "unknown_section")
            try await assertEqual(await server.request(.POST, "/api/config/echo/reset", token: try await server.token("user")).status, 403)
        }
    }

    func testBadValuesAreRefusedNamingTheField() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let wrongType = try await server.request(.PUT, "/api/config/echo", token: admin, json: ["limit": "ten"])
            XCTAssertEqual(wrongType.status, 400)
            XCTAssertEqual(wrongType.error, "invalid_config")
            XCTAssertEqual(wrongType.json["field"], "limit")
            let unknownKey = try await server.request(.PUT, "/api/config/echo", token: admin, json: ["greting": "typo"])
            XCTAssertEqual(unknownKey.status, 400)
            XCTAssertEqual(unknownKey.json["field"], "greting")
            let notObject = try await server.request(.PUT, "/api/config/general", token: admin, json: [1, 2])
            XCTAssertEqual(notObject.status, 400)
            let malformed = try await server.request(.PUT, "/api/config/general", token: admin, raw: "{nope")
            XCTAssertEqual(malformed.error, "invalid_json")
            let unknownSection = try await server.request(.GET, "/api/config/nope", token: admin)
            XCTAssertEqual(unknownSection.status, 404)
            XCTAssertEqual(unknownSection.error, "unknown_section")
            try await assertEqual(await server.request(.GET, "/api/config/echo/history", token: admin).json["total_count"], 0)

            let valid = try await server.request(.POST, "/api/config/general/validate", token: admin, json: ["message_cooldown": 3])
            XCTAssertEqual(valid.status, 200)
            XCTAssertEqual(valid.json["valid"], true)
            let invalid = try await server.request(.POST, "/api/config/general/validate", token: admin, json: ["message_cooldown": "x"])
            XCTAssertEqual(invalid.status, 400)
            try await assertEqual(await server.request(.GET, "/api/config/general", token: admin).json["message_cooldown"], 5, "validate applies nothing")
        }
    }

    func testARefusingCogKeepsTheLastGoodValue() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let refused = try await server.request(.PUT, "/api/config/echo", token: admin, json: ["greeting": "refuse"])
            XCTAssertEqual(refused.status, 422)
            XCTAssertEqual(refused.error, "config_rejected")
            XCTAssertTrue(refused.json["message"]?.stringValue?.contains("refused") == true)
            try await assertEqual(await server.request(.GET, "/api/echo/config").json["greeting"], "hello")
            try await assertEqual(await server.request(.GET, "/api/config/echo/history", token: admin).json["total_count"], 0)
        }
    }

    func testRuntimeChangesSurviveARestart() async throws {
        let first = TestHost(enabled: ["echo"])
        defer { first.removeFolder() }
        try await first.run { server in
            let admin = try await server.token("admin")
            try await assertEqual(await server.request(.PUT, "/api/config/echo", token: admin, json: ["limit": 42]).status, 200)
        }
        try await TestHost(enabled: ["echo"], folder: first.folder).run { server in
            try await assertEqual(await server.request(.GET, "/api/echo/config").json["limit"], 42)
        }
    }
}

final class ConfigFileTests: XCTestCase {
    private func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("guildhall-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testTheShippedConfigIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try HostConfig.load(path: root.appendingPathComponent("config.yaml").path, environment: [:])
        XCTAssertEqual(config.server.port, 5070)
        XCTAssertEqual(config.database.path, "./data/guildhall.sqlite")
        XCTAssertEqual(config.plugins.enabled, ["tickets", "memes", "rocket_league", "combatlog"])
        XCTAssertEqual(config.auth.secretKey, "")
        XCTAssertTrue(config.bootstrapUsers.isEmpty, "no user or password in the file")
    }

    func testEnvironmentSubstitutionAndOverrides() throws {
        let path = try write(
            """
            # ${NOT_SET} in a comment is left alone
            server:
              port: ${PORT_VAR:-6000}
              host: "${HOST_VAR}"
            database:
              path: ${DATA:-/tmp}/db.sqlite
            """)
        let config = try HostConfig.load(
            path: path,
            environment: [
                "HOST_VAR": "0.0.0.0", "CORS_ORIGINS": "https://a.example, https://b.example", "SECRET_KEY": "k",
                "API_ADMIN_USER": "root", "API_ADMIN_PASS": "pw-root-123", "API_EXTRA_USERS": "ann:pw-ann-123,bob:pw-bob-123:moderator",
            ])
        XCTAssertEqual(config.server.port, 6000)
        XCTAssertEqual(config.server.host, "0.0.0.0")
        XCTAssertEqual(config.database.path, "/tmp/db.sqlite")
        XCTAssertEqual(config.server.corsOrigins, ["https://a.example", "https://b.example"])
        XCTAssertEqual(config.auth.secretKey, "k")
        XCTAssertEqual(
            config.bootstrapUsers,
            [
                .init(username: "root", password: "pw-root-123", role: .admin),
                .init(username: "ann", password: "pw-ann-123", role: .user),
                .init(username: "bob", password: "pw-bob-123", role: .moderator),
            ])
        let overridden = try HostConfig.load(path: path, environment: ["HOST_VAR": "h", "API_PORT": "7000", "DB_PATH": "/x.sqlite"])
        XCTAssertEqual(overridden.server.port, 7000)
        XCTAssertEqual(overridden.database.path, "/x.sqlite")
    }

    func testEveryProblemIsReportedWithTheFileAndKey() throws {
        let path = try write(
            """
            server:
              port: eighty
            auth:
              bcrypt_cost: 99
            database:
              path: ${MISSING_VAR}
            """)
        XCTAssertThrowsError(try HostConfig.load(path: path, environment: ["API_PORT": "x"])) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix(path), message)
            XCTAssertTrue(message.contains("key 'server.port'"), message)
            XCTAssertTrue(message.contains("API_PORT"), message)
            XCTAssertTrue(message.contains("${MISSING_VAR}"), message)
            XCTAssertTrue(message.contains("key 'auth.bcrypt_cost'"), message)
        }
        let unknownKey = try write("server:\n  hots: typo\n")
        XCTAssertThrowsError(try HostConfig.load(path: unknownKey, environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("key 'server.hots': expected one of: cors_origins, host, idle_timeout_seconds, max_body_bytes, port"), "\(error)")
        }
        let notYAML = try write("server: [unclosed\n")
        XCTAssertThrowsError(try HostConfig.load(path: notYAML, environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("not valid YAML"), "\(error)")
        }
        XCTAssertThrowsError(try HostConfig.load(path: "/nonexistent/config.yaml", environment: [:])) { error in
            XCTAssertEqual("\(error)", "/nonexistent/config.yaml: the file does not exist")
        }
    }

    func testConfigCheckValidatesRuntimeSectionsAndEnabledCogs() throws {
        let path = try write(
            """
            plugins:
              enabled: [echo, ghost]
            echo:
              limit: many
            nonsense:
              a: 1
            """)
        let config = try HostConfig.load(path: path, environment: [:])
        let problems = ConfigCheck.problems(in: config, catalogue: TestCogs.all)
        XCTAssertTrue(problems.contains { $0.contains("key 'echo.limit'") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("unknown section 'nonsense'") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("unknown cog 'ghost'") }, "\(problems)")
    }
}
