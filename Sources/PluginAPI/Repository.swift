/// A row type stored in one table with an integer primary key `id`.
public protocol StoredRecord: Codable, Sendable {
    /// The table's name.
    static var table: String { get }
    /// The primary key; nil until inserted.
    var id: Int64? { get set }
}

/// A row type that belongs to one guild, in a `guild_id` column. Read and write it through
/// ``Repository/scoped(to:)`` so that no query can reach another guild's rows.
public protocol GuildRecord: StoredRecord {
    /// The owning guild's id; a scoped repository sets it on insert and matches it on every other call.
    var guildID: Int64 { get set }
}

/// A condition on a column, combined with AND in ``Repository/page(where:orderBy:limit:offset:)``.
/// Column names come from code, never from a caller: they are checked to be plain identifiers.
public enum Filter: Sendable {
    /// `column = value`.
    case equals(String, any SQLBindable)
    /// `column <> value`.
    case notEquals(String, any SQLBindable)
    /// `column >= value`.
    case atLeast(String, any SQLBindable)
    /// `column <= value`.
    case atMost(String, any SQLBindable)
    /// SQL `LIKE` with `%` and `_` wildcards.
    case like(String, String)
    /// `column IS NULL`.
    case isNull(String)
    /// `column IN (values)`; an empty list matches nothing.
    case oneOf(String, [any SQLBindable])

    var sql: (clause: String, arguments: [any SQLBindable]) {
        switch self {
        case .equals(let column, let value): ("\(Identifier.checked(column)) = ?", [value])
        case .notEquals(let column, let value): ("\(Identifier.checked(column)) <> ?", [value])
        case .atLeast(let column, let value): ("\(Identifier.checked(column)) >= ?", [value])
        case .atMost(let column, let value): ("\(Identifier.checked(column)) <= ?", [value])
        case .like(let column, let pattern): ("\(Identifier.checked(column)) LIKE ?", [pattern])
        case .isNull(let column): ("\(Identifier.checked(column)) IS NULL", [])
        case .oneOf(let column, let values) where values.isEmpty: ("1 = 0 /* \(Identifier.checked(column)) */", [])
        case .oneOf(let column, let values):
            ("\(Identifier.checked(column)) IN (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))", values)
        }
    }
}

/// A sort order for ``Repository/page(where:orderBy:limit:offset:)``.
public struct Ordering: Sendable {
    let sql: String
    /// Ascending by `column`.
    public static func ascending(_ column: String) -> Ordering { Ordering(sql: "\(Identifier.checked(column)) ASC") }
    /// Descending by `column`.
    public static func descending(_ column: String) -> Ordering { Ordering(sql: "\(Identifier.checked(column)) DESC") }
}

/// One page of a listing and the total it was cut from.
public struct Page<Item: Sendable & Encodable>: Sendable, Encodable {
    /// The records of this page.
    public var items: [Item]
    /// How many records match in all.
    public var total: Int
    /// The page size asked for.
    public var limit: Int
    /// How many matching records precede this page.
    public var offset: Int

    /// A page; see each property.
    public init(items: [Item], total: Int, limit: Int, offset: Int) {
        self.items = items
        self.total = total
        self.limit = limit
        self.offset = offset
    }
}

enum Identifier {
    /// Column and table names are spliced into SQL, so they must be plain identifiers written in code.
    static func checked(_ name: String) -> String {
        precondition(
            !name.isEmpty && name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) },
            "'\(name)' is not a plain SQL identifier")
        return name
    }
}

/// Typed create, read, update, delete and paginated listing of one ``StoredRecord`` type.
///
/// Columns are the record's coding keys; nested values are stored as JSON text, dates as ISO 8601 text.
public struct Repository<Record: StoredRecord>: Sendable {
    /// The database the records live in.
    public let database: any Database
    /// The guild every call is confined to (see ``scoped(to:)``), or nil for the whole table.
    public let guild: GuildScope?

    /// A repository over `database` (usually `context.database`).
    public init(_ database: any Database) {
        self.database = database
        self.guild = nil
    }

    private init(_ database: any Database, guild: GuildScope) {
        self.database = database
        self.guild = guild
    }

    /// The condition that confines every statement to ``guild``.
    private var scope: Filter? { guild.map { .equals("guild_id", $0.id) } }

    /// `WHERE id = ?` plus the guild condition, and their arguments.
    private func byID(_ id: Int64) -> (sql: String, arguments: [any SQLBindable]) {
        guard let guild else { return ("id = ?", [id]) }
        return ("id = ? AND guild_id = ?", [id, guild.id])
    }

    private static var table: String { Identifier.checked(Record.table) }

    /// Inserts `record` (in a scoped repository, into its guild) and answers it with its new id.
    public func insert(_ record: Record) async throws -> Record {
        var columns = try Self.columns(of: record)
        if let guild { columns["guild_id"] = .integer(guild.id) }
        columns.removeValue(forKey: "id")
        let names = columns.keys.sorted()
        let sql = "INSERT INTO \(Self.table) (\(names.map(Identifier.checked).joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", "))) RETURNING id"
        let arguments = names.map { columns[$0]! as any SQLBindable }
        let id = try await database.write { try $0.scalar(sql, arguments) }
        var inserted = try guild.map { try Self.record(record, movedTo: $0) } ?? record
        inserted.id = id
        return inserted
    }

    /// The record with `id` (in a scoped repository, only if it is the guild's), or nil.
    public func find(_ id: Int64) async throws -> Record? {
        let condition = byID(id)
        return try await database.read { try $0.queryOne(Record.self, "SELECT * FROM \(Self.table) WHERE \(condition.sql)", condition.arguments) }
    }

    /// Writes every column of `record` (which must have an id; in a scoped repository, one of the guild's records,
    /// which stays in the guild); answers whether a row was changed.
    @discardableResult
    public func update(_ record: Record) async throws -> Bool {
        guard let id = record.id else { return false }
        var columns = try Self.columns(of: record)
        columns.removeValue(forKey: "id")
        columns.removeValue(forKey: "guild_id")
        let names = columns.keys.sorted()
        let condition = byID(id)
        let sql = "UPDATE \(Self.table) SET \(names.map { "\(Identifier.checked($0)) = ?" }.joined(separator: ", ")) WHERE \(condition.sql)"
        let arguments = names.map { columns[$0]! as any SQLBindable } + condition.arguments
        return try await database.write { try $0.execute(sql, arguments) } > 0
    }

    /// Deletes the record with `id` (in a scoped repository, only if it is the guild's); answers whether it existed.
    @discardableResult
    public func delete(_ id: Int64) async throws -> Bool {
        let condition = byID(id)
        return try await database.write { try $0.execute("DELETE FROM \(Self.table) WHERE \(condition.sql)", condition.arguments) } > 0
    }

    /// The records matching every filter, sorted, cut to `limit` from `offset`, with the total count of matches.
    public func page(
        where filters: [Filter] = [], orderBy ordering: [Ordering] = [.ascending("id")], limit: Int = 50, offset: Int = 0
    ) async throws -> Page<Record> {
        let conditions = (filters + [scope].compactMap { $0 }).map(\.sql)
        let whereSQL = conditions.isEmpty ? "" : " WHERE " + conditions.map(\.clause).joined(separator: " AND ")
        let arguments = conditions.flatMap(\.arguments)
        let orderSQL = ordering.isEmpty ? "" : " ORDER BY " + ordering.map(\.sql).joined(separator: ", ")
        let limit = max(0, limit)
        let offset = max(0, offset)
        let table = Self.table
        return try await database.read { connection in
            let total = try connection.scalar("SELECT COUNT(*) FROM \(table)\(whereSQL)", arguments) ?? 0
            let items = try connection.query(
                Record.self, "SELECT * FROM \(table)\(whereSQL)\(orderSQL) LIMIT ? OFFSET ?", arguments + [limit, offset])
            return Page(items: items, total: Int(total), limit: limit, offset: offset)
        }
    }

    /// `record` with its `guild_id` set to `guild`'s, so a scoped insert answers the guild it stored the record in.
    static func record(_ record: Record, movedTo guild: GuildScope) throws -> Record {
        guard case .object(var members) = try JSONValueEncoder(keys: .snakeCase).encode(record) else { return record }
        members["guild_id"] = .int(guild.id)
        return try JSONValueDecoder().decode(Record.self, from: .object(members))
    }

    static func columns(of record: Record) throws -> [String: SQLValue] {
        guard case .object(let members) = try JSONValueEncoder(keys: .snakeCase).encode(record) else { return [:] }
        return members.mapValues(SQLValue.init)
    }
}

extension Repository where Record: GuildRecord {
    /// The same repository confined to `guild`: inserts go into the guild, and find, update, delete and page see
    /// only its rows, so a handler that uses it cannot read or change another guild's data. Pass
    /// `try context.requireGuild()` from a route, or the scope a per-guild task is given.
    public func scoped(to guild: GuildScope) -> Repository<Record> {
        Repository(database, guild: guild)
    }
}
