import AsyncHTTPClient
import Foundation
@testable import GuildhallServer
import GuildhallTesting
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PluginAPI
import XCTest

/// External cogs end to end: a real Python process on its Unix socket behind a real host, driven over HTTP.
final class ExternalCogTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/external-cogs").standardized

    /// A host with the probe cog installed in its plugins folder (and loaded when `load`).
    static func host(load: Bool = true, configure: (inout HostConfig) -> Void = { _ in }) throws -> TestHost {
        let host = TestHost(enabled: load ? ["probe"] : []) { config in
            config.plugins.healthIntervalSeconds = 0.5
            configure(&config)
        }
        try copy(fixture: "probe", into: host.folder.appendingPathComponent("plugins/probe"))
        return host
    }

    /// Copies a fixture cog (its SDK symlink followed) to `target`; `id` renames it (its id and route prefix).
    static func copy(fixture name: String, into target: URL, as id: String? = nil) throws {
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try run(["cp", "-RL", fixtures.appendingPathComponent(name).path, target.path])
        guard let id else { return }
        for file in ["cog.yaml", "cog.py"] {
            let url = target.appendingPathComponent(file)
            let text = try String(contentsOf: url, encoding: .utf8)
                .replacingOccurrences(of: "id: \(name)", with: "id: \(id)").replacingOccurrences(of: "/api/\(name)", with: "/api/\(id)")
                .replacingOccurrences(of: "name: Probe", with: "name: Other").replacingOccurrences(of: "\(name).*", with: "\(id).*")
                .replacingOccurrences(of: "- {name: probe,", with: "- {name: \(id),").replacingOccurrences(of: "name: probe_ping", with: "name: \(id)_ping")
                .replacingOccurrences(of: "@command(\"probe\")", with: "@command(\"\(id)\")")
                .replacingOccurrences(of: "@action(\"probe_ping\")", with: "@action(\"\(id)_ping\")")
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    @discardableResult
    static func run(_ arguments: [String], in folder: URL? = nil) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func entry(_ server: LiveServer, _ admin: String, _ name: String = "probe") async throws -> JSONValue {
        let cogs = try await server.request(.GET, "/api/cogs", token: admin).json["cogs"]?.arrayValue ?? []
        return try XCTUnwrap(cogs.first { $0["name"] == .string(name) })
    }

    func testRoutesReachTheProcessWithTheCallerSignedAndCredentialsStripped() async throws {
        let host = try Self.host { $0.server.maxBodyBytes = 4096 }
        defer { host.removeFolder() }
        let pid = try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin"), user = try await server.token("user")
            let entry = try await Self.entry(server, admin)
            XCTAssertEqual(entry["kind"], "external")
            XCTAssertEqual(entry["state"], "loaded")
            XCTAssertEqual(entry["permissions"], ["kv", "events:publish:probe.*", "events:subscribe:probe.*"])
            XCTAssertEqual(entry["process"]?["phase"], "running")

            let whoami = try await server.request(.GET, "/api/probe/whoami", token: user, headers: [("X-Request-Id", "req-42")])
            XCTAssertEqual(whoami.status, 200, "\(whoami.json)")
            XCTAssertEqual(whoami.json["identity"]?["username"], "user")
            XCTAssertEqual(whoami.json["guild"]?["id"], .int(GuildScope.defaultGuildID))
            XCTAssertEqual(whoami.json["saw_authorization"], false)
            XCTAssertEqual(whoami.json["request_id"], .string(whoami.header("X-Request-Id") ?? "?"))

            // The host's access rule comes first, and its type checks.
            try await assertEqual(try await server.request(.GET, "/api/probe/whoami").status, 401)
            try await assertEqual(try await server.request(.GET, "/api/probe/config", token: user).status, 403)
            let bad = try await server.request(.GET, "/api/probe/items/abc")
            XCTAssertEqual(bad.status, 400)
            XCTAssertEqual(bad.error, "invalid_id")
            try await assertEqual(try await server.request(.GET, "/api/probe/items/7?full=maybe").error, "invalid_field")
            let item = try await server.request(.GET, "/api/probe/items/7?full=true")
            XCTAssertEqual(item.json, ["id": 7, "full": "true"])

            // Bodies go through, statuses and the cog's own errors come back.
            let echo = try await server.request(.POST, "/api/probe/echo", json: ["text": "héllo"])
            XCTAssertEqual(echo.status, 201)
            XCTAssertEqual(echo.json["text"], "héllo")
            let tooLarge = try await server.request(.POST, "/api/probe/echo", json: ["text": .string(String(repeating: "x", count: 5000))])
            XCTAssertEqual(tooLarge.status, 413)
            let missing = try await server.request(.GET, "/api/probe/nothing")
            XCTAssertEqual(missing.status, 404)

            // Config: the manifest's defaults, changed through the host's config API.
            try await assertEqual(try await server.request(.GET, "/api/probe/config", token: admin).json, ["greeting": "hello", "limit": 3])
            let changed = try await server.request(.PUT, "/api/config/probe", token: admin, json: ["limit": 5])
            XCTAssertEqual(changed.status, 200, "\(changed.json)")
            let wrongType = try await server.request(.PUT, "/api/config/probe", token: admin, json: ["limit": "five"])
            XCTAssertEqual(wrongType.status, 400)
            XCTAssertEqual(wrongType.error, "invalid_config")
            XCTAssertEqual(wrongType.json["field"], "limit")
            try await assertEqual(try await server.request(.GET, "/api/probe/config", token: admin).json["limit"], 5)
            let told = try await eventually { try await server.request(.GET, "/api/probe/config-seen", token: admin).json["limit"] == 5 }
            XCTAssertTrue(told, "the host posted the new settings to config_path")

            // The API description lists the cog's routes with their types.
            let description = try await server.request(.GET, "/openapi.json").json
            XCTAssertNotNil(description["paths"]?["/api/probe/items/{id}"]?["get"])
            let last = try await Self.entry(server, admin)
            return try XCTUnwrap(last["process"]?["pid"]?.intValue)
        }
        XCTAssertEqual(kill(pid_t(pid), 0), -1, "the host's shutdown stopped the cog's process")
    }

    func testCallbacksKeepToTheCogsStoreAndPermissions() async throws {
        let host = try Self.host { $0.plugins.enabled = ["probe", "other"] }
        try Self.copy(fixture: "probe", into: host.folder.appendingPathComponent("plugins/other"), as: "other")
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let user = try await server.token("user")
            let first = try await server.request(.PUT, "/api/probe/kv/score", token: user, json: ["value": ["points": 1], "if_version": 0])
            XCTAssertEqual(first.status, 200, "\(first.json)")
            XCTAssertEqual(first.json["version"], 1)
            let stale = try await server.request(.PUT, "/api/probe/kv/score", token: user, json: ["value": ["points": 2], "if_version": 0])
            XCTAssertEqual(stale.status, 409)
            XCTAssertEqual(stale.error, "version_conflict")
            let second = try await server.request(.PUT, "/api/probe/kv/score", token: user, json: ["value": ["points": 2], "if_version": 1])
            XCTAssertEqual(second.json["version"], 2)
            try await assertEqual(try await server.request(.GET, "/api/probe/kv/score", token: user).json["value"], ["points": 2])

            // Keys expire.
            let brief = try await server.request(.PUT, "/api/probe/kv/brief", token: user, json: ["value": ["x": 1], "ttl_seconds": 0.3])
            XCTAssertNotEqual(brief.json["expires_at"], .null, "\(brief.json)")
            try await assertEqual(try await server.request(.GET, "/api/probe/kv/brief", token: user).status, 200)
            try await Task.sleep(for: .milliseconds(500))
            try await assertEqual(try await server.request(.GET, "/api/probe/kv/brief", token: user).status, 404)

            // Another cog, in the same guild, sees none of its keys and has config of its own.
            try await assertEqual(try await server.request(.GET, "/api/other/kv/score", token: user).status, 404)
            try await assertEqual(try await server.request(.PUT, "/api/other/kv/score", token: user, json: ["value": ["mine": true]]).json["version"], 1)
            try await assertEqual(try await server.request(.GET, "/api/probe/kv/score", token: user).json["value"], ["points": 2])

            // An event it may publish reaches its own subscription; one it did not ask for is refused.
            let published = try await server.request(.POST, "/api/probe/publish", token: user, json: ["name": "probe.poked"])
            XCTAssertEqual(published.status, 202, "\(published.json)")
            let seen = try await eventually {
                try await server.request(.GET, "/api/probe/kv/last_event", token: user).json["value"]?["name"] == "probe.poked"
            }
            XCTAssertTrue(seen)
            let refused = try await server.request(.POST, "/api/probe/publish", token: user, json: ["name": "ticket.created"])
            XCTAssertEqual(refused.status, 403)
            XCTAssertEqual(refused.error, "permission_denied")
            XCTAssertEqual(refused.json["message"]?.stringValue?.contains("events:publish:ticket.created"), true)

            // Commands and gateway actions reach it as the caller.
            let identity = Identity(userID: 3, username: "user", role: .user)
            let reply = try await server.host.chat("!probe a b", as: identity)
            XCTAssertEqual(reply, "user: a b")
        }
    }

    func testAGuildThatSwitchedItOffReachesItNowhere() async throws {
        let host = try Self.host()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            let tenants = try await Tenants.make(on: server)
            let switched = try await server.request(.POST, "/api/v1/guilds/\(tenants.b)/cogs/probe/disable", token: admin)
            XCTAssertEqual(switched.json["enabled"], false, "\(switched.json)")
            try await assertEqual(try await server.request(.GET, "/api/probe/whoami", token: tenants.alice).json["guild"]?["id"], .int(tenants.a))
            let refused = try await server.request(.GET, "/api/probe/whoami", token: tenants.keyB)
            XCTAssertEqual(refused.status, 404)
            XCTAssertEqual(refused.error, "cog_disabled_for_guild")
            // Guild B's events do not reach it; guild A's do.
            _ = try await server.request(.POST, "/api/probe/publish", token: tenants.alice, json: ["name": "probe.from_a"])
            server.host.bus.publish("probe.from_b", payload: JSONValue.object([:]), guild: tenants.b, correlationID: nil)
            let seenA = try await eventually {
                try await server.request(.GET, "/api/probe/kv/last_event", token: tenants.alice).json["value"]?["name"] == "probe.from_a"
            }
            XCTAssertTrue(seenA)
            try await Task.sleep(for: .milliseconds(200))
            let guildB = tenants.b
            let storedForB = try await server.host.database.read {
                try $0.scalar("SELECT COUNT(*) FROM cog_kv WHERE cog = 'probe' AND guild_id = ?", [guildB])
            }
            XCTAssertEqual(storedForB, 0, "the event of a guild that switched the cog off never reached it")
            // Commands likewise: alice's guild has it, bob's does not.
            let alice = try await server.host.users.find(username: "alice"), bob = try await server.host.users.find(username: "bob")
            try await assertEqual(try await server.host.chat("!probe hi", as: XCTUnwrap(alice).identity), "alice: hi")
            let bobReply = try await server.host.chat("!probe hi", as: XCTUnwrap(bob).identity)
            XCTAssertNotEqual(bobReply, "bob: hi")
            XCTAssertEqual(bobReply?.contains("probe"), true, bobReply ?? "no reply")
        }
    }

    func testTheCallbackAPIRefusesBadSecretsAndBadInputWithClearErrors() async throws {
        let host = try Self.host()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let external = server.host.external
            external.callbacks.grant("test-secret", port: external.port(for: try ExternalManifest(folder: host.folder.appendingPathComponent("plugins/probe"))))
            @Sendable func call(_ method: HTTPMethod, _ target: String, secret: String? = "test-secret", body: String? = nil) async throws -> (Int, JSONValue) {
                var request = HTTPClientRequest(url: try XCTUnwrap(URL(httpURLWithSocketPath: external.hostSocketPath, uri: target)).absoluteString)
                request.method = method
                if let secret { request.headers.add(name: "Authorization", value: "Bearer \(secret)") }
                if let body { request.body = .bytes(ByteBuffer(string: body)) }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                let data = try await response.body.collect(upTo: 1 << 20)
                return (Int(response.status.code), (try? JSONValue(parsing: Data(buffer: data))) ?? .null)
            }
            try await assertEqual(try await call(.GET, "/v1/config", secret: nil).1["error"], "invalid_secret")
            try await assertEqual(try await call(.GET, "/v1/config", secret: "forged").0, 401)
            try await assertEqual(try await call(.GET, "/v1/config").1, ["greeting": "hello", "limit": 3])

            let cases: [(HTTPMethod, String, String?, Int, String)] = [
                (.POST, "/v1/events", "{not json", 400, "invalid_json"),
                (.POST, "/v1/events", #"{"name": 5}"#, 400, "invalid_field"),
                (.POST, "/v1/events", #"{"name": "cog.loaded"}"#, 400, "invalid_field"),
                (.POST, "/v1/live-log", #"{"type": "system"}"#, 403, "permission_denied"),
                (.POST, "/v1/gateway/publish", #"{"topic": "ticket:1", "frame": {"action": "x"}}"#, 403, "permission_denied"),
                (.PUT, "/v1/kv", #"{"key": "", "value": 1}"#, 400, "invalid_key"),
                (.PUT, "/v1/kv", #"{"key": "k", "value": 1, "ttl_seconds": -1}"#, 400, "invalid_field"),
                (.PUT, "/v1/kv", #"{"key": "k", "value": 1, "ttl_seconds": 1e300}"#, 400, "invalid_field"),
                (.PUT, "/v1/kv", #"{"key": "k", "value": 1, "ttl_seconds": "NaN"}"#, 400, "invalid_field"),
                (.PUT, "/v1/kv", #"{"key": "big", "value": "\#(String(repeating: "x", count: 70_000))"}"#, 413, "value_too_large"),
                (.GET, "/v1/kv?key=k&guild_id=abc", nil, 400, "invalid_field"),
                (.DELETE, "/v1/kv?key=nothing", nil, 404, "key_not_found"),
                (.GET, "/v1/people?user_id=1&guild_id=1", nil, 403, "permission_denied"),
            ]
            for (method, target, body, status, code) in cases {
                let (answered, json) = try await call(method, target, body: body)
                XCTAssertEqual(answered, status, "\(method) \(target): \(json)")
                XCTAssertEqual(json["error"], .string(code), "\(method) \(target): \(json)")
            }
            try await assertEqual(try await call(.GET, "/v1/kv?key=big").0, 404, "a refused value is not stored")
            try await assertEqual(try await call(.PUT, "/v1/kv", body: #"{"key": "k", "value": 1}"#).1["version"], 1)
            try await assertEqual(try await call(.DELETE, "/v1/kv?key=k&if_version=7").1["error"], "version_conflict")
            try await assertEqual(try await call(.DELETE, "/v1/kv?key=k&if_version=1").0, 204)
        }
    }

    /// The capability docs/plugin-authors.md adds as its example: a person as they act in a guild, for a cog whose
    /// manifest asks for `people:read`.
    func testACogAskingForPeopleLooksUpAPersonInAGuild() async throws {
        let host = try Self.host()
        defer { host.removeFolder() }
        let folder = host.folder.appendingPathComponent("plugins/people-reader")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try """
            id: people-reader
            name: People reader
            version: 1.0.0
            summary: Looks people up.
            contract: "2.0"
            command: [python3, cog.py]
            permissions: ["people:read"]
            """.write(to: folder.appendingPathComponent("cog.yaml"), atomically: true, encoding: .utf8)
        try await host.run(catalogue: []) { server in
            let external = server.host.external
            external.callbacks.grant("people-secret", port: external.port(for: try ExternalManifest(folder: folder)))
            @Sendable func people(_ query: String) async throws -> (Int, JSONValue) {
                var request = HTTPClientRequest(
                    url: try XCTUnwrap(URL(httpURLWithSocketPath: external.hostSocketPath, uri: "/v1/people?" + query)).absoluteString)
                request.headers.add(name: "Authorization", value: "Bearer people-secret")
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                let data = try await response.body.collect(upTo: 1 << 20)
                return (Int(response.status.code), (try? JSONValue(parsing: Data(buffer: data))) ?? .null)
            }
            let stored = try await server.host.users.find(username: "admin")
            let admin = try XCTUnwrap(stored)
            let found = try await people("user_id=\(admin.id)&guild_id=1")
            XCTAssertEqual(found.0, 200)
            XCTAssertEqual(found.1, ["user_id": .int(admin.id), "username": "admin", "role": "admin"])
            try await assertEqual(try await people("user_id=999999&guild_id=1").1["error"], "person_not_found")
            try await assertEqual(try await people("user_id=1&guild_id=424242").1["error"], "person_not_found")
            try await assertEqual(try await people("user_id=1").1["error"], "invalid_field")
            try await assertEqual(try await people("user_id=ann&guild_id=1").1["error"], "invalid_field")
        }
    }

    func testACrashAnswers502AndTheCogIsBackAtOnceThenFailsAfterThree() async throws {
        let host = try Self.host()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            let before = try await server.request(.GET, "/api/probe/public").json["pid"]
            let crashed = try await server.request(.POST, "/api/probe/crash")
            XCTAssertEqual(crashed.status, 502)
            XCTAssertEqual(crashed.error, "cog_unavailable")
            try await assertEqual(try await server.request(.GET, "/api/health").status, 200, "the host is unaffected")
            // The next request waits for the restart instead of failing.
            let after = try await server.request(.GET, "/api/probe/public")
            XCTAssertEqual(after.status, 200)
            XCTAssertNotEqual(after.json["pid"], before)
            try await assertEqual(try await Self.entry(server, admin)["process"]?["restarts"], 1)

            // The second crash is restarted after a backoff; the third within ten minutes marks it failed.
            _ = try await server.request(.POST, "/api/probe/crash")
            let back = try await eventually(timeout: .seconds(10)) {
                let process = try await Self.entry(server, admin)["process"]
                return process?["phase"] == "running" && process?["restarts"] == 2
            }
            XCTAssertTrue(back)
            _ = try await server.request(.POST, "/api/probe/crash")
            let failed = try await eventually { try await Self.entry(server, admin)["state"] == "failed" }
            XCTAssertTrue(failed)
            let entry = try await Self.entry(server, admin)
            XCTAssertEqual(entry["status"], "error")
            XCTAssertEqual(entry["error"]?.stringValue?.contains("crashed 3 times in 10 minutes"), true, "\(entry)")
            let down = try await server.request(.GET, "/api/probe/public")
            XCTAssertEqual(down.status, 503)
            XCTAssertEqual(down.error, "cog_failed")

            // The admin acts: a reload starts it afresh.
            let reloaded = try await server.request(.POST, "/api/cogs/probe/reload", token: admin)
            XCTAssertEqual(reloaded.status, 200, "\(reloaded.json)")
            try await assertEqual(try await server.request(.GET, "/api/probe/public").status, 200)
            try await assertEqual(try await Self.entry(server, admin)["state"], "loaded")
        }
    }

    func testAHangingRouteAnswers504AndBlocksNothingElse() async throws {
        let host = try Self.host()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            async let hung = server.request(.GET, "/api/probe/hang")
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            try await assertEqual(try await server.request(.GET, "/api/probe/public").status, 200)
            XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(500))
            let answer = try await hung
            XCTAssertEqual(answer.status, 504)
            XCTAssertEqual(answer.error, "cog_timeout")
        }
    }

    func testAFloodOfOutputIsCappedAndTheCogKeepsServing() async throws {
        let host = try Self.host()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            let started = ContinuousClock.now
            try await assertEqual(try await server.request(.GET, "/api/probe/flood").status, 200)
            let seconds = Int((ContinuousClock.now - started).components.seconds)
            try await assertEqual(try await server.request(.GET, "/api/probe/public").status, 200)
            let capped = try await eventually {
                let logs = try await server.request(.GET, "/api/cogs/probe/logs?limit=500", token: admin).json["logs"]?.arrayValue ?? []
                return logs.contains { $0["message"]?.stringValue?.contains("cog output dropped") == true }
            }
            XCTAssertTrue(capped, "the cog's log ring says lines were dropped")
            let logs = try await server.request(.GET, "/api/cogs/probe/logs?limit=500", token: admin).json["logs"]?.arrayValue ?? []
            // At most 200 lines a second of the 20,000 reach the log.
            let admitted = logs.filter { $0["message"]?.stringValue?.hasPrefix("flood line") == true }.count
            XCTAssertLessThanOrEqual(admitted, 200 * (seconds + 2), "\(admitted) lines in \(seconds) s")
            XCTAssertGreaterThan(admitted, 0)
        }
    }

    func testReloadUnderLoadLosesNoRequestAndUnloadStopsTheProcess() async throws {
        let host = try Self.host()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            let oldEntry = try await Self.entry(server, admin)
            let oldPID = try XCTUnwrap(oldEntry["process"]?["pid"]?.intValue)
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var seen: [Int] = []
                        for _ in 0..<60 { seen.append(try await server.request(.GET, "/api/probe/public").status) }
                        return seen
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(50))
                    return [try await server.request(.POST, "/api/cogs/probe/reload", token: admin).status]
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            XCTAssertEqual(Set(statuses), [200], "every request answered while the process was replaced")
            let newEntry = try await Self.entry(server, admin)
            let newPID = try XCTUnwrap(newEntry["process"]?["pid"]?.intValue)
            XCTAssertNotEqual(newPID, oldPID)
            XCTAssertEqual(kill(pid_t(oldPID), 0), -1, "the old process was stopped")

            try await assertEqual(try await server.request(.POST, "/api/cogs/probe/unload", token: admin).status, 200)
            XCTAssertEqual(kill(pid_t(newPID), 0), -1, "unload stops the process")
            try await assertEqual(try await server.request(.GET, "/api/probe/public").error, "cog_not_loaded")
        }
    }

    // MARK: - Install

    /// `folder` packed as a .tar.gz.
    static func archive(_ folder: URL, extra: [String] = []) throws -> Data {
        let file = folder.deletingLastPathComponent().appendingPathComponent("\(UUID().uuidString).tar.gz")
        XCTAssertEqual(try run(["tar", "-czf", file.path, "-C", folder.path, "."] + extra), 0)
        defer { try? FileManager.default.removeItem(at: file) }
        return try Data(contentsOf: file)
    }

    func testInstallFromAnArchiveThenLoadUnloadAndUninstall() async throws {
        let host = try Self.host(load: false)
        defer { host.removeFolder() }
        // Start without it; it arrives through the API.
        try FileManager.default.removeItem(at: host.folder.appendingPathComponent("plugins/probe"))
        let staging = host.folder.appendingPathComponent("source/probe")
        try Self.copy(fixture: "probe", into: staging)
        let archive = try Self.archive(staging)
        let digest = SHA256Hex.of(archive)
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            try await assertEqual(try await server.request(.GET, "/api/probe/public").status, 404)

            let wrong = try await CombatLogStreamsTests.post(
                archive, to: "/api/cogs/install?sha256=\(String(repeating: "0", count: 64))", port: server.port, token: admin,
                headers: [("Content-Type", "application/gzip")])
            XCTAssertEqual(wrong.0, 422)
            XCTAssertEqual(wrong.1["error"], "checksum_mismatch")
            let user = try await server.token("user")
            let forbidden = try await CombatLogStreamsTests.post(
                archive, to: "/api/cogs/install", port: server.port, token: user, headers: [("Content-Type", "application/gzip")])
            XCTAssertEqual(forbidden.0, 403)

            let (status, installed) = try await CombatLogStreamsTests.post(
                archive, to: "/api/cogs/install?sha256=\(digest)", port: server.port, token: admin,
                headers: [("Content-Type", "application/gzip")])
            XCTAssertEqual(status, 201, "\(installed)")
            XCTAssertEqual(installed["kind"], "external")
            XCTAssertEqual(installed["loaded"], false, "an admin reads the permissions before loading it")
            XCTAssertEqual(installed["permissions"]?.arrayValue?.count, 3)

            try await assertEqual(try await server.request(.POST, "/api/cogs/probe/load", token: admin).status, 200)
            try await assertEqual(try await server.request(.GET, "/api/probe/public").status, 200)
            let loaded = try await server.request(.DELETE, "/api/cogs/probe", token: admin)
            XCTAssertEqual(loaded.status, 409)
            XCTAssertEqual(loaded.error, "cog_loaded")
            try await assertEqual(try await server.request(.DELETE, "/api/cogs/tickets", token: admin).status, 404)
            try await assertEqual(try await server.request(.POST, "/api/cogs/probe/unload", token: admin).status, 200)
            let removed = try await server.request(.DELETE, "/api/cogs/probe", token: admin)
            XCTAssertEqual(removed.status, 200, "\(removed.json)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: host.folder.appendingPathComponent("plugins/probe").path))
            try await assertEqual(try await server.request(.POST, "/api/cogs/probe/load", token: admin).status, 404)

            // From a folder on the server, by path.
            let byPath = try await server.request(.POST, "/api/cogs/install", token: admin, json: ["path": .string(staging.path)])
            XCTAssertEqual(byPath.status, 201, "\(byPath.json)")
        }
    }

    func testInstallRefusesBadManifestsAndUnsafeArchivesWithTheReason() async throws {
        let host = try Self.host(load: false)
        defer { host.removeFolder() }
        let source = host.folder.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try """
            id: Not An Id
            version: 1.0.0
            contract: "3.0"
            command: [python3, cog.py]
            route_prefixes: [/api/bad]
            routes:
              - {method: GET, path: /elsewhere, access: everyone}
            permissions: [root]
            surprise: true
            timeout_seconds: 1e300
            commands:
              - {name: slow, cooldown_seconds: 9223372036854775807}
            tasks:
              - {name: never, every_seconds: -1}
            """.write(to: source.appendingPathComponent("cog.yaml"), atomically: true, encoding: .utf8)
        let bad = try Self.archive(source)
        let unsafe = host.folder.appendingPathComponent("unsafe")
        try Self.copy(fixture: "probe", into: unsafe)
        try FileManager.default.createSymbolicLink(atPath: unsafe.appendingPathComponent("passwd").path, withDestinationPath: "/etc/passwd")
        let linked = try Self.archive(unsafe)
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            let (status, answer) = try await CombatLogStreamsTests.post(
                bad, to: "/api/cogs/install", port: server.port, token: admin, headers: [("Content-Type", "application/gzip")])
            XCTAssertEqual(status, 422)
            XCTAssertEqual(answer["error"], "invalid_manifest")
            let problems = answer["problems"]?.arrayValue?.compactMap(\.stringValue) ?? []
            for expected in ["id:", "name:", "summary:", "contract: built for 3.0; this host implements 2.0", "routes[0].path", "routes[0].access", "unknown permission 'root'", "surprise: not a manifest key",
                "timeout_seconds: expected a number from 0.001 to 3600", "commands[0].cooldown_seconds: expected a number from 0 to 86400",
                "tasks[0].every_seconds: expected a number from 1 to 31536000"] {
                XCTAssertTrue(problems.contains { $0.contains(expected) }, "\(expected) in \(problems)")
            }
            let symlink = try await CombatLogStreamsTests.post(
                linked, to: "/api/cogs/install", port: server.port, token: admin, headers: [("Content-Type", "application/gzip")])
            XCTAssertEqual(symlink.0, 400)
            XCTAssertEqual(symlink.1["error"], "invalid_archive")
            let garbage = try await server.request(.POST, "/api/cogs/install", token: admin, raw: "not an archive", headers: [("Content-Type", "application/gzip")])
            XCTAssertEqual(garbage.status, 400)
            try await assertEqual(try await server.request(.POST, "/api/cogs/install", token: admin, json: ["path": "relative/path"]).error, "invalid_path")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: host.folder.appendingPathComponent("plugins").path)
            XCTAssertEqual(leftovers, ["probe"], "a refused install leaves nothing behind")
        }
    }

    func testACogThatCannotStartFailsItsLoadWithItsOutputAndAReloadKeepsTheOldOneServing() async throws {
        let host = try Self.host()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            let pid = try await server.request(.GET, "/api/probe/public").json["pid"]
            // A new version whose program dies at once.
            let broken = host.folder.appendingPathComponent("broken/probe")
            try Self.copy(fixture: "probe", into: broken)
            try "import sys\nprint('cannot start: missing dependency', file=sys.stderr)\nsys.exit(4)\n"
                .write(to: broken.appendingPathComponent("cog.py"), atomically: true, encoding: .utf8)
            let answer = try await server.request(.POST, "/api/cogs/install", token: admin, json: ["path": .string(broken.path)])
            XCTAssertEqual(answer.status, 500)
            XCTAssertEqual(answer.error, "cog_setup_failed")
            XCTAssertEqual(answer.json["message"]?.stringValue?.contains("cannot start: missing dependency"), true, "\(answer.json)")
            try await assertEqual(try await server.request(.GET, "/api/probe/public").json["pid"], pid, "the old version still serves")
            let kept = try String(contentsOf: host.folder.appendingPathComponent("plugins/probe/cog.py"), encoding: .utf8)
            XCTAssertTrue(kept.contains("def whoami"), "the old version's files are back")
        }
    }

    func testAKilledHostLeavesNoCogProcessBehind() async throws {
        let port = Int.random(in: 40_000...44_999)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("guildhall-external-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.copy(fixture: "probe", into: folder.appendingPathComponent("plugins/probe"))
        try "server:\n  port: \(port)\ndatabase:\n  path: ./g.sqlite\nauth:\n  bcrypt_cost: 4\nplugins:\n  enabled: [probe]\n"
            .write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let server = Process()
        server.executableURL = CLITests.executable
        server.arguments = ["serve"]
        server.currentDirectoryURL = folder
        server.environment = ["API_ADMIN_PASS": "a-long-password", "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }  // a failed test leaves no server
        var pid: Int64?
        for _ in 0..<200 where pid == nil {
            pid = (try? await CombatLogStreamsTests.call(port: port, .GET, "/api/probe/public", nil, nil))?["pid"]?.intValue
            if pid == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let cog = pid_t(try XCTUnwrap(pid, "the server and its cog came up"))
        XCTAssertEqual(kill(cog, 0), 0)
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        let gone = try await eventually(timeout: .seconds(5)) { kill(cog, 0) == -1 }
        XCTAssertTrue(gone, "the cog process died with the host")
        // The next host to start removes the dead one's socket folder.
        let killed = String(server.processIdentifier)
        func leftovers() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []).filter { name in
                name.hasPrefix("guildhall-") && (try? String(contentsOfFile: "/tmp/\(name)/host.pid", encoding: .utf8)) == killed
            }
        }
        XCTAssertEqual(leftovers().count, 1)
        ExternalRuntime.removeStaleRunDirectories()
        XCTAssertEqual(leftovers(), [])
    }
}

/// SHA-256 as lowercase hex.
enum SHA256Hex {
    static func of(_ data: Data) -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        try? data.write(to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [folder.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try? process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }
}
