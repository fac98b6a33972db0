import Foundation

/// A value bound to a `?` placeholder of a SQL statement.
public enum SQLValue: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// An INTEGER (also booleans, as 0 and 1).
    case integer(Int64)
    /// A REAL.
    case real(Double)
    /// TEXT (also dates, as ISO 8601, and nested values, as JSON).
    case text(String)
    /// A BLOB.
    case blob([UInt8])

    /// The value as JSON, the form rows are decoded from.
    public var json: JSONValue {
        switch self {
        case .null: .null
        case .integer(let value): .int(value)
        case .real(let value): .double(value)
        case .text(let value): .string(value)
        case .blob(let bytes): .string(Data(bytes).base64EncodedString())
        }
    }

    /// The column value for a JSON value: nested arrays and objects are stored as JSON text.
    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let flag): self = .integer(flag ? 1 : 0)
        case .int(let value): self = .integer(value)
        case .double(let value): self = .real(value)
        case .string(let value): self = .text(value)
        case .array, .object: self = .text(String(decoding: json.jsonData(), as: UTF8.self))
        }
    }
}

/// A Swift value that can be bound as a SQL argument.
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .real(self) } }
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension Date: SQLBindable { public var sqlValue: SQLValue { .text(Timestamp.string(from: self)) } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    /// nil binds as NULL.
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// Statements run on one connection, inside a ``Database/read(_:)`` or ``Database/write(_:)`` block.
///
/// Write portable SQL: `?` placeholders, standard types (INTEGER, REAL, TEXT, BLOB), `ON CONFLICT` and
/// `RETURNING`, so the same statements run on SQLite and PostgreSQL.
public protocol SQLConnection {
    /// Runs a statement that returns no rows and answers how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int
    /// Runs a query and decodes each row as `Row`, matching columns to coding keys by name.
    func query<Row: Decodable>(_ type: Row.Type, _ sql: String, _ arguments: [any SQLBindable]) throws -> [Row]
    /// Runs a query and answers its rows as raw column values.
    func rows(_ sql: String, _ arguments: [any SQLBindable]) throws -> [[String: SQLValue]]
}

extension SQLConnection {
    /// The first row of a query, or nil.
    public func queryOne<Row: Decodable>(_ type: Row.Type, _ sql: String, _ arguments: [any SQLBindable] = []) throws -> Row? {
        try query(type, sql, arguments).first
    }

    /// The first column of the first row as an integer (`SELECT COUNT(*) ...`), or nil.
    public func scalar(_ sql: String, _ arguments: [any SQLBindable] = []) throws -> Int64? {
        guard let row = try rows(sql, arguments).first, let value = row.values.first else { return nil }
        if case .integer(let number) = value { return number }
        return nil
    }
}

/// The host's database: a pool of connections with serialised, transactional writes.
public protocol Database: Sendable {
    /// Runs `body` on a read-only connection. Reads run concurrently with each other and with a write.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
}

extension Database {
    /// Runs one query in a read.
    public func query<Row: Decodable & Sendable>(
        _ type: Row.Type, _ sql: String, _ arguments: [any SQLBindable] = []
    ) async throws -> [Row] {
        try await read { try $0.query(type, sql, arguments) }
    }

    /// Runs one statement in its own transaction and answers the number of changed rows.
    @discardableResult
    public func execute(_ sql: String, _ arguments: [any SQLBindable] = []) async throws -> Int {
        try await write { try $0.execute(sql, arguments) }
    }
}

/// One versioned schema change of the host or a cog.
public struct Migration: Sendable {
    /// Unique within its owner and ordered: `"001_create_tickets"`. Applied migrations are recorded by id.
    public var id: String
    /// The statements, run in one transaction. Separate several statements with semicolons.
    public var sql: String

    /// Migration `id` running `sql`.
    public init(_ id: String, _ sql: String) {
        self.id = id
        self.sql = sql
    }
}
