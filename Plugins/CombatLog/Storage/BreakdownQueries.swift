import Foundation
import PluginAPI

/// The breakdowns of one encounter, read for the breakdown routes.
extension CombatLogStore {
    /// The encounter's ability rows: one character's (a character id) or everyone's, of one kind or all.
    func abilities(of encounter: Int64, guild: Int64, character: Int64?, kind: String?) async throws -> [[String: SQLValue]] {
        var sql = """
            SELECT a.character_id, c.name, a.kind, a.spell_id, a.spell_name, a.school, a.pet, a.hits, a.crits, a.total, a.overkill,
                a.absorbed FROM combatlog_abilities a
            JOIN combatlog_characters c ON c.guild_id = a.guild_id AND c.id = a.character_id
            WHERE a.guild_id = ? AND a.encounter_id = ?
            """
        var arguments: [any SQLBindable] = [guild, encounter]
        if let character { sql += " AND a.character_id = ?"; arguments.append(character) }
        if let kind { sql += " AND a.kind = ?"; arguments.append(kind) }
        sql += " ORDER BY a.character_id, a.kind, a.total DESC, a.spell_id"
        return try await database.read { [sql, arguments] connection in try connection.rows(sql, arguments) }
    }

    func deaths(of encounter: Int64, guild: Int64) async throws -> [[String: SQLValue]] {
        try await database.read { connection in
            try connection.rows(
                """
                SELECT d.character_id, c.name, d.at_ms, d.killing_blow, d.events, d.resurrected_by, d.resurrected_at_ms
                FROM combatlog_deaths d JOIN combatlog_characters c ON c.guild_id = d.guild_id AND c.id = d.character_id
                WHERE d.guild_id = ? AND d.encounter_id = ? ORDER BY d.at_ms, d.character_id
                """, [guild, encounter])
        }
    }

    func interrupts(of encounter: Int64, guild: Int64) async throws -> [[String: SQLValue]] {
        try await database.read { connection in
            try connection.rows(
                """
                SELECT i.character_id, c.name, i.kind, i.spell_id, i.spell_name, i.extra_spell_id, i.extra_spell_name, i.count
                FROM combatlog_interrupts i JOIN combatlog_characters c ON c.guild_id = i.guild_id AND c.id = i.character_id
                WHERE i.guild_id = ? AND i.encounter_id = ? ORDER BY i.character_id, i.kind, i.count DESC
                """, [guild, encounter])
        }
    }

    /// The raid's series (character 0) or one character's.
    func timeline(of encounter: Int64, guild: Int64, character: Int64) async throws -> [String: SQLValue]? {
        try await database.read { connection in
            try connection.rows(
                "SELECT damage, healing FROM combatlog_timelines WHERE guild_id = ? AND encounter_id = ? AND character_id = ?",
                [guild, encounter, character]
            ).first
        }
    }

    /// Whether `guild` has encounter `id`.
    func hasEncounter(_ id: Int64, guild: Int64) async throws -> Bool {
        try await database.read { connection in
            try connection.scalar("SELECT COUNT(*) FROM combatlog_encounters WHERE guild_id = ? AND id = ?", [guild, id]) == 1
        }
    }
}
