import Foundation
import Logging
import GuildhallTesting
import PluginAPI
import Synchronization
import NIOFoundationCompat
import XCTest

@testable import GuildhallServer


final class CatalogueTests: XCTestCase {
    struct ClaimsGuildMembers: Cog {
        static let manifest = CogManifest(
            id: "m", displayName: "M", version: "1", contract: "2.0", summary: "", routePrefixes: ["/api/v1/admin/guilds/*/members"])
        func setup(_ context: any CogContext<NoConfiguration>) async throws {}
    }
    struct AddsGuildReport: Cog {
        static let manifest = CogManifest(
            id: "r", displayName: "R", version: "1", contract: "2.0", summary: "", routePrefixes: ["/api/v1/admin/guilds/*/report"])
        func setup(_ context: any CogContext<NoConfiguration>) async throws {}
    }
    struct Named: Cog {
        static var manifest: CogManifest { CogManifest(id: "x", displayName: "X", version: "1", contract: "2.0", summary: "") }
        func setup(_ context: any CogContext<NoConfiguration>) async throws {}
    }
    struct ClaimsHealth: Cog {
        static let manifest = CogManifest(id: "h", displayName: "H", version: "1", contract: "2.0", summary: "", routePrefixes: ["/api/health"])
        func setup(_ context: any CogContext<NoConfiguration>) async throws {}
    }
    struct ClaimsUnderEcho: Cog {
        static let manifest = CogManifest(id: "e3", displayName: "E", version: "1", contract: "2.0", summary: "", routePrefixes: ["/api/echo/deeper"])
        func setup(_ context: any CogContext<NoConfiguration>) async throws {}
    }
    struct ClaimsEcho: Cog {
        static let manifest = CogManifest(id: "e2", displayName: "E", version: "1", contract: "2.0", summary: "", routePrefixes: ["/api/echo"])
        func setup(_ context: any CogContext<NoConfiguration>) async throws {}
    }
    struct CycleA: Cog {
        static let manifest = CogManifest(id: "a", displayName: "A", version: "1", contract: "2.0", summary: "", dependsOn: ["b"])
        func setup(_ context: any CogContext<NoConfiguration>) async throws {}
    }
    struct CycleB: Cog {
        static let manifest = CogManifest(id: "b", displayName: "B", version: "1", contract: "2.0", summary: "", dependsOn: ["a"])
        func setup(_ context: any CogContext<NoConfiguration>) async throws {}
    }

    func testDependencyOrderPutsDependenciesFirst() throws {
        let catalogue = try Catalogue(TestCogs.all)
        let order = catalogue.dependencyOrder
        XCTAssertLessThan(order.firstIndex(of: "echo")!, order.firstIndex(of: "dependent")!)
        XCTAssertEqual(catalogue.dependants(of: "echo"), ["dependent"])
    }

    func testConflictsAreRefused() {
        XCTAssertThrowsError(try Catalogue([ClaimsHealth.self])) { XCTAssertTrue("\($0)".contains("overlaps the host's /api/health")) }
        XCTAssertThrowsError(try Catalogue([EchoCog.self, ClaimsEcho.self])) { XCTAssertTrue("\($0)".contains("both claim /api/echo")) }
        XCTAssertThrowsError(try Catalogue([EchoCog.self, ClaimsUnderEcho.self])) { XCTAssertTrue("\($0)".contains("overlaps /api/echo")) }
        XCTAssertThrowsError(try Catalogue([CycleA.self, CycleB.self])) { XCTAssertTrue("\($0)".contains("cycle")) }
        XCTAssertThrowsError(try Catalogue([Named.self, Named.self])) { XCTAssertTrue("\($0)".contains("two cogs have the id 'x'")) }
        XCTAssertThrowsError(try Catalogue([DependentCog.self])) { XCTAssertTrue("\($0)".contains("not in the catalogue")) }
        XCTAssertThrowsError(try Catalogue([ClaimsGuildMembers.self])) { XCTAssertTrue("\($0)".contains("overlaps the host's /api/v1/admin/guilds")) }
        XCTAssertNoThrow(try Catalogue([AddsGuildReport.self]), "a resource of its own under each guild")
        XCTAssertTrue(PathPrefix.path("/api/v1/admin/guilds/7/report", isUnder: "/api/v1/admin/guilds/*/report"))
        XCTAssertTrue(PathPrefix.path("/api/v1/admin/guilds/:id/report", isUnder: "/api/v1/admin/guilds/*/report"))
        XCTAssertFalse(PathPrefix.path("/api/v1/admin/guilds/7", isUnder: "/api/v1/admin/guilds/*/report"))
        XCTAssertFalse(PathPrefix.path("/api/v1/admin/guilds/7/members", isUnder: "/api/v1/admin/guilds/*/report"))
        XCTAssertTrue(PathPrefix.path("/api/v1/admin/guilds/7/report/2026", isUnder: "/api/v1/admin/guilds/*/report"))
        XCTAssertFalse(PathPrefix.path("/api/v1/admin/guilds//report", isUnder: "/api/v1/admin/guilds/*/report"), "a segment is not empty")
    }

    func testPathsLieUnderAPrefixSegmentWise() {
        XCTAssertTrue(PathPrefix.path("/api/tickets", isUnder: "/api/tickets"))
        XCTAssertTrue(PathPrefix.path("/api/tickets/12/send", isUnder: "/api/tickets"))
        XCTAssertFalse(PathPrefix.path("/api/ticketsx", isUnder: "/api/tickets"))
        XCTAssertFalse(PathPrefix.path("/api/tick", isUnder: "/api/tickets"))
        XCTAssertFalse(PathPrefix.path("/api/health", isUnder: "/api/tickets"))
        XCTAssertTrue(PathPrefix.path("/api/x/y", isUnder: "/api/x/"))
        XCTAssertTrue(PathPrefix.path("/api/héllo/1", isUnder: "/api/héllo"))
    }
}
