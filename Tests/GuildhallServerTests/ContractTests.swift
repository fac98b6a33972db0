import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// The plugin contract as a cog sees it through a running host: one gate drains every surface at unload, the
/// contract version is checked, and what callers send is decoded strictly.
final class ContractTests: XCTestCase {
    override func setUp() { Probe.reset() }

    static let catalogue: [any Cog.Type] = TestCogs.all + [DrainCog.self, FutureCog.self, DemandingCog.self, GenerationsCog.self]

    func testUnloadWaitsForWorkInFlightOnEverySurface() async throws {
        let host = TestHost(enabled: ["drain"]) { $0.plugins.drainTimeoutSeconds = 5 }
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let admin = try await server.token("admin")
            let client = WSTestClient(port: server.port, path: "/ws", token: admin)
            defer { client.close() }
            _ = await client.next("welcome")
            // One piece of work on each surface, each taking 400 ms.
            async let route = server.request(.GET, "/api/drain/slow?milliseconds=400")
            async let command = server.request(.POST, "/api/bot/messages", token: admin, json: ["content": "!slow 400"])
            client.send(["action": "slow", "milliseconds": 400])
            _ = try await server.request(.POST, "/api/drain/spawn", json: ["milliseconds": 400])
            server.host.bus.publish("drain.go", payload: ["milliseconds": 400] as JSONValue)
            for surface in ["route", "command", "action", "spawn", "listener"] {
                try await assertTrue(await eventually { Probe.count("drain.\(surface).started") == 1 }, surface)
            }

            let started = ContinuousClock.now
            let unload = try await server.request(.POST, "/api/cogs/unload", token: admin, json: ["cog_name": "drain"])
            XCTAssertEqual(unload.status, 200)
            XCTAssertGreaterThan(ContinuousClock.now - started, .milliseconds(200), "unload waited for the work")
            for surface in ["route", "command", "action", "spawn", "listener"] {
                XCTAssertEqual(Probe.count("drain.\(surface).finished"), 1, "\(surface) finished before the unload answered")
                XCTAssertEqual(Probe.count("drain.\(surface).cancelled"), 0, surface)
            }
            let (routeReply, commandReply) = try await (route, command)
            XCTAssertEqual(routeReply.json["done"], .bool(true))
            XCTAssertEqual(commandReply.json["reply"], "slow done")
            let frame = await client.next("slow_done")
            XCTAssertNotNil(frame, "the action's caller got its answer")
            // Nothing enters an unloaded cog.
            let after = try await server.request(.GET, "/api/drain/slow?milliseconds=1")
            XCTAssertEqual(after.error, "cog_not_loaded")
        }
    }

    func testWorkStillRunningAfterTheDrainBoundIsCancelled() async throws {
        let host = TestHost(enabled: ["drain"]) { $0.plugins.drainTimeoutSeconds = 0.3 }
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let admin = try await server.token("admin")
            let spawned = try await server.request(.POST, "/api/drain/spawn", json: ["milliseconds": 60_000])
            XCTAssertEqual(spawned.json["started"], .bool(true))
            async let route = server.request(.GET, "/api/drain/slow?milliseconds=60000")
            try await assertTrue(await eventually { Probe.count("drain.route.started") == 1 && Probe.count("drain.spawn.started") == 1 })

            let started = ContinuousClock.now
            let unload = try await server.request(.POST, "/api/cogs/unload", token: admin, json: ["cog_name": "drain"])
            XCTAssertEqual(unload.status, 200)
            XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), "the bound, not the work, ended the wait")
            XCTAssertEqual(Probe.count("drain.spawn.cancelled"), 1)
            XCTAssertEqual(Probe.count("drain.route.cancelled"), 1)
            let reply = try await route
            XCTAssertEqual(reply.status, 500, "a cancelled request answers an error, never a hang")
        }
    }

    func testReloadUnderLoadLosesNoRequestActionOrCommand() async throws {
        let host = TestHost(enabled: ["drain"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let admin = try await server.token("admin")
            let client = WSTestClient(port: server.port, path: "/ws", token: admin)
            defer { client.close() }
            _ = await client.next("welcome")
            let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    var failed = 0
                    for _ in 0..<60 {
                        let reply = try await server.request(.GET, "/api/drain/slow?milliseconds=5")
                        if reply.status != 200 { failed += 1 }
                    }
                    return failed
                }
                group.addTask {
                    var failed = 0
                    for _ in 0..<30 {
                        let reply = try await server.request(.POST, "/api/bot/messages", token: admin, json: ["content": "!slow 5"])
                        if reply.json["reply"] != "slow done" { failed += 1 }
                    }
                    return failed
                }
                group.addTask {
                    for _ in 0..<10 {
                        let reload = try await server.request(.POST, "/api/cogs/reload", token: admin, json: ["cog_name": "drain"])
                        XCTAssertEqual(reload.status, 200)
                    }
                    return 0
                }
                return try await group.reduce(0, +)
            }
            XCTAssertEqual(failures, 0)
            for _ in 0..<20 { client.send(["action": "slow", "milliseconds": 5]) }
            _ = try await server.request(.POST, "/api/cogs/reload", token: admin, json: ["cog_name": "drain"])
            let replies = await client.drain(for: .milliseconds(500))
            XCTAssertEqual(replies.filter { $0["action"] == "slow_done" }.count, 20, "\(replies.filter { $0["action"] == "error" })")
        }
    }

    func testAReloadMovesRoutesAndListenersInOneSwap() async throws {
        let host = TestHost(enabled: ["generations"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let admin = try await server.token("admin")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        for _ in 0..<100 { _ = try await server.request(.POST, "/api/generations/ping") }
                    }
                }
                group.addTask {
                    for _ in 0..<20 {
                        _ = try await server.request(.POST, "/api/cogs/reload", token: admin, json: ["cog_name": "generations"])
                    }
                }
                try await group.waitForAll()
            }
            try await assertTrue(await eventually { Probe.count("generations.heard") > 0 })
            XCTAssertEqual(Probe.count("generations.newer_reached_older"), 0, "a new instance's route never reached an old listener")
        }
    }

    func testACogBuiltForAnotherContractIsRefusedWithBothVersions() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let admin = try await server.token("admin")
            let future = try await server.request(.POST, "/api/cogs/load", token: admin, json: ["cog_name": "future"])
            XCTAssertEqual(future.status, 409)
            XCTAssertEqual(future.error, "incompatible_cog")
            let reason = future.json["message"]?.stringValue ?? ""
            XCTAssertTrue(reason.contains("contract 3.0") && reason.contains("contract \(ContractVersion.current)"), reason)
            let demanding = try await server.request(.POST, "/api/cogs/load", token: admin, json: ["cog_name": "demanding"])
            XCTAssertEqual(demanding.error, "incompatible_cog")
            let needs = demanding.json["message"]?.stringValue ?? ""
            XCTAssertTrue(needs.contains("9.0.0"), needs)

            let cogs = try await server.request(.GET, "/api/cogs", token: admin).json["cogs"]
            guard case .array(let entries)? = cogs else { return XCTFail("no cogs") }
            XCTAssertEqual(entries.first { $0["name"] == "echo" }?["contract_version"], "2.0")
            XCTAssertEqual(entries.first { $0["name"] == "future" }?["contract_version"], "3.0")
            XCTAssertEqual(entries.first { $0["name"] == "future" }?["state"], "failed")
        }
    }

    func testWhatCallersSendIsDecodedStrictly() async throws {
        let host = TestHost(enabled: ["echo", "drain"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let user = try await server.token("user")
            let good = try await server.request(.POST, "/api/echo", token: user, json: ["text": "hi", "count": 2])
            XCTAssertEqual(good.json, ["text": "hi", "count": 2])
            for (body, field) in [(["text": 5, "count": 2], "text"), (["text": "hi", "count": "2"], "count"), (["text": "hi"], "count")] as [(JSONValue, String)] {
                let reply = try await server.request(.POST, "/api/echo", token: user, json: body)
                XCTAssertEqual(reply.status, 400)
                XCTAssertEqual(reply.error, "invalid_field")
                XCTAssertEqual(reply.json["field"], .string(field), "\(body)")
            }
            let notJSON = try await server.request(.POST, "/api/echo", token: user, raw: "{text")
            XCTAssertEqual(notJSON.error, "invalid_json")
            let badQuery = try await server.request(.GET, "/api/drain/slow?milliseconds=soon")
            XCTAssertEqual(badQuery.status, 400)
            XCTAssertEqual(badQuery.error, "invalid_field")
            XCTAssertEqual(badQuery.json["field"], "milliseconds")
            XCTAssertEqual(badQuery.json["in"], "query")
            let missing = try await server.request(.GET, "/api/drain/slow")
            XCTAssertEqual(missing.json["field"], "milliseconds")
        }
    }
}
