import Foundation
import Logging
import GuildhallTesting
import PluginAPI
import Synchronization
import NIOFoundationCompat
import XCTest

@testable import GuildhallServer


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
        let all = Repository<GuildhallServerTests.Note>(database)
        let alpha = all.scoped(to: GuildScope(id: 2, name: "Alpha"))
        let beta = all.scoped(to: GuildScope(id: 3, name: "Beta"))
        let mine = try await alpha.insert(GuildhallServerTests.Note(id: nil, guildID: 3, text: "alpha's"))
        XCTAssertEqual(mine.guildID, 2, "the scope decides the guild, not the record")
        var theirs = try await beta.insert(GuildhallServerTests.Note(id: nil, guildID: 0, text: "beta's"))

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
