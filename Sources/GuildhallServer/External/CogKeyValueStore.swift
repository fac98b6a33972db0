import Foundation
import PluginAPI

/// The key-value store external cogs reach through their callbacks: a namespace per cog (a cog never sees another's
/// keys) and per guild, values of JSON, a version per key for compare-and-set, and an optional expiry.
struct CogKeyValueStore: Sendable {
    let database: any PluginAPI.Database

    /// One stored key.
    struct Item: Encodable, Sendable, Equatable {
        var key: String
        var value: JSONValue
        var version: Int64
        var expiresAt: Date?

        enum CodingKeys: String, CodingKey {
            case key, value, version
            case expiresAt = "expires_at"
        }
    }

    /// The largest value stored, as JSON text.
    static let maxValueBytes = 64 << 10
    static let maxKeyLength = 200

    static func check(key: String) throws {
        guard !key.isEmpty, key.utf8.count <= maxKeyLength else {
            throw APIError(.badRequest, "invalid_key", "A key is 1 to \(maxKeyLength) bytes.")
        }
    }

    func get(cog: String, guild: Int64, key: String) async throws -> Item? {
        try Self.check(key: key)
        let now = Date().timeIntervalSince1970
        return try await database.read { connection in
            try connection.rows(
                "SELECT key, value, version, expires_at FROM cog_kv WHERE cog = ? AND guild_id = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)",
                [cog, guild, key, now]
            ).first.flatMap(Self.item)
        }
    }

    /// Keys starting with `prefix`, in order, at most `limit`.
    func list(cog: String, guild: Int64, prefix: String, limit: Int) async throws -> [Item] {
        let now = Date().timeIntervalSince1970
        let pattern = prefix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
        return try await database.read { connection in
            try connection.rows(
                """
                SELECT key, value, version, expires_at FROM cog_kv WHERE cog = ? AND guild_id = ? AND key LIKE ? ESCAPE '\\'
                AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?
                """, [cog, guild, pattern, now, limit]
            ).compactMap(Self.item)
        }
    }

    /// The expiries a value may have: dates past ten years are neither useful nor safe to compute with.
    static let ttlRange: ClosedRange<Double> = 0.001...315_360_000

    /// Stores `value`; with `expectedVersion`, only if the key is at that version now (0: only if it does not exist),
    /// else 409 `version_conflict` with the current version. Answers the stored item.
    func put(
        cog: String, guild: Int64, key: String, value: JSONValue, expectedVersion: Int64?, ttl: Double?
    ) async throws -> Item {
        try Self.check(key: key)
        let text = String(decoding: value.jsonData(), as: UTF8.self)
        guard text.utf8.count <= Self.maxValueBytes else {
            throw APIError(.contentTooLarge, "value_too_large", "A value is at most \(Self.maxValueBytes) bytes of JSON.")
        }
        if let ttl, !Self.ttlRange.contains(ttl) {
            throw APIError(
                .badRequest, "invalid_field", "ttl_seconds must be from 0.001 to \(Int(Self.ttlRange.upperBound)) (ten years).",
                details: ["field": "ttl_seconds"])
        }
        let now = Date()
        let expiresAt = ttl.map { now.addingTimeInterval($0) }
        return try await database.write { connection in
            let version = try Self.version(of: key, cog: cog, guild: guild, in: connection, at: now)
            try Self.expect(expectedVersion, of: key, at: version)
            let next = version + 1
            _ = try connection.execute(
                """
                INSERT INTO cog_kv (cog, guild_id, key, value, version, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (cog, guild_id, key) DO UPDATE SET value = excluded.value, version = excluded.version,
                    expires_at = excluded.expires_at, updated_at = excluded.updated_at
                """, [cog, guild, key, text, next, expiresAt?.timeIntervalSince1970, Timestamp.string(from: now)])
            return Item(key: key, value: value, version: next, expiresAt: expiresAt)
        }
    }

    /// Deletes `key` (with `expectedVersion`, only at that version), in one transaction; answers whether it was there.
    func delete(cog: String, guild: Int64, key: String, expectedVersion: Int64?) async throws -> Bool {
        try Self.check(key: key)
        let now = Date()
        return try await database.write { connection in
            let version = try Self.version(of: key, cog: cog, guild: guild, in: connection, at: now)
            try Self.expect(expectedVersion, of: key, at: version)
            guard version > 0 else { return false }
            return try connection.execute("DELETE FROM cog_kv WHERE cog = ? AND guild_id = ? AND key = ?", [cog, guild, key]) > 0
        }
    }

    /// 409 `version_conflict` unless the caller expects no version or `version`.
    private static func expect(_ expected: Int64?, of key: String, at version: Int64) throws {
        guard let expected, expected != version else { return }
        throw APIError(
            .conflict, "version_conflict", "The key is at version \(version), not \(expected).",
            details: ["key": .string(key), "version": .int(version)])
    }

    /// The key's version now: 0 when it does not exist or has expired.
    private static func version(of key: String, cog: String, guild: Int64, in connection: any SQLConnection, at now: Date) throws -> Int64 {
        let row = try connection.rows(
            "SELECT version FROM cog_kv WHERE cog = ? AND guild_id = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)",
            [cog, guild, key, now.timeIntervalSince1970]
        ).first
        if case .integer(let version)? = row?["version"] { return version }
        return 0
    }

    /// Removes expired keys (called now and then; reads already ignore them).
    func purgeExpired() async throws {
        let now = Date().timeIntervalSince1970
        _ = try await database.write { connection in
            try connection.execute("DELETE FROM cog_kv WHERE expires_at IS NOT NULL AND expires_at <= ?", [now])
        }
    }

    private static func item(_ row: [String: SQLValue]) -> Item? {
        guard case .text(let key)? = row["key"], case .text(let text)? = row["value"], case .integer(let version)? = row["version"],
            let value = try? JSONValue.parse(Data(text.utf8))
        else { return nil }
        var expiresAt: Date?
        switch row["expires_at"] {
        case .real(let at)?: expiresAt = Date(timeIntervalSince1970: at)
        case .integer(let at)?: expiresAt = Date(timeIntervalSince1970: Double(at))
        default: break
        }
        return Item(key: key, value: value, version: version, expiresAt: expiresAt)
    }
}
