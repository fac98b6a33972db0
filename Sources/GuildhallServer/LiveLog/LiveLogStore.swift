import Foundation
import PluginAPI

/// Who is reading: decides which stored messages a query may return.
struct LiveLogReader: Sendable {
    let identity: Identity
    /// Guild ids the reader belongs to.
    let guilds: Set<String>

    var userID: String { String(identity.userID) }

    /// Whether the reader may see a message with these routing fields. A message of a guild (a `guild` message, or
    /// a `raid` with a `guild_id`) stays in that guild: its members, its keys and admins.
    func sees(type: LiveLogType, authorID: String?, recipientID: String?, guildID: String?, audience: String) -> Bool {
        // A guild's API key sees its guild's messages and nothing of the deployment's chat.
        if let key = identity.apiKey { return guildID == String(key.guildID) }
        if identity.role == .admin { return true }
        if let guildID { return guilds.contains(guildID) }
        switch type {
        case .dm: return authorID == userID || recipientID == userID
        case .guild: return false
        case .system:
            switch audience {
            case "admins": return false
            case "staff": return identity.role >= .moderator
            default: return true
            }
        default: return true
        }
    }

    /// The same rule as SQL, for history and search.
    var sqlCondition: (clause: String, arguments: [any SQLBindable]) {
        if let key = identity.apiKey { return ("guild_id = ?", [String(key.guildID)]) }
        if identity.role == .admin { return ("1 = 1", []) }
        let audiences = identity.role >= .moderator ? "('all', 'staff')" : "('all')"
        let guildList = guilds.sorted()
        let inGuilds = guildList.isEmpty
            ? "0 = 1" : "guild_id IN (\(Array(repeating: "?", count: guildList.count).joined(separator: ", ")))"
        return (
            """
            (\(inGuilds) OR (guild_id IS NULL AND (type NOT IN ('dm', 'guild', 'system') \
            OR (type = 'system' AND audience IN \(audiences)) OR (type = 'dm' AND (author_id = ? OR recipient_id = ?)))))
            """,
            guildList.map { $0 as any SQLBindable } + [userID, userID]
        )
    }
}

/// Filters of `get_history` and `search`.
struct LiveLogFilters: Sendable {
    var type: LiveLogType?
    var userID: String?
    var channel: String?
    var from: Date?
    var to: Date?

    /// Reads `{"type", "user_id", "channel", "date_from", "date_to"}`; throws naming a bad member.
    init(_ value: JSONValue?) throws {
        guard let value, value != .null else { return }
        guard case .object(let members) = value else { throw LiveLogStore.invalid("filters", "filters must be an object.") }
        if let text = members["type"]?.stringValue {
            guard let type = LiveLogType(rawValue: text) else { throw LiveLogStore.invalid("filters.type", "unknown message type '\(text)'.") }
            self.type = type
        }
        userID = members["user_id"]?.stringValue
        channel = members["channel"]?.stringValue
        for (key, path) in [("date_from", \LiveLogFilters.from), ("date_to", \LiveLogFilters.to)] {
            guard let text = members[key]?.stringValue else { continue }
            guard let date = Timestamp.date(from: text) else {
                throw LiveLogStore.invalid("filters.\(key)", "\(key) must be an ISO 8601 date-time.")
            }
            self[keyPath: path] = date
        }
    }

    init() {}

    var sql: (clauses: [String], arguments: [any SQLBindable]) {
        var clauses: [String] = []
        var arguments: [any SQLBindable] = []
        if let type { clauses.append("type = ?"); arguments.append(type.rawValue) }
        if let userID { clauses.append("(author_id = ? OR recipient_id = ?)"); arguments += [userID, userID] }
        if let channel { clauses.append("channel = ?"); arguments.append(channel) }
        if let from { clauses.append("timestamp >= ?"); arguments.append(from) }
        if let to { clauses.append("timestamp <= ?"); arguments.append(to) }
        return (clauses, arguments)
    }
}

/// The live log's storage: one row per message with its routing fields, the message itself as JSON, and an FTS5
/// index of its text.
struct LiveLogStore: Sendable {
    let database: any PluginAPI.Database

    /// A stored message with the fields visibility is decided on.
    struct Stored: Sendable {
        let type: LiveLogType
        let message: JSONValue
        let authorID: String?
        let recipientID: String?
        let guildID: String?
        let audience: String
    }

    static func routing(_ type: LiveLogType, _ members: [String: JSONValue]) -> Stored {
        let author: String? =
            switch type {
            case .user: members["user_id"]?.stringValue
            case .dm: members["from_user_id"]?.stringValue
            case .party: members["leader_id"]?.stringValue
            case .system: members["data"]?["user_id"]?.stringValue
            default: nil
            }
        return Stored(
            type: type, message: .object(members), authorID: author,
            recipientID: type == .dm ? members["to_user_id"]?.stringValue : nil,
            guildID: members["guild_id"]?.stringValue, audience: members["audience"]?.stringValue ?? "all")
    }

    func insert(_ stored: Stored) async throws {
        let members: [String: JSONValue]
        if case .object(let object) = stored.message { members = object } else { members = [:] }
        let text = Self.searchableText(stored.message)
        let body = String(decoding: stored.message.jsonData(), as: UTF8.self)
        let row: [any SQLBindable] = [
            members["id"]?.stringValue ?? "", stored.type.rawValue, members["timestamp"]?.stringValue ?? "", stored.authorID,
            stored.recipientID, members["metadata"]?["channel"]?.stringValue, stored.guildID, stored.audience, body,
        ]
        try await database.write { connection in
            let seq = try connection.scalar(
                """
                INSERT INTO live_log_messages (id, type, timestamp, author_id, recipient_id, channel, guild_id, audience, body)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq
                """, row)
            try connection.execute("INSERT INTO live_log_search (rowid, text) VALUES (?, ?)", [seq, text])
        }
    }

    /// The newest messages the reader may see, matching `filters`, and how many match in all.
    func history(for reader: LiveLogReader, filters: LiveLogFilters, limit: Int, offset: Int) async throws -> ([JSONValue], Int) {
        let visibility = reader.sqlCondition
        let filter = filters.sql
        let whereSQL = ([visibility.clause] + filter.clauses).joined(separator: " AND ")
        let arguments = visibility.arguments + filter.arguments
        return try await database.read { connection in
            let total = try connection.scalar("SELECT COUNT(*) FROM live_log_messages WHERE \(whereSQL)", arguments) ?? 0
            let rows = try connection.rows(
                "SELECT body FROM live_log_messages WHERE \(whereSQL) ORDER BY seq DESC LIMIT ? OFFSET ?",
                arguments + [limit, offset])
            return (rows.compactMap(Self.body), Int(total))
        }
    }

    /// Messages the reader may see whose text matches every word of `query`, newest first.
    func search(_ query: String, for reader: LiveLogReader, filters: LiveLogFilters, limit: Int) async throws -> [JSONValue] {
        // Control characters (a NUL ends the text SQLite sees inside a quoted word) separate words like spaces do.
        let words = query.split(whereSeparator: { $0.isWhitespace || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } })
            .prefix(16)
        guard !words.isEmpty else { return [] }
        // Each word is quoted, so FTS5 operators in user input are taken literally. Ordering by the index's own rowid
        // (which is the message's seq) lets FTS5 walk newest first and stop at the limit instead of sorting every match.
        let match = words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " ")
        let visibility = reader.sqlCondition
        let filter = filters.sql
        let whereSQL = (["live_log_search MATCH ?", visibility.clause] + filter.clauses).joined(separator: " AND ")
        let arguments: [any SQLBindable] = [match] + visibility.arguments + filter.arguments + [limit]
        return try await database.read { connection in
            try connection.rows(
                """
                SELECT body FROM live_log_search JOIN live_log_messages ON live_log_messages.seq = live_log_search.rowid
                WHERE \(whereSQL) ORDER BY live_log_search.rowid DESC LIMIT ?
                """, arguments
            ).compactMap(Self.body)
        }
    }

    /// Deletes messages older than `cutoff`; answers how many.
    @discardableResult
    func purge(olderThan cutoff: Date) async throws -> Int {
        try await database.write { connection in
            try connection.execute(
                "DELETE FROM live_log_search WHERE rowid IN (SELECT seq FROM live_log_messages WHERE timestamp < ?)", [cutoff])
            return try connection.execute("DELETE FROM live_log_messages WHERE timestamp < ?", [cutoff])
        }
    }

    private static func body(_ row: [String: SQLValue]) -> JSONValue? {
        guard case .text(let text)? = row["body"] else { return nil }
        return try? JSONValue.parse(Data(text.utf8))
    }

    /// Every string in the message but its id, type and timestamp.
    static func searchableText(_ value: JSONValue) -> String {
        var parts: [String] = []
        func collect(_ value: JSONValue, key: String?) {
            switch value {
            case .string(let text) where !["id", "type", "timestamp"].contains(key ?? ""): parts.append(text)
            case .array(let items): items.forEach { collect($0, key: nil) }
            case .object(let members): members.forEach { collect($0.value, key: $0.key) }
            default: break
            }
        }
        collect(value, key: nil)
        return parts.joined(separator: " ")
    }

    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, "invalid_request", message, details: ["field": .string(field)])
    }
}
