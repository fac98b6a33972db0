import Foundation
import PluginAPI
import Synchronization

/// Which cogs each guild has switched off. A loaded cog is on for every guild until switched off; the table is kept
/// in memory (it is read on every request, event and task run) and written through to `guild_cogs`.
public final class GuildCogSwitches: Sendable {
    private struct Key: Hashable {
        let guild: Int64
        let cog: String
    }

    private let database: any PluginAPI.Database
    private let off: Mutex<Set<Key>>

    /// Reads the stored switches.
    init(database: any PluginAPI.Database) async throws {
        self.database = database
        let rows = try await database.read { try $0.rows("SELECT guild_id, cog FROM guild_cogs WHERE enabled = 0", []) }
        off = Mutex(Set(rows.compactMap { row in
            guard case .integer(let guild)? = row["guild_id"], case .text(let cog)? = row["cog"] else { return nil }
            return Key(guild: guild, cog: cog)
        }))
    }

    /// Whether `cog` is switched off for `guild`.
    public func isOff(_ cog: String, for guild: Int64) -> Bool {
        off.withLock { $0.contains(Key(guild: guild, cog: cog)) }
    }

    /// The cogs `guild` has switched off.
    /// Drops what is held in memory for `guild` (its rows are gone: a failed import was undone).
    func forget(_ guild: Int64) {
        off.withLock { $0 = $0.filter { $0.guild != guild } }
    }

    func offCogs(of guild: Int64) -> Set<String> {
        off.withLock { Set($0.filter { $0.guild == guild }.map(\.cog)) }
    }

    /// Switches `cog` on or off for `guild`, stored before it takes effect.
    func set(_ cog: String, on: Bool, for guild: Int64, by actor: String) async throws {
        try await database.execute(
            """
            INSERT INTO guild_cogs (guild_id, cog, enabled, changed_by, changed_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (guild_id, cog) DO UPDATE SET enabled = excluded.enabled, changed_by = excluded.changed_by,
                changed_at = excluded.changed_at
            """, [guild, cog, on, actor, Date()])
        off.withLock { table in
            if on { table.remove(Key(guild: guild, cog: cog)) } else { table.insert(Key(guild: guild, cog: cog)) }
        }
    }
}
