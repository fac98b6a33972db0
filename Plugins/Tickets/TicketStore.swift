import Foundation
import PluginAPI

/// The tickets' tables and queries. A ticket belongs to the user who opened it; staff (moderators and admins) see
/// every ticket. Unread counts are per reader: how many messages by others came after the reader's last read one.
struct TicketStore: Sendable {
    let database: any Database

    /// A ticket's status as the API shows it: `Open`, `Claimed` (open, and a staff member took it) or `Closed`.
    enum Status: String, Sendable, CaseIterable {
        case open = "Open", claimed = "Claimed", closed = "Closed"

        /// The stored lifecycle (`open`/`closed`) and claim, as SQL over the row `t`.
        static let sql = "CASE WHEN t.status = 'closed' THEN 'Closed' WHEN t.claimed_by IS NOT NULL THEN 'Claimed' ELSE 'Open' END"

        /// The condition selecting tickets with this status.
        var condition: String {
            switch self {
            case .open: "t.status = 'open' AND t.claimed_by IS NULL"
            case .claimed: "t.status = 'open' AND t.claimed_by IS NOT NULL"
            case .closed: "t.status = 'closed'"
            }
        }
    }

    /// The text the admin app reads a ticket's subject and description from.
    static func initialMessage(subject: String, description: String) -> String {
        "**Subject:** \(subject)\n\n**Description:**\n\(description)"
    }

    /// Tickets in every guild, and how many of them are open (for the admin's statistics).
    func counts() async throws -> (total: Int64, open: Int64) {
        try await database.read { connection in
            (
                try connection.scalar("SELECT COUNT(*) FROM tickets") ?? 0,
                try connection.scalar("SELECT COUNT(*) FROM tickets WHERE status = 'open'") ?? 0
            )
        }
    }

    struct Ticket: Codable, Sendable {
        var id: Int64
        /// The guild the ticket was opened in.
        var guildID: Int64
        var userID: Int64
        var userName: String
        var subject: String
        var category: String?
        var status: String
        var createdAt: Date
        var lastActivityAt: Date
        var closedAt: Date?
        var closedBy: String?
        var claimedBy: Int64?
        var assignedTo: Int64?

        enum CodingKeys: String, CodingKey {
            case id, subject, category, status
            case guildID = "guild_id", userID = "user_id", userName = "user_name", createdAt = "created_at", lastActivityAt = "last_activity_at"
            case closedAt = "closed_at", closedBy = "closed_by", claimedBy = "claimed_by", assignedTo = "assigned_to"
        }

        var isOpen: Bool { status == "open" }
    }

    struct Message: Codable, Sendable {
        var id: Int64
        var ticketID: Int64
        var authorID: Int64
        var authorName: String
        var content: String
        var timestamp: Date
        var isAdmin: Bool
        var isSystem: Bool
        /// `admin` or `moderator` when staff wrote it.
        var authorRole: String?

        enum CodingKeys: String, CodingKey {
            case id, content, timestamp
            case ticketID = "ticket_id", authorID = "author_id", authorName = "author_name", isAdmin = "is_admin", isSystem = "is_system"
            case authorRole = "author_role"
        }

        /// The message as both clients read it: the document's fields, and the app's `role`, `is_bot` (the host's
        /// own notes) and `display_content`.
        var json: JSONValue {
            [
                "id": .string("msg_\(id)"), "ticket_id": .string(String(ticketID)), "author_id": .string(String(authorID)),
                "author_name": .string(authorName), "author_avatar": .null, "content": .string(content), "display_content": .string(content),
                "timestamp": .string(Timestamp.string(from: timestamp)), "is_admin": .bool(isAdmin), "is_system": .bool(isSystem),
                "is_bot": .bool(isSystem), "role": authorRole.map(JSONValue.string) ?? .null,
            ]
        }
    }

    func openCount(of user: Int64, in guild: GuildScope) async throws -> Int {
        Int(
            try await database.read {
                try $0.scalar("SELECT COUNT(*) FROM tickets WHERE guild_id = ? AND user_id = ? AND status = 'open'", [guild.id, user])
            } ?? 0)
    }

    /// Opens a ticket in `guild` with its first message, refusing it past `maxOpen` open tickets of the user there
    /// (checked in the same transaction, so two requests at once cannot both slip through).
    func open(
        by caller: Identity, in guild: GuildScope, subject: String, category: String?, message: String, maxOpen: Int
    ) async throws -> (Ticket, Message) {
        let now = Date()
        return try await database.write { connection in
            let open = try connection.scalar(
                "SELECT COUNT(*) FROM tickets WHERE guild_id = ? AND user_id = ? AND status = 'open'", [guild.id, caller.userID]) ?? 0
            guard open < maxOpen else {
                throw APIError(
                    .conflict, "too_many_open_tickets", "You have \(open) open tickets; close one before opening another.",
                    details: ["max_open_per_user": .int(Int64(maxOpen))])
            }
            guard
                let ticket = try connection.queryOne(
                    Ticket.self,
                    """
                    INSERT INTO tickets (guild_id, user_id, user_name, subject, category, status, created_at, last_activity_at, last_message,
                        initial_message)
                    VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?) RETURNING *
                    """, [guild.id, caller.userID, caller.username, subject, category, now, now, message,
                          Self.initialMessage(subject: subject, description: message)])
            else { throw APIError(.internalServerError, "internal_error", "The ticket was not stored.") }
            let first = try Self.insertMessage(connection, ticket: ticket.id, author: caller, content: message, system: false, at: now)
            return (ticket, first)
        }
    }

    /// The tickets of `guild` that `reader` may see (all of them for staff; with `mine`, only the reader's own),
    /// newest activity first, with the reader's unread counts, built straight from the rows in the shape both
    /// clients read: the document's `{ticket_id, user_id, user_name, subject, category, status, created_at,
    /// last_message, unread_count}` and the app's `ticket_num`, `username`, `display_name`, `type`, `closed_at`,
    /// claim and assignment fields, `initial_message`, `reopen_count`. `id` picks one ticket.
    ///
    /// Fields the app may find absent (it reads them as null) are left out while empty, so a dashboard polling
    /// the list does not carry a page of nulls: claim and assignment until there is one, `type` without a
    /// category, `closed_at` while open. `initial_message` is in the owner's list (`mine`) and a single ticket,
    /// where the app reads it, as HazeBot serves it.
    func views(for reader: Identity, in guild: GuildScope, status: Status? = nil, mine: Bool = false, id: Int64? = nil) async throws
        -> [JSONValue]
    {
        var conditions = ["t.guild_id = ?"]
        var arguments: [any SQLBindable] = [reader.userID, reader.userID, guild.id]
        if mine || reader.role < .moderator {
            conditions.append("t.user_id = ?")
            arguments.append(reader.userID)
        }
        if let status { conditions.append(status.condition) }
        if let id {
            conditions.append("t.id = ?")
            arguments.append(id)
        }
        let clause = "WHERE " + conditions.joined(separator: " AND ")
        let bound = arguments
        let rows = try await database.read { connection in
            try connection.rows(
            """
            SELECT CAST(t.id AS TEXT) AS ticket_id, t.id AS ticket_num, CAST(t.user_id AS TEXT) AS user_id,
                t.user_name, t.user_name AS username, t.user_name AS display_name,
                t.subject, t.category, t.category AS type, \(Status.sql) AS status, t.created_at, t.closed_at, t.last_message,
                CAST(t.claimed_by AS TEXT) AS claimed_by, t.claimed_by_name, CAST(t.assigned_to AS TEXT) AS assigned_to, t.assigned_to_name,
                \(mine || id != nil ? "t.initial_message" : "NULL") AS initial_message, t.reopen_count,
                (SELECT COUNT(*) FROM ticket_messages m WHERE m.ticket_id = t.id AND m.author_id <> ?
                    AND m.id > COALESCE((SELECT r.last_read_id FROM ticket_reads r WHERE r.ticket_id = t.id AND r.user_id = ?), 0))
                    AS unread_count
            FROM tickets t \(clause) ORDER BY t.last_activity_at DESC, t.id DESC
            """, bound)
        }
        return rows.map { row in
            var members: [String: JSONValue] = [:]
            members.reserveCapacity(row.count)
            for (key, value) in row where !(value == .null && Self.leftOutWhenNull.contains(key)) { members[key] = value.json }
            return .object(members)
        }
    }

    /// The app's fields a ticket answer leaves out while they are null (the document's are always there).
    private static let leftOutWhenNull: Set<String> = [
        "type", "closed_at", "claimed_by", "claimed_by_name", "assigned_to", "assigned_to_name", "initial_message",
    ]

    /// Ticket `id` of `guild` if `reader` may see it (its owner, or staff); nil otherwise, so that another user's
    /// ticket, or another guild's, looks exactly like a missing one.
    func ticket(_ id: Int64, for reader: Identity, in guild: GuildScope) async throws -> Ticket? {
        guard
            let ticket = try await database.read({
                try $0.queryOne(Ticket.self, "SELECT * FROM tickets WHERE id = ? AND guild_id = ?", [id, guild.id])
            })
        else { return nil }
        return ticket.userID == reader.userID || reader.role >= .moderator ? ticket : nil
    }

    private static let messagesSQL = "SELECT * FROM ticket_messages WHERE ticket_id = ? ORDER BY id"

    func messages(of ticket: Int64) async throws -> [Message] {
        try await database.query(Message.self, Self.messagesSQL, [ticket])
    }

    /// Adds a message (refused with 409 on a closed ticket), moves the ticket's activity on and marks it read for its
    /// author, in one transaction.
    func send(_ content: String, to ticket: Int64, from author: Identity) async throws -> Message {
        let now = Date()
        return try await database.write { connection in
            guard let status = try connection.rows("SELECT status FROM tickets WHERE id = ?", [ticket]).first?["status"] else {
                throw APIError.notFound("ticket_not_found", "There is no ticket \(ticket).")
            }
            guard status == .text("open") else {
                throw APIError.conflict("ticket_closed", "The ticket is closed; reopen it to write.")
            }
            let message = try Self.insertMessage(connection, ticket: ticket, author: author, content: content, system: false, at: now)
            try connection.execute("UPDATE tickets SET last_activity_at = ?, last_message = ? WHERE id = ?", [now, content, ticket])
            try Self.markRead(connection, ticket: ticket, by: author)
            return message
        }
    }

    /// Closes or reopens a ticket with a system message saying so (and, closing with `keepTranscript`, stores the
    /// conversation's transcript), in one transaction; answers the message, or nil if it already was.
    /// `closing` is what the closer wrote to go with it (`close_message`), stored as their message before the note.
    func setStatus(
        _ ticket: Int64, open: Bool, by actor: Identity, note: String, closing: String? = nil, keepTranscript: Bool
    ) async throws -> [Message]? {
        let now = Date()
        return try await database.write { connection in
            let changed = try connection.execute(
                """
                UPDATE tickets SET status = ?, closed_at = ?, closed_by = ?, last_activity_at = ?, reopen_count = reopen_count + ?
                WHERE id = ? AND status = ?
                """,
                [open ? "open" : "closed", open ? nil : now, open ? nil : actor.username, now, open ? 1 : 0, ticket, open ? "closed" : "open"])
            guard changed > 0 else { return nil }
            var messages: [Message] = []
            if let closing {
                messages.append(try Self.insertMessage(connection, ticket: ticket, author: actor, content: closing, system: false, at: now))
            }
            let message = try Self.insertMessage(connection, ticket: ticket, author: actor, content: note, system: true, at: now)
            messages.append(message)
            if !open && keepTranscript {
                let text = Self.transcript(try connection.query(Message.self, Self.messagesSQL, [ticket]))
                try connection.execute(
                    """
                    INSERT INTO ticket_transcripts (ticket_id, created_at, text) VALUES (?, ?, ?)
                    ON CONFLICT (ticket_id) DO UPDATE SET created_at = excluded.created_at, text = excluded.text
                    """, [ticket, now, text])
            }
            return messages
        }
    }

    /// Who handles an open ticket: `claim` sets the claimer (answers false if the ticket is closed or gone);
    /// with `assign`, the assignee.
    enum Handler: Sendable {
        case claim, assign
    }

    /// Sets the claimer or assignee of open ticket `ticket` to `person` with a system note; answers the note, or nil
    /// if the ticket is not open.
    func setHandler(_ handler: Handler, of ticket: Int64, to person: Identity, by actor: Identity, note: String) async throws -> Message? {
        let now = Date()
        let columns = handler == .claim ? "claimed_by = ?, claimed_by_name = ?" : "assigned_to = ?, assigned_to_name = ?"
        return try await database.write { connection in
            let changed = try connection.execute(
                "UPDATE tickets SET \(columns), last_activity_at = ? WHERE id = ? AND status = 'open'",
                [person.userID, person.username, now, ticket])
            guard changed > 0 else { return nil }
            return try Self.insertMessage(connection, ticket: ticket, author: actor, content: note, system: true, at: now)
        }
    }

    /// Deletes a ticket with its messages, read marks and transcript in one transaction.
    func delete(_ ticket: Int64) async throws -> Bool {
        try await database.write { connection in
            for table in ["ticket_messages", "ticket_reads", "ticket_transcripts"] {
                try connection.execute("DELETE FROM \(table) WHERE ticket_id = ?", [ticket])
            }
            return try connection.execute("DELETE FROM tickets WHERE id = ?", [ticket]) > 0
        }
    }

    /// Marks every message of `ticket` read for `reader` only.
    func markRead(_ ticket: Int64, by reader: Identity) async throws {
        try await database.write { try Self.markRead($0, ticket: ticket, by: reader) }
    }

    private static func markRead(_ connection: any SQLConnection, ticket: Int64, by reader: Identity) throws {
        try connection.execute(
            """
            INSERT INTO ticket_reads (ticket_id, user_id, last_read_id)
            VALUES (?, ?, COALESCE((SELECT MAX(id) FROM ticket_messages WHERE ticket_id = ?), 0))
            ON CONFLICT (ticket_id, user_id) DO UPDATE SET last_read_id = excluded.last_read_id
            """, [ticket, reader.userID, ticket])
    }

    /// The conversation as plain text, one `[time] author: text` line per message.
    static func transcript(_ messages: [Message]) -> String {
        messages.map { message in
            let author = message.isSystem ? "*" : message.authorName + (message.isAdmin ? " (staff)" : "")
            return "[\(Timestamp.string(from: message.timestamp))] \(author): \(message.content)"
        }.joined(separator: "\n") + "\n"
    }

    func subject(of ticket: Int64) async throws -> String? {
        try await database.read { connection in
            if case .text(let text)? = try connection.rows("SELECT subject FROM tickets WHERE id = ?", [ticket]).first?["subject"] { return text }
            return nil
        }
    }

    func storedTranscript(_ ticket: Int64) async throws -> String? {
        try await database.read { connection in
            if case .text(let text)? = try connection.rows("SELECT text FROM ticket_transcripts WHERE ticket_id = ?", [ticket]).first?["text"] {
                return text
            }
            return nil
        }
    }

    /// Open tickets without activity since `cutoff`.
    func idle(since cutoff: Date) async throws -> [Ticket] {
        try await database.query(Ticket.self, "SELECT * FROM tickets WHERE status = 'open' AND last_activity_at < ?", [cutoff])
    }

    /// Tickets closed before `cutoff`.
    func closed(before cutoff: Date) async throws -> [Ticket] {
        try await database.query(Ticket.self, "SELECT * FROM tickets WHERE status = 'closed' AND closed_at < ?", [cutoff])
    }

    private static func insertMessage(
        _ connection: any SQLConnection, ticket: Int64, author: Identity, content: String, system: Bool, at time: Date
    ) throws -> Message {
        guard
            let message = try connection.queryOne(
                Message.self,
                """
                INSERT INTO ticket_messages (ticket_id, author_id, author_name, content, timestamp, is_admin, is_system, author_role)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *
                """,
                [ticket, author.userID, system ? "System" : author.username, content, time, author.role >= .moderator, system,
                 system || author.role < .moderator ? nil : author.role.rawValue])
        else { throw APIError(.internalServerError, "internal_error", "The message was not stored.") }
        return message
    }
}
