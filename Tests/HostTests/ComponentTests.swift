import Foundation
import Logging
import GuildhallTesting
import PluginAPI
import Synchronization
import NIOFoundationCompat
import XCTest

@testable import GuildhallServer

final class EventBusTests: XCTestCase {
    func testListenersRunByPriorityAndAFailureStopsNoOne() async throws {
        let bus = EventBus(logger: Logger(label: "test"))
        let order = Mutex<[String]>([])
        let failures = Mutex(0)
        func listener(_ name: String, _ pattern: EventPattern, _ priority: Int, fails: Bool = false) -> EventBus.Listener {
            EventBus.Listener(
                id: bus.makeListenerID(), owner: name, pattern: pattern, priority: priority, scope: nil,
                handler: { _ in
                    order.withLock { $0.append(name) }
                    if fails { throw TestFailure("listener \(name) fails") }
                }, onFailure: { _ in failures.withLock { $0 += 1 } })
        }
        bus.add([listener("low", "ticket.*", -5), listener("exact", "ticket.opened", 0, fails: true), listener("high", "*", 10)])
        bus.add([listener("other", "config.changed", 100)])
        bus.publish("ticket.opened", payload: ["id": 1] as JSONValue)
        let delivered = try await eventually { order.withLock { $0.count } == 3 }
        XCTAssertTrue(delivered)
        XCTAssertEqual(order.withLock { $0 }, ["high", "exact", "low"])
        XCTAssertEqual(failures.withLock { $0 }, 1)
        await bus.stop()
    }

    func testEventsCarryTheirPayloadSourceAndCorrelation() async throws {
        let bus = EventBus(logger: Logger(label: "test"))
        let recorder = EventRecorder()
        bus.add([recorder.listener(bus, pattern: "a.b")])
        struct Payload: Codable, Sendable, Equatable { var name: String; var count: Int }
        bus.publish("a.b", payload: Payload(name: "x", count: 2), source: "echo", correlationID: "req-1")
        bus.publish("a.bc", payload: ["ignored": true] as JSONValue)
        try await assertTrue(await eventually { recorder.events.count == 1 })
        let event = try XCTUnwrap(recorder.events.first)
        XCTAssertEqual(try event.decode(Payload.self), Payload(name: "x", count: 2))
        XCTAssertEqual(event.source, "echo")
        XCTAssertEqual(event.correlationID, "req-1")
        await bus.stop()
    }

    func testPatterns() {
        XCTAssertTrue(EventPattern("ticket.*").matches("ticket.opened"))
        XCTAssertFalse(EventPattern("ticket.*").matches("tickets.opened"))
        XCTAssertTrue(EventPattern("*").matches("anything"))
        XCTAssertFalse(EventPattern("ticket.opened").matches("ticket.opened.twice"))
    }
}

final class CacheTests: XCTestCase {
    func testLeastRecentlyUsedIsEvicted() {
        let cache = LRUCache(capacity: 2)
        cache.set(1, forKey: "a", ttl: nil, tags: [])
        cache.set(2, forKey: "b", ttl: nil, tags: [])
        XCTAssertEqual(cache.value(forKey: "a", as: Int.self), 1)  // a is now the most recent
        cache.set(3, forKey: "c", ttl: nil, tags: [])
        XCTAssertNil(cache.value(forKey: "b", as: Int.self))
        XCTAssertEqual(cache.value(forKey: "a", as: Int.self), 1)
        XCTAssertEqual(cache.value(forKey: "c", as: Int.self), 3)
        let stats = cache.statistics
        XCTAssertEqual(stats.entries, 2)
        XCTAssertEqual(stats.hits, 3)
        XCTAssertEqual(stats.misses, 1)
        XCTAssertEqual(stats.evictions, 1)
    }

    func testEntriesExpireAndTagsInvalidate() async throws {
        let cache = LRUCache(capacity: 10)
        cache.set("short", forKey: "t", ttl: .milliseconds(30), tags: [])
        cache.set("x", forKey: "u1", ttl: nil, tags: ["user:1"])
        cache.set("y", forKey: "u1b", ttl: nil, tags: ["user:1", "other"])
        cache.set("z", forKey: "u2", ttl: nil, tags: ["user:2"])
        XCTAssertEqual(cache.value(forKey: "t", as: String.self), "short")
        try await Task.sleep(for: .milliseconds(60))
        XCTAssertNil(cache.value(forKey: "t", as: String.self))
        cache.invalidate(tag: "user:1")
        XCTAssertNil(cache.value(forKey: "u1", as: String.self))
        XCTAssertNil(cache.value(forKey: "u1b", as: String.self))
        XCTAssertEqual(cache.value(forKey: "u2", as: String.self), "z")
        XCTAssertNil(cache.value(forKey: "u2", as: Int.self), "a wrong type is a miss")
    }

    func testCogNamespacesDoNotCollide() {
        let base = LRUCache(capacity: 10)
        let a = NamespacedCache(base: base, namespace: "cog:a:")
        let b = NamespacedCache(base: base, namespace: "cog:b:")
        a.set(1, forKey: "k")
        b.set(2, forKey: "k")
        XCTAssertEqual(a.value(forKey: "k", as: Int.self), 1)
        XCTAssertEqual(b.value(forKey: "k", as: Int.self), 2)
        base.removeAll(withPrefix: "cog:a:")
        XCTAssertNil(a.value(forKey: "k", as: Int.self))
        XCTAssertEqual(b.value(forKey: "k", as: Int.self), 2)
    }
}

final class RepositoryTests: XCTestCase {
    struct Note: StoredRecord, Equatable {
        static let table = "notes"
        var id: Int64?
        var title: String
        var stars: Int
        var pinned: Bool
        var tags: [String]
        var createdAt: Date

        enum CodingKeys: String, CodingKey {
            case id, title, stars, pinned, tags
            case createdAt = "created_at"
        }
    }

    func testTypedCRUDAndPages() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("guildhall-repo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try SQLiteDatabase(path: folder.appendingPathComponent("db.sqlite").path)
        let applied = try await Migrator(database: database).apply(
            [
                Migration(
                    "001_notes",
                    "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, stars INTEGER NOT NULL, pinned INTEGER NOT NULL, tags TEXT NOT NULL, created_at TEXT NOT NULL)")
            ], owner: "test")
        XCTAssertEqual(applied, ["001_notes"])
        try await assertEqual(await Migrator(database: database).apply([Migration("001_notes", "bad sql")], owner: "test"), [], "applied once")

        let notes = Repository<Note>(database)
        let now = Timestamp.date(from: Timestamp.string(from: Date()))!
        var first = try await notes.insert(Note(title: "first", stars: 3, pinned: true, tags: ["a", "b"], createdAt: now))
        XCTAssertNotNil(first.id)
        for index in 0..<9 {
            _ = try await notes.insert(Note(title: "note \(index)", stars: index, pinned: false, tags: [], createdAt: now))
        }
        try await assertEqual(await notes.find(first.id!), first)
        first.stars = 5
        try await assertTrue(await notes.update(first))
        try await assertEqual(await notes.find(first.id!)?.stars, 5)

        let page = try await notes.page(where: [.atLeast("stars", 4)], orderBy: [.descending("stars")], limit: 3, offset: 1)
        XCTAssertEqual(page.total, 6)
        XCTAssertEqual(page.items.map(\.stars), [7, 6, 5])
        try await assertEqual(await notes.page(where: [.equals("pinned", true)]).items.map(\.title), ["first"])
        try await assertEqual(await notes.page(where: [.like("title", "note %"), .oneOf("stars", [1, 2])]).total, 2)
        try await assertEqual(await notes.page(where: [.oneOf("stars", [])]).total, 0)

        try await assertTrue(await notes.delete(first.id!))
        try await assertFalse(await notes.delete(first.id!))
        try await assertNil(await notes.find(first.id!))
        try database.close()
    }

    func testAScopedRepositoryNeverReachesAnotherGuildsRows() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("guildhall-repo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try SQLiteDatabase(path: folder.appendingPathComponent("db.sqlite").path)
        try await Migrator(database: database).apply(NotesCog.migrations, owner: "notes")
        let all = Repository<HostTests.Note>(database)
        let alpha = all.scoped(to: GuildScope(id: 2, name: "Alpha"))
        let beta = all.scoped(to: GuildScope(id: 3, name: "Beta"))
        let mine = try await alpha.insert(HostTests.Note(id: nil, guildID: 3, text: "alpha's"))
        XCTAssertEqual(mine.guildID, 2, "the scope decides the guild, not the record")
        var theirs = try await beta.insert(HostTests.Note(id: nil, guildID: 0, text: "beta's"))

        try await assertNil(await alpha.find(theirs.id!))
        try await assertEqual(await alpha.page().items.map(\.text), ["alpha's"])
        theirs.text = "overwritten"
        try await assertFalse(await alpha.update(theirs), "no update across guilds")
        try await assertFalse(await alpha.delete(theirs.id!), "no delete across guilds")
        try await assertEqual(await beta.find(theirs.id!)?.text, "beta's")
        var moved = mine
        moved.guildID = 3
        try await assertTrue(await alpha.update(moved))
        try await assertEqual(await alpha.find(mine.id!)?.guildID, 2, "an update cannot move a record out of its guild")
        try await assertEqual(await all.page().total, 2)
        try database.close()
    }
}

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

    func testSnakeCaseKeys() {
        XCTAssertEqual(SnakeCase.key("guildID"), "guild_id")
        XCTAssertEqual(SnakeCase.key("HTTPStatusCode"), "http_status_code")
        XCTAssertEqual(SnakeCase.key("rank2v2Tier"), "rank2v2_tier")
        XCTAssertEqual(SnakeCase.key("already_snake"), "already_snake")
        XCTAssertEqual(SnakeCase.key("max_open_perUser"), "max_open_per_user")
    }
}

final class CommandParsingTests: XCTestCase {
    func testArgumentsSplitOnSpacesWithQuotes() {
        XCTAssertEqual(CommandDispatcher.split(#"new "Printer on fire"  now "#), ["new", "Printer on fire", "now"])
        XCTAssertEqual(CommandDispatcher.split(#"a "" b"#), ["a", "", "b"])
        XCTAssertEqual(CommandDispatcher.split("   "), [])
    }

    func testSuggestionsRankByCloseness() {
        XCTAssertEqual(CommandDispatcher.closest(to: "ecoh", in: ["echo", "help", "cogs"], threshold: 0.6), ["echo"])
        XCTAssertEqual(CommandDispatcher.closest(to: "meme", in: ["memes", "meme"], threshold: 0.6), ["meme", "memes"])
        XCTAssertEqual(CommandDispatcher.closest(to: "xyz", in: ["echo"], threshold: 0.6), [])
    }
}

final class RateLimiterTests: XCTestCase {
    func testLimitsPerKeyAndForgetsStaleKeys() {
        let limiter = RateLimiter(limit: 2, window: .seconds(60))
        let start = ContinuousClock.now
        XCTAssertNil(limiter.attempt("a", now: start))
        XCTAssertNil(limiter.attempt("a", now: start))
        XCTAssertNotNil(limiter.attempt("a", now: start + .seconds(1)), "third attempt in the window")
        XCTAssertNil(limiter.attempt("b", now: start + .seconds(1)), "keys are separate")
        XCTAssertNil(limiter.attempt("a", now: start + .seconds(61)), "the window moved on")
        for index in 0..<10_001 { _ = limiter.attempt("spray-\(index)", now: start) }
        XCTAssertNil(limiter.attempt("late", now: start + .seconds(200)))
        XCTAssertEqual(limiter.keyCount, 1, "a spray of stale keys is swept")
    }
}
