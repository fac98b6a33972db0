import Foundation
import GRDB
import PluginAPI

/// The embedded database: SQLite in WAL mode through a GRDB pool (concurrent reads, one writer).
public final class SQLiteDatabase: PluginAPI.Database {
    let pool: DatabasePool
    /// The file the database lives in.
    public let path: String
    /// SQLite.
    public var dialect: SQLDialect { .sqlite }

    /// Opens (creating if needed) the database at `path`, creating its folder too.
    public init(path: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // NORMAL is durable in WAL mode except against power loss of the last transactions; it avoids an fsync
            // per commit.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        self.pool = try DatabasePool(path: path, configuration: configuration)
        self.path = path
        // The owner's alone: external cogs run as other users beside it (SQLite gives its -wal and -shm files the
        // main file's mode).
        for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.read { db in try body(GRDBConnection(db: db)) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.write { db in try body(GRDBConnection(db: db)) }
    }

    /// Copies the live database to `destination` with SQLite's online backup: consistent while the service runs.
    public func backup(to destination: String) throws {
        let target = try DatabaseQueue(path: destination)
        try pool.backup(to: target)
        try target.close()
    }

    /// Checkpoints the WAL and closes every connection.
    public func close() throws {
        pool.writeWithoutTransaction { db in _ = try? db.checkpoint(.truncate) }
        try pool.close()
    }
}

/// One GRDB connection seen through the host's `SQLConnection`.
struct GRDBConnection: SQLConnection {
    let db: GRDB.Database

    func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int {
        if sql.contains(";") {
            // Several statements (a migration): run as a script.
            try db.execute(sql: sql, arguments: Self.arguments(arguments))
        } else {
            // One statement: prepared once per connection and reused.
            try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
        }
        return db.changesCount
    }

    func query<Row: Decodable>(_ type: Row.Type, _ sql: String, _ arguments: [any SQLBindable]) throws -> [Row] {
        let decoder = JSONValueDecoder()
        return try rows(sql, arguments).map { columns in
            try decoder.decode(Row.self, from: .object(columns.mapValues(\.json)))
        }
    }

    func rows(_ sql: String, _ arguments: [any SQLBindable]) throws -> [[String: SQLValue]] {
        let cursor = try GRDB.Row.fetchCursor(db.cachedStatement(sql: sql), arguments: Self.arguments(arguments))
        var result: [[String: SQLValue]] = []
        while let row = try cursor.next() {
            var columns: [String: SQLValue] = [:]
            columns.reserveCapacity(row.count)
            for (name, value) in row {
                columns[name] = Self.value(value)
            }
            result.append(columns)
        }
        return result
    }

    static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .integer(number)
        case .double(let number): .real(number)
        case .string(let text): .text(text)
        case .blob(let data): .blob([UInt8](data))
        }
    }

    static func arguments(_ values: [any SQLBindable]) -> StatementArguments {
        StatementArguments(values.map { value -> (any DatabaseValueConvertible)? in
            switch value.sqlValue {
            case .null: nil
            case .integer(let number): number
            case .real(let number): number
            case .text(let text): text
            case .blob(let bytes): Data(bytes)
            }
        })
    }
}
