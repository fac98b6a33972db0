import Foundation
import GuildhallTesting
import PluginAPI
import Synchronization
import XCTest

@testable import GuildhallServer

final class CogLifecycleTests: XCTestCase {
    override func setUp() { Probe.reset() }

    func testListLoadUnloadThroughTheAdminAPI() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let list = try await server.request(.GET, "/api/cogs", token: admin)
            XCTAssertEqual(list.status, 200)
            guard case .array(let cogs)? = list.json["cogs"] else { return XCTFail("no cogs array") }
            XCTAssertEqual(cogs.compactMap { $0["name"]?.stringValue }, ["dependent", "echo", "flaky", "rooms"])
            let echo = cogs.first { $0["name"] == "echo" }!
            XCTAssertEqual(echo["loaded"], .bool(true))
            XCTAssertEqual(echo["state"], "loaded")
            XCTAssertEqual(echo["version"], "1.0.0")
            XCTAssertNotEqual(echo["loaded_at"], .null)
            XCTAssertEqual(cogs.first { $0["name"] == "dependent" }?["depends_on"], ["echo"])

            let unloaded = try await server.request(.POST, "/api/cogs/unload", token: admin, json: ["cog_name": "echo"])
            XCTAssertEqual(unloaded.status, 200)
            XCTAssertEqual(unloaded.json["state"], "available")
            XCTAssertEqual(unloaded.json["loaded"], .bool(false))

            let gone = try await server.request(.GET, "/api/echo")
            XCTAssertEqual(gone.status, 404)
            XCTAssertEqual(gone.json, ["error": "cog_not_loaded", "cog": "echo", "message": "The echo cog is not loaded."])

            let loaded = try await server.request(.POST, "/api/cogs/load", token: admin, json: ["cog_name": "echo"])
            XCTAssertEqual(loaded.status, 200)
            XCTAssertEqual(loaded.json["state"], "loaded")
            let back = try await server.request(.GET, "/api/echo")
            XCTAssertEqual(back.status, 200)

            let again = try await server.request(.POST, "/api/cogs/load", token: admin, json: ["cog_name": "echo"])
            XCTAssertEqual(again.status, 409)
            XCTAssertEqual(again.error, "already_loaded")
            let unknown = try await server.request(.POST, "/api/cogs/load", token: admin, json: ["cog_name": "nope"])
            XCTAssertEqual(unknown.status, 404)
            XCTAssertEqual(unknown.error, "cog_not_found")
            let notLoaded = try await server.request(.POST, "/api/cogs/reload", token: admin, json: ["cog_name": "flaky"])
            XCTAssertEqual(notLoaded.status, 409)
            XCTAssertEqual(notLoaded.error, "not_loaded")
        }
    }

    func testBatchOperationsAnswerAnOutcomePerCog() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            Probe.set("flaky.fail", true)
            let reply = try await server.request(
                .POST, "/api/cogs/load", token: admin, json: ["cog_names": ["dependent", "echo", "nope", "flaky"]])
            XCTAssertEqual(reply.status, 200)
            guard case .array(let results)? = reply.json["results"] else { return XCTFail("no results") }
            XCTAssertEqual(results.map { $0["outcome"]?.stringValue }, ["loaded", "already_loaded", "not_found", "failed"])
            XCTAssertEqual(results.map { $0["cog_name"]?.stringValue }, ["dependent", "echo", "nope", "flaky"])
            XCTAssertTrue(results[3]["reason"]?.stringValue?.contains("flaky setup failed on purpose") == true)
            XCTAssertEqual(results[3]["cog"]?["state"], "failed")
        }
    }

    func testDependenciesAreCheckedAndCascadeUnloadsDependantsFirst() async throws {
        let host = TestHost(enabled: ["echo", "dependent"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let refused = try await server.request(.POST, "/api/cogs/unload", token: admin, json: ["cog_name": "echo"])
            XCTAssertEqual(refused.status, 409)
            XCTAssertEqual(refused.error, "has_dependants")
            XCTAssertEqual(refused.json["cogs"], ["dependent"])
            XCTAssertTrue(refused.json["message"]?.stringValue?.contains("dependent") == true)
            try await assertEqual(await server.request(.GET, "/api/echo").status, 200)

            let cascade = try await server.request(
                .POST, "/api/cogs/unload", token: admin, json: ["cog_name": "echo", "cascade": true])
            XCTAssertEqual(cascade.status, 200)
            try await assertEqual(await server.request(.GET, "/api/dependent").error, "cog_not_loaded")
            try await assertEqual(await server.request(.GET, "/api/echo").error, "cog_not_loaded")

            let missing = try await server.request(.POST, "/api/cogs/load", token: admin, json: ["cog_name": "dependent"])
            XCTAssertEqual(missing.status, 409)
            XCTAssertEqual(missing.error, "dependency_not_loaded")
            XCTAssertEqual(missing.json["cogs"], ["echo"])
        }
    }

    func testFailedReloadKeepsTheOldInstanceServing() async throws {
        let host = TestHost(enabled: ["flaky"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let before = try await server.request(.GET, "/api/flaky").json["generation"]
            Probe.set("flaky.fail", true)
            let reload = try await server.request(.POST, "/api/cogs/reload", token: admin, json: ["cog_name": "flaky"])
            XCTAssertEqual(reload.status, 500)
            XCTAssertEqual(reload.error, "cog_setup_failed")
            XCTAssertTrue(reload.json["message"]?.stringValue?.contains("flaky setup failed on purpose") == true)
            let after = try await server.request(.GET, "/api/flaky")
            XCTAssertEqual(after.status, 200)
            XCTAssertEqual(after.json["generation"], before, "the old instance keeps answering")
            let entry = try await server.request(.GET, "/api/cogs", token: admin).json["cogs"]
            guard case .array(let cogs)? = entry else { return XCTFail() }
            let flaky = cogs.first { $0["name"] == "flaky" }
            XCTAssertEqual(flaky?["state"], "loaded")
            XCTAssertTrue(flaky?["error"]?.stringValue?.contains("reload failed") == true)

            Probe.set("flaky.fail", false)
            let success = try await server.request(.POST, "/api/cogs/reload", token: admin, json: ["cog_name": "flaky"])
            XCTAssertEqual(success.status, 200)
            XCTAssertEqual(success.json["error"], .null)
            try await assertNotEqual(await server.request(.GET, "/api/flaky").json["generation"], before)
        }
    }

    func testCascadeReloadIsOneUnit() async throws {
        let host = TestHost(enabled: ["echo", "dependent"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let echoBefore = try await server.request(.GET, "/api/echo").json["generation"]
            let dependentBefore = try await server.request(.GET, "/api/dependent").json["generation"]
            Probe.set("dependent.fail", true)
            let failed = try await server.request(
                .POST, "/api/cogs/reload", token: admin, json: ["cog_name": "echo", "cascade": true])
            XCTAssertEqual(failed.status, 500)
            XCTAssertTrue(failed.json["message"]?.stringValue?.contains("dependent") == true)
            try await assertEqual(await server.request(.GET, "/api/echo").json["generation"], echoBefore)
            try await assertEqual(await server.request(.GET, "/api/dependent").json["generation"], dependentBefore)

            Probe.set("dependent.fail", false)
            let reloaded = try await server.request(
                .POST, "/api/cogs/reload", token: admin, json: ["cog_name": "echo", "cascade": true])
            XCTAssertEqual(reloaded.status, 200)
            try await assertNotEqual(await server.request(.GET, "/api/echo").json["generation"], echoBefore)
            try await assertNotEqual(await server.request(.GET, "/api/dependent").json["generation"], dependentBefore)
        }
    }

    func testNothingOfAnUnloadedCogIsReachableOrFiring() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            // Live: routes, the listener, the task, the command.
            try await assertTrue(await eventually { Probe.count("echo.task") >= 2 })
            server.host.bus.publish("test.ping", payload: ["n": 1] as JSONValue)
            try await assertTrue(await eventually { Probe.count("echo.listener") == 1 })
            XCTAssertNotNil(server.host.commands.command(named: "echo"))
            let routes = try await server.request(.GET, "/api/routes", token: admin).json["routes"]
            XCTAssertTrue("\(routes ?? .null)".contains("/api/echo/slow"))

            let unload = try await server.request(.POST, "/api/cogs/unload", token: admin, json: ["cog_name": "echo"])
            XCTAssertEqual(unload.status, 200)
            XCTAssertEqual(Probe.count("echo.teardown"), 1, "teardown ran once unload finished")
            let ticks = Probe.count("echo.task")
            server.host.bus.publish("test.ping", payload: ["n": 2] as JSONValue)
            try await Task.sleep(for: .milliseconds(150))
            XCTAssertEqual(Probe.count("echo.task"), ticks, "the scheduled task stopped")
            XCTAssertEqual(Probe.count("echo.listener"), 1, "the listener is gone")
            XCTAssertNil(server.host.commands.command(named: "echo"))
            for path in ["/api/echo", "/api/echo/slow", "/api/echo/admin", "/api/echo/unknown"] {
                let reply = try await server.request(.GET, path, token: admin)
                XCTAssertEqual(reply.status, 404, path)
                XCTAssertEqual(reply.error, "cog_not_loaded", path)
            }
            let after = try await server.request(.GET, "/api/routes", token: admin).json["routes"]
            XCTAssertFalse("\(after ?? .null)".contains("/api/echo"))
        }
    }

    func testRequestsInFlightFinishOnTheInstanceThatAcceptedThem() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let generation = try await server.request(.GET, "/api/echo").json["generation"]
            async let slow = server.request(.GET, "/api/echo/slow")
            try await Task.sleep(for: .milliseconds(100))
            let reload = try await server.request(.POST, "/api/cogs/reload", token: admin, json: ["cog_name": "echo"])
            XCTAssertEqual(reload.status, 200)
            let finished = try await slow
            XCTAssertEqual(finished.status, 200)
            XCTAssertEqual(finished.json["generation"], generation, "answered by the instance that accepted it")
            try await assertNotEqual(await server.request(.GET, "/api/echo").json["generation"], generation)
        }
    }

    func testOperationsAreAuditedAndPublished() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let seen = EventRecorder()
            server.host.bus.add([seen.listener(server.host.bus, pattern: "cog.*")])
            _ = try await server.request(.POST, "/api/cogs/unload", token: admin, json: ["cog_name": "echo"])
            _ = try await server.request(.POST, "/api/cogs/load", token: admin, json: ["cog_name": "echo"])
            _ = try await server.request(.POST, "/api/cogs/reload", token: admin, json: ["cog_name": "echo"])
            Probe.set("flaky.fail", true)
            _ = try await server.request(.POST, "/api/cogs/load", token: admin, json: ["cog_name": "flaky"])
            try await assertTrue(await eventually { seen.names.count == 4 })
            XCTAssertEqual(seen.names, ["cog.unloaded", "cog.loaded", "cog.reloaded", "cog.failed"])
            XCTAssertEqual(seen.events.first?.payload["actor"], "admin")

            let audit = try await server.request(.GET, "/api/cogs/audit?limit=4", token: admin)
            XCTAssertEqual(audit.status, 200)
            guard case .array(let entries)? = audit.json["entries"] else { return XCTFail() }
            XCTAssertEqual(entries.map { $0["action"]?.stringValue }, ["load", "reload", "load", "unload"])
            XCTAssertEqual(entries.map { $0["result"]?.stringValue }, ["failed", "reloaded", "loaded", "unloaded"])
            XCTAssertEqual(entries[0]["actor"], "admin")
            XCTAssertEqual(entries[0]["cogs"], "flaky")
            XCTAssertEqual(audit.json["total_count"], 5, "startup's load is audited too")
            try await assertEqual(await server.request(.GET, "/api/cogs/audit?limit=0", token: admin).status, 400)
        }
    }

    func testTheLoadedSetSurvivesARestart() async throws {
        let first = TestHost(enabled: ["echo", "flaky"])
        defer { first.removeFolder() }
        try await first.run { server in
            let admin = try await server.token("admin")
            try await assertEqual(await server.request(.POST, "/api/cogs/unload", token: admin, json: ["cog_name": "flaky"]).status, 200)
            try await assertEqual(await server.request(.POST, "/api/cogs/load", token: admin, json: ["cog_name": "dependent"]).status, 200)
        }
        let second = TestHost(enabled: ["echo", "flaky"], folder: first.folder)
        try await second.run { server in
            try await assertEqual(await server.request(.GET, "/api/flaky").error, "cog_not_loaded")
            try await assertEqual(await server.request(.GET, "/api/dependent").status, 200)
            try await assertEqual(await server.request(.GET, "/api/echo").status, 200)
        }
    }

    func testCogRoutesEnforceTheirDeclaredAccess() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run { server in
            let user = try await server.token("user")
            try await assertEqual(await server.request(.GET, "/api/echo/admin").status, 401)
            try await assertEqual(await server.request(.GET, "/api/echo/admin", token: user).status, 403)
            let admin = try await server.token("admin")
            let allowed = try await server.request(.GET, "/api/echo/admin", token: admin)
            XCTAssertEqual(allowed.json["user"], "admin")
            let echoed = try await server.request(.POST, "/api/echo", token: user, json: ["text": "hi", "count": 2])
            XCTAssertEqual(echoed.json, ["text": "hi", "count": 2])
            let wrong = try await server.request(.POST, "/api/echo", token: user, json: ["text": "hi", "count": "two"])
            XCTAssertEqual(wrong.status, 400)
            XCTAssertEqual(wrong.json["field"], "count")
            let crash = try await server.request(.GET, "/api/echo/crash")
            XCTAssertEqual(crash.status, 500)
            XCTAssertEqual(crash.error, "internal_error")
            let stats = try await server.request(.GET, "/api/cogs", token: admin).json["cogs"]
            guard case .array(let cogs)? = stats, let echo = cogs.first(where: { $0["name"] == "echo" }) else { return XCTFail() }
            XCTAssertEqual(echo["stats"]?["errors"], 1)
            XCTAssertEqual(echo["stats"]?["requests"], 6)
        }
    }
}

/// Records events from the bus.
final class EventRecorder: Sendable {
    private let recorded = Mutex<[Event]>([])
    var events: [Event] { recorded.withLock { $0 } }
    var names: [String] { events.map(\.name) }

    func listener(_ bus: EventBus, pattern: EventPattern, priority: Int = 0) -> EventBus.Listener {
        EventBus.Listener(
            id: bus.makeListenerID(), owner: "test", pattern: pattern, priority: priority, scope: nil,
            handler: { event in self.recorded.withLock { $0.append(event) } }, onFailure: { _ in })
    }
}
