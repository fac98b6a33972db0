import Foundation
import PluginAPI

/// A guild's note: the guild-scoped record the tenancy tests store.
struct Note: GuildRecord, ResponseConvertible {
    static let table = "notes"
    var id: Int64?
    var guildID: Int64
    var text: String

    enum CodingKeys: String, CodingKey {
        case id, text
        case guildID = "guild_id"
    }
}

struct NotesConfig: CogConfiguration {
    var banner = "Notes"
    var maxLength = 200
    init() {}
    enum CodingKeys: String, CodingKey {
        case banner
        case maxLength = "max_length"
    }
}

/// A well-behaved multi-tenant cog: every read and write goes through a repository scoped to the caller's guild,
/// and it registers one of each surface (routes, an action, a command, a listener, a per-guild task, a config
/// section, an event budget).
struct NotesCog: Cog {
    typealias Configuration = NotesConfig
    static let manifest = CogManifest(
        id: "notes", displayName: "Notes", version: "1.0.0", contract: "2.0", summary: "Guild notes.", routePrefixes: ["/api/notes"],
        configSection: "notes")
    static let migrations = [
        Migration(
            "001_notes",
            """
            CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, guild_id INTEGER NOT NULL, text TEXT NOT NULL);
            CREATE INDEX notes_by_guild ON notes (guild_id, id)
            """)
    ]

    struct NewNote: Decodable, Sendable { var text: String }
    struct Charge: Decodable, Sendable { var count: Int }
    struct NotePath: Decodable, Sendable { var id: Int64 }

    func setup(_ context: any CogContext<NotesConfig>) async throws {
        let notes = Repository<Note>(context.database)
        context.route(.post, "/api/notes", access: .guild(.upload), summary: "Add a note", body: NewNote.self) { call in
            let guild = try call.requireGuild()
            let note = try await notes.scoped(to: guild).insert(Note(id: nil, guildID: 0, text: call.body.text))
            context.events.publish("notes.created", payload: note, guild: guild.id, correlationID: call.requestID)
            return note
        }
        context.route(.get, "/api/notes", access: .guild(.query), summary: "The guild's notes") { call in
            let page = try await notes.scoped(to: call.requireGuild()).page()
            return ["notes": try JSONValue(encoding: page.items), "total": .int(Int64(page.total))] as JSONValue
        }
        context.route(.get, "/api/notes/{id}", access: .guild(.query), summary: "One note", parameters: NotePath.self) { call in
            guard let note = try await notes.scoped(to: call.requireGuild()).find(call.parameters.id) else {
                throw APIError.notFound("note_not_found", "No such note.")
            }
            return note
        }
        context.route(.get, "/api/notes/settings", access: .guild(.query), summary: "The guild's effective config") { call in
            try JSONValue(encoding: context.config(for: call.requireGuild()))
        }
        context.route(.post, "/api/notes/events", access: .guild(.upload), summary: "Charge events", body: Charge.self) { call in
            try await context.chargeEvents(call.body.count, in: call.requireGuild(), by: call.identity)
            return ["charged": .int(Int64(call.body.count))] as JSONValue
        }
        context.action("note_count", access: .guild(.query)) { call in
            guard let guild = call.guild else { return nil }
            return ["action": "note_count", "count": .int(Int64(try await notes.scoped(to: guild).page(limit: 0).total))]
        }
        context.command(BotCommand(name: "notes", usage: "!notes", summary: "Counts the guild's notes") { call in
            guard let guild = call.guild else { throw CommandError("Name your guild first.") }
            return "\(try await notes.scoped(to: guild).page(limit: 0).total) notes"
        })
        context.listen("notes.*") { event in Probe.bump("notes.listener.\(event.guildID ?? 0)") }
        context.schedule("sweep", every: .milliseconds(20)) { guild in Probe.bump("notes.task.\(guild.id)") }
    }
}

/// The same notes with the guild filter forgotten on its listing: the isolation walk must catch it.
struct LeakyNotesCog: Cog {
    static let manifest = CogManifest(
        id: "leaky", displayName: "Leaky", version: "1.0.0", contract: "2.0", summary: "Forgets the guild filter.", dependsOn: ["notes"],
        routePrefixes: ["/api/leaky"])

    func setup(_ context: any CogContext<NoConfiguration>) async throws {
        let notes = Repository<Note>(context.database)
        context.route(.get, "/api/leaky/notes", access: .guild(.query), summary: "Every guild's notes (a bug)") { _ in
            ["notes": try JSONValue(encoding: try await notes.page().items)] as JSONValue
        }
    }
}
