import Foundation
import PluginAPI
import Synchronization

/// Guild config overlays: a guild's own values for some keys of a cog's section, laid over the deployment's
/// value and validated by the same section type. Kept in memory and written through to `guild_config`.
public final class GuildConfigOverlays: Sendable {
    private let database: any PluginAPI.Database
    private let store: ConfigStore
    private let overlays: Mutex<[Int64: [String: JSONValue]]>

    init(database: any PluginAPI.Database, store: ConfigStore) async throws {
        self.database = database
        self.store = store
        let rows = try await database.read { try $0.rows("SELECT guild_id, section, value FROM guild_config", []) }
        var overlays: [Int64: [String: JSONValue]] = [:]
        for row in rows {
            guard case .integer(let guild)? = row["guild_id"], case .text(let section)? = row["section"],
                case .text(let text)? = row["value"], let value = try? JSONValue.parse(Data(text.utf8))
            else { continue }
            overlays[guild, default: [:]][section] = value
        }
        self.overlays = Mutex(overlays)
    }

    /// The guild's own values for `section` (an empty object when it has none).
    /// Drops what is held in memory for `guild` (its rows are gone: a failed import was undone).
    func forget(_ guild: Int64) {
        _ = overlays.withLock { $0.removeValue(forKey: guild) }
    }

    func overlay(of section: String, for guild: Int64) -> JSONValue {
        overlays.withLock { $0[guild]?[section] } ?? .object([:])
    }

    /// The section's value for `guild`: the deployment's with the overlay laid over it. If a later change of the
    /// deployment's value made the overlay invalid, the deployment's value is used.
    func effective(_ section: String, for guild: Int64) throws -> JSONValue {
        try (try? store.validate(section, value: overlay(of: section, for: guild))) ?? store.validate(section, value: .object([:]))
    }

    /// Replaces `guild`'s overlay of `section` with `overlay` (an object; `{}` removes it) after validating the
    /// result; answers the effective value.
    func set(_ section: String, overlay: JSONValue, for guild: Int64, by actor: String) async throws -> JSONValue {
        guard case .object(var members) = overlay else {
            throw APIError(.badRequest, "invalid_config", "A guild's overlay is an object of the section's keys.")
        }
        // A masked secret sent back unchanged keeps the guild's own secret (or none).
        let secretKeys = store.sections[section]?.secretKeys ?? []
        for key in secretKeys where members[key] == .string(ConfigStore.mask) {
            members[key] = self.overlay(of: section, for: guild)[key]
        }
        let overlay = JSONValue.object(members)
        let effective = try store.validate(section, value: overlay)
        if members.isEmpty {
            try await database.execute("DELETE FROM guild_config WHERE guild_id = ? AND section = ?", [guild, section])
        } else {
            try await database.execute(
                """
                INSERT INTO guild_config (guild_id, section, value, changed_by, changed_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (guild_id, section) DO UPDATE SET value = excluded.value, changed_by = excluded.changed_by,
                    changed_at = excluded.changed_at
                """, [guild, section, String(decoding: overlay.jsonData(), as: UTF8.self), actor, Date()])
        }
        overlays.withLock { $0[guild, default: [:]][section] = members.isEmpty ? nil : overlay }
        return effective
    }
}
