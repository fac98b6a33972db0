import Foundation
import GuildhallTesting
import Logging
import PluginAPI
import ServiceLifecycle
import XCTest

@testable import GuildhallServer

/// The host as a swift-service-lifecycle service: its cogs stop and its database closes however the group ends.
final class LifecycleTests: XCTestCase {
    override func setUp() { Probe.reset() }

    struct Crash: Error {}

    /// A service that fails after a moment, as a crashing sidecar would.
    struct FailingService: Service {
        func run() async throws {
            try await Task.sleep(for: .milliseconds(300))
            throw Crash()
        }
    }

    func testTheHostShutsDownWhenAnotherServiceInItsGroupFails() async throws {
        let test = TestHost(enabled: ["echo"])
        defer { test.removeFolder() }
        var logger = Logger(label: "lifecycle-test")
        logger.logLevel = .critical
        let host = try await GuildhallHost(config: test.config, catalogue: TestCogs.all, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [host, FailingService()], logger: logger))
        do {
            try await group.run()
            XCTFail("the group ends with the failure")
        } catch is Crash {}
        XCTAssertEqual(Probe.count("echo.teardown"), 1, "the cog was stopped")
        XCTAssertGreaterThan(Probe.count("echo.task"), 0, "its task ran while the group did")
        let after = Probe.count("echo.task")
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(Probe.count("echo.task"), after, "nothing of the cog runs after shutdown")
        do {
            _ = try await host.database.read { try $0.scalar("SELECT 1") }
            XCTFail("the database is closed")
        } catch {}
    }
}
