import Foundation
import PluginAPI

/// One guild's tickets as JSON, and back into a guild of another deployment (`context.guildData`): tickets with
/// their messages and transcripts. People are carried by name — user ids mean nothing elsewhere — and found again
/// by name where the rows land; someone without a user there keeps their name, under user id 0. Read marks are not
/// carried: unread counts start again.
struct TicketTransfer: Sendable {
    let database: any Database
    let people: any PeopleDirectory

    func export(_ guild: GuildScope) async throws -> JSONValue {
        try await database.read { connection in
            let tickets = try connection.rows(
                """
                SELECT id, user_name, subject, category, status, created_at, last_activity_at, closed_at, closed_by, last_message,
                    initial_message, claimed_by_name, assigned_to_name, reopen_count FROM tickets WHERE guild_id = ? ORDER BY id
                """, [guild.id])
            let ids = tickets.compactMap { $0["id"]?.json.intValue }
            guard !ids.isEmpty else { return ["tickets": [], "messages": [], "transcripts": []] }
            let list = ids.map(String.init).joined(separator: ",")
            let messages = try connection.rows(
                """
                SELECT ticket_id, author_id, author_name, content, timestamp, is_admin, is_system, author_role
                FROM ticket_messages WHERE ticket_id IN (\(list)) ORDER BY id
                """, [])
            let transcripts = try connection.rows("SELECT ticket_id, created_at, text FROM ticket_transcripts WHERE ticket_id IN (\(list))", [])
            func json(_ rows: [[String: SQLValue]]) -> JSONValue { .array(rows.map { .object($0.mapValues(\.json)) }) }
            return ["tickets": json(tickets), "messages": json(messages), "transcripts": json(transcripts)]
        }
    }

    func `import`(_ data: JSONValue, into guild: GuildScope) async throws {
        // Names to ids here, looked up before the transaction.
        var names: Set<String> = []
        for ticket in data["tickets"]?.arrayValue ?? [] {
            for key in ["user_name", "claimed_by_name", "assigned_to_name"] { if let name = ticket[key]?.stringValue { names.insert(name) } }
        }
        for message in data["messages"]?.arrayValue ?? [] where message["author_id"]?.intValue != 0 {
            if let name = message["author_name"]?.stringValue { names.insert(name) }
        }
        var ids: [String: Int64] = [:]
        for name in names { if let person = try await people.person(named: name) { ids[name] = person.userID } }
        let known = ids
        try await database.write { connection in
            var ticketIDs: [Int64: Int64] = [:]
            for ticket in data["tickets"]?.arrayValue ?? [] {
                guard let old = ticket["id"]?.intValue, let user = ticket["user_name"]?.stringValue else { continue }
                func value(_ key: String) -> SQLValue { SQLValue(ticket[key] ?? .null) }
                func person(_ key: String) -> SQLValue { ticket[key]?.stringValue.flatMap { known[$0] }.map { .integer($0) } ?? .null }
                guard
                    let id = try connection.scalar(
                        """
                        INSERT INTO tickets (guild_id, user_id, user_name, subject, category, status, created_at, last_activity_at,
                            closed_at, closed_by, last_message, initial_message, claimed_by, claimed_by_name, assigned_to,
                            assigned_to_name, reopen_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                        """,
                        [guild.id, known[user] ?? 0, user, value("subject"), value("category"), value("status"), value("created_at"),
                         value("last_activity_at"), value("closed_at"), value("closed_by"), value("last_message"),
                         value("initial_message"), person("claimed_by_name"), value("claimed_by_name"), person("assigned_to_name"),
                         value("assigned_to_name"), ticket["reopen_count"]?.intValue ?? 0])
                else { continue }
                ticketIDs[old] = id
            }
            for message in data["messages"]?.arrayValue ?? [] {
                guard let ticket = message["ticket_id"]?.intValue.flatMap({ ticketIDs[$0] }) else { continue }
                let author = message["author_id"]?.intValue == 0 ? 0 : message["author_name"]?.stringValue.flatMap { known[$0] } ?? 0
                try connection.execute(
                    """
                    INSERT INTO ticket_messages (ticket_id, author_id, author_name, content, timestamp, is_admin, is_system, author_role)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [ticket, author, SQLValue(message["author_name"] ?? ""), SQLValue(message["content"] ?? ""),
                     SQLValue(message["timestamp"] ?? .null), SQLValue(message["is_admin"] ?? 0), SQLValue(message["is_system"] ?? 0),
                     SQLValue(message["author_role"] ?? .null)])
            }
            for transcript in data["transcripts"]?.arrayValue ?? [] {
                guard let ticket = transcript["ticket_id"]?.intValue.flatMap({ ticketIDs[$0] }) else { continue }
                try connection.execute(
                    "INSERT INTO ticket_transcripts (ticket_id, created_at, text) VALUES (?, ?, ?)",
                    [ticket, SQLValue(transcript["created_at"] ?? .null), SQLValue(transcript["text"] ?? "")])
            }
        }
    }
}
