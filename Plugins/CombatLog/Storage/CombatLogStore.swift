import Foundation
import PluginAPI

/// The cog's queries. Every method takes the guild it works in and puts it in its WHERE clause: no statement here
/// can read or change another guild's rows.
struct CombatLogStore: Sendable {
    let database: any Database

    /// A LIKE pattern matching text that contains `text` literally (its `%`, `_` and `\\` escaped with `\\`).
    static func containing(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        return "%" + escaped + "%"
    }

    // MARK: Encounters

    /// Stores one parsed encounter, its characters (created or updated) and their figures in one transaction;
    /// answers the encounter's id.
    func store(_ encounter: ParsedEncounter, characters: [String: ParsedCharacter], guild: Int64, upload: String) async throws -> Int64 {
        let start = Date(timeIntervalSince1970: Double(encounter.startTime) / 1000)
        let dialect = database.dialect
        return try await database.write { connection in
            let totalDamage = encounter.characters.reduce(0) { $0 + $1.damageDone }
            let totalHealing = encounter.characters.reduce(0) { $0 + $1.healingDone + $1.absorbsDone }
            let deaths = encounter.characters.reduce(0) { $0 + $1.deaths }
            guard
                let id = try connection.scalar(
                    """
                    INSERT INTO combatlog_encounters (guild_id, upload_id, encounter_id, boss_name, instance_id, instance_name,
                        difficulty_id, difficulty, group_size, success, complete, start_time, duration_ms, events, total_damage,
                        total_healing, deaths) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                    """,
                    [guild, upload, encounter.encounterID, encounter.bossName, encounter.instanceID, encounter.instanceName,
                     encounter.difficultyID, encounter.difficulty, encounter.groupSize, encounter.success, encounter.complete, start,
                     encounter.durationMs, encounter.events, totalDamage, totalHealing, deaths])
            else { throw APIError(.internalServerError, "internal_error", "The encounter was not stored.") }
            var characterIDs: [String: Int64] = [:]
            for metrics in encounter.characters {
                let character = characters[metrics.guid]
                guard
                    let characterID = try connection.scalar(
                        """
                        INSERT INTO combatlog_characters (guild_id, guid, name, class, spec, spec_id, first_seen, last_seen)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (guild_id, guid) DO UPDATE SET
                            name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE name END,
                            class = COALESCE(excluded.class, class), spec = COALESCE(excluded.spec, spec),
                            spec_id = COALESCE(excluded.spec_id, spec_id),
                            last_seen = \(dialect.greatest("last_seen", "excluded.last_seen")),
                            first_seen = \(dialect.least("first_seen", "excluded.first_seen"))
                        RETURNING id
                        """,
                        [guild, metrics.guid, character?.name ?? "", character?.className, character?.spec, character?.specID, start, start])
                else { continue }
                try connection.execute(
                    """
                    INSERT INTO combatlog_metrics (guild_id, encounter_id, character_id, damage_done, healing_done, overhealing,
                        absorbs_done, damage_taken, deaths, active_time_ms, dps, hps) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [guild, id, characterID, metrics.damageDone, metrics.healingDone, metrics.overhealing, metrics.absorbsDone,
                     metrics.damageTaken, metrics.deaths, metrics.activeTimeMs, metrics.dps, metrics.hps])
                characterIDs[metrics.guid] = characterID
            }
            try Self.store(encounter.breakdowns, of: id, characters: characterIDs, guild: guild, connection)
            return id
        }
    }

    private static func store(
        _ breakdowns: EncounterBreakdowns, of encounter: Int64, characters: [String: Int64], guild: Int64, _ connection: any SQLConnection
    ) throws {
        for ability in breakdowns.abilities {
            guard let character = characters[ability.guid] else { continue }
            try connection.execute(
                """
                INSERT INTO combatlog_abilities (guild_id, encounter_id, character_id, kind, spell_id, spell_name, school, pet, hits,
                    crits, total, overkill, absorbed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [guild, encounter, character, ability.kind, ability.spellID, ability.spellName, ability.school, ability.pet, ability.hits,
                 ability.crits, ability.total, ability.overkill, ability.absorbed])
        }
        for death in breakdowns.deaths {
            guard let character = characters[death.guid] else { continue }
            try connection.execute(
                """
                INSERT INTO combatlog_deaths (guild_id, encounter_id, character_id, at_ms, killing_blow, events, resurrected_by,
                    resurrected_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [guild, encounter, character, death.atMs, try death.killingBlow.map(Self.json), try Self.json(death.events),
                 death.resurrectedBy, death.resurrectedAtMs])
        }
        for record in breakdowns.interrupts {
            guard let character = characters[record.guid] else { continue }
            try connection.execute(
                """
                INSERT INTO combatlog_interrupts (guild_id, encounter_id, character_id, kind, spell_id, spell_name, extra_spell_id,
                    extra_spell_name, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [guild, encounter, character, record.kind, record.spellID, record.spellName, record.extraSpellID, record.extraSpellName,
                 record.count])
        }
        let series = [(Int64(0), breakdowns.timeline.raid)] + breakdowns.timeline.characters.compactMap { guid, series in
            characters[guid].map { ($0, series) }
        }
        for (character, line) in series {
            try connection.execute(
                "INSERT INTO combatlog_timelines (guild_id, encounter_id, character_id, damage, healing) VALUES (?, ?, ?, ?, ?)",
                [guild, encounter, character, try Self.json(line.damage), try Self.json(line.healing)])
        }
    }

    private static func json(_ value: some Encodable) throws -> String {
        String(decoding: try JSONValue(encoding: value).jsonData(), as: UTF8.self)
    }

    /// The tables holding figures of encounters, each with `guild_id` and `encounter_id`: what goes when encounters go.
    static let figureTables = ["combatlog_metrics", "combatlog_abilities", "combatlog_deaths", "combatlog_interrupts", "combatlog_timelines"]

    /// Deletes the figures of `guild`'s encounters matching `condition` (on `combatlog_encounters`), then the
    /// encounters; answers how many encounters went.
    static func deleteEncounters(guild: Int64, where condition: String, _ arguments: [any SQLBindable], _ connection: any SQLConnection) throws -> Int {
        for table in figureTables {
            try connection.execute(
                "DELETE FROM \(table) WHERE guild_id = ? AND encounter_id IN (SELECT id FROM combatlog_encounters WHERE guild_id = ? AND \(condition))",
                [guild, guild] + arguments)
        }
        return try connection.execute("DELETE FROM combatlog_encounters WHERE guild_id = ? AND \(condition)", [guild] + arguments)
    }

    /// Filters of the encounter listing.
    struct EncounterFilter: Sendable {
        var bossName: String?
        var bossNameContains: String?
        var difficulty: String?
        var success: Bool?
        var from: Date?
        var to: Date?

        var sql: (clause: String, arguments: [any SQLBindable]) {
            var clauses: [String] = []
            var arguments: [any SQLBindable] = []
            if let bossName {
                clauses.append("boss_name = ?")
                arguments.append(bossName)
            }
            if let bossNameContains {
                clauses.append("boss_name LIKE ? ESCAPE '\\'")
                arguments.append(CombatLogStore.containing(bossNameContains))
            }
            if let difficulty {
                if let id = Int64(difficulty) {
                    clauses.append("difficulty_id = ?")
                    arguments.append(id)
                } else {
                    clauses.append("difficulty = ? COLLATE NOCASE")
                    arguments.append(difficulty)
                }
            }
            if let success {
                clauses.append("success = ?")
                arguments.append(success)
            }
            if let from {
                clauses.append("start_time >= ?")
                arguments.append(from)
            }
            if let to {
                clauses.append("start_time <= ?")
                arguments.append(to)
            }
            return (clauses.map { " AND " + $0 }.joined(), arguments)
        }
    }

    func encounters(guild: Int64, filter: EncounterFilter, limit: Int, offset: Int) async throws -> (rows: [JSONValue], total: Int) {
        let (clause, arguments) = filter.sql
        return try await database.read { connection in
            let total = try connection.scalar(
                "SELECT COUNT(*) FROM combatlog_encounters WHERE guild_id = ?\(clause)", [guild] + arguments) ?? 0
            let rows = try connection.rows(
                "SELECT * FROM combatlog_encounters WHERE guild_id = ?\(clause) ORDER BY start_time DESC, id DESC LIMIT ? OFFSET ?",
                [guild] + arguments + [limit, offset])
            return (rows.map(EncounterJSON.from), Int(total))
        }
    }

    func encounter(_ id: Int64, guild: Int64) async throws -> (JSONValue, [MetricsRow])? {
        try await database.read { connection in
            guard
                let encounter = try connection.rows("SELECT * FROM combatlog_encounters WHERE guild_id = ? AND id = ?", [guild, id])
                    .first.map(EncounterJSON.from)
            else { return nil }
            let metrics = try connection.query(
                MetricsRow.self,
                """
                SELECT m.*, c.name, c.class, c.spec, c.spec_id FROM combatlog_metrics m
                JOIN combatlog_characters c ON c.guild_id = m.guild_id AND c.id = m.character_id
                WHERE m.guild_id = ? AND m.encounter_id = ? ORDER BY m.damage_done DESC
                """, [guild, id])
            return (encounter, metrics)
        }
    }

    struct Statistics: Codable, Sendable {
        var totalEncounters: Int64
        var kills: Int64
        var wipes: Int64
        var uniqueBosses: Int64
        var activeCharacters: Int64
        var lastActivity: Date?

        enum CodingKeys: String, CodingKey {
            case kills, wipes
            case totalEncounters = "total_encounters", uniqueBosses = "unique_bosses", activeCharacters = "active_characters"
            case lastActivity = "last_activity"
        }
    }

    func statistics(guild: Int64) async throws -> Statistics {
        try await database.read { connection in
            let counts = try connection.rows(
                """
                SELECT COUNT(*) AS total, COALESCE(SUM(success), 0) AS kills, COUNT(DISTINCT boss_name) AS bosses,
                    MAX(start_time) AS last FROM combatlog_encounters WHERE guild_id = ?
                """, [guild]).first ?? [:]
            let characters = try connection.scalar("SELECT COUNT(*) FROM combatlog_characters WHERE guild_id = ?", [guild]) ?? 0
            func integer(_ key: String) -> Int64 { if case .integer(let value)? = counts[key] { value } else { 0 } }
            var last: Date?
            if case .text(let text)? = counts["last"] { last = Timestamp.date(from: text) }
            return Statistics(
                totalEncounters: integer("total"), kills: integer("kills"), wipes: integer("total") - integer("kills"),
                uniqueBosses: integer("bosses"), activeCharacters: characters, lastActivity: last)
        }
    }

    func characters(guild: Int64, nameContains: String?, limit: Int, offset: Int) async throws -> (rows: [CharacterRow], total: Int) {
        let (clause, arguments): (String, [any SQLBindable]) =
            nameContains.map { (" AND name LIKE ? ESCAPE '\\'", [Self.containing($0)]) } ?? ("", [])
        return try await database.read { connection in
            let total = try connection.scalar("SELECT COUNT(*) FROM combatlog_characters WHERE guild_id = ?\(clause)", [guild] + arguments) ?? 0
            let rows = try connection.query(
                CharacterRow.self,
                "SELECT * FROM combatlog_characters WHERE guild_id = ?\(clause) ORDER BY name, id LIMIT ? OFFSET ?",
                [guild] + arguments + [limit, offset])
            return (rows, Int(total))
        }
    }

    func character(_ id: Int64, guild: Int64, limit: Int) async throws -> (CharacterRow, [MetricsRow])? {
        try await database.read { connection in
            guard
                let character = try connection.queryOne(
                    CharacterRow.self, "SELECT * FROM combatlog_characters WHERE guild_id = ? AND id = ?", [guild, id])
            else { return nil }
            let history = try connection.query(
                MetricsRow.self,
                """
                SELECT m.*, e.boss_name, e.difficulty, e.success, e.start_time FROM combatlog_metrics m
                JOIN combatlog_encounters e ON e.guild_id = m.guild_id AND e.id = m.encounter_id
                WHERE m.guild_id = ? AND m.character_id = ? ORDER BY e.start_time DESC LIMIT ?
                """, [guild, id, limit])
            return (character, history)
        }
    }

    /// Encounters per day over the last `days`: count, distinct bosses and minutes fought.
    func activity(guild: Int64, days: Int) async throws -> [JSONValue] {
        let since = Date().addingTimeInterval(-Double(days) * 86_400)
        let rows = try await database.read { connection in
            try connection.rows(
                """
                SELECT substr(start_time, 1, 10) AS date, COUNT(*) AS encounters, COUNT(DISTINCT boss_name) AS unique_bosses,
                    SUM(duration_ms) AS duration_ms, COALESCE(SUM(success), 0) AS kills
                FROM combatlog_encounters WHERE guild_id = ? AND start_time >= ? GROUP BY date ORDER BY date
                """, [guild, since])
        }
        return rows.map { row in
            var minutes = 0.0
            if case .integer(let ms)? = row["duration_ms"] { minutes = (Double(ms) / 60_000 * 10).rounded() / 10 }
            return [
                "date": row["date"]?.json ?? .null, "encounters": row["encounters"]?.json ?? 0,
                "unique_bosses": row["unique_bosses"]?.json ?? 0, "kills": row["kills"]?.json ?? 0, "minutes": .double(minutes),
            ]
        }
    }

    /// Per guild (one, or every guild that uploaded): encounters, characters, uploads and the last activity.
    func overview(guild: Int64?) async throws -> [JSONValue] {
        let (clause, arguments): (String, [any SQLBindable]) = guild.map { (" WHERE u.guild_id = ?", [$0]) } ?? ("", [])
        let rows = try await database.read { connection in
            try connection.rows(
                """
                SELECT u.guild_id, (SELECT guild_name FROM combatlog_uploads x WHERE x.guild_id = u.guild_id
                        ORDER BY created_at DESC LIMIT 1) AS guild_name,
                    COUNT(*) AS uploads,
                    (SELECT COUNT(*) FROM combatlog_encounters e WHERE e.guild_id = u.guild_id) AS encounters,
                    (SELECT COUNT(*) FROM combatlog_characters c WHERE c.guild_id = u.guild_id) AS characters,
                    (SELECT MAX(start_time) FROM combatlog_encounters e WHERE e.guild_id = u.guild_id) AS last_activity
                FROM combatlog_uploads u\(clause) GROUP BY u.guild_id ORDER BY u.guild_id
                """, arguments)
        }
        return rows.map { .object($0.mapValues(\.json)) }
    }

    /// Deletes `guild`'s encounters (and their figures) that started before `cutoff`; answers how many.
    func purge(guild: Int64, before cutoff: Date) async throws -> Int {
        try await database.write { connection in
            try Self.deleteEncounters(guild: guild, where: "start_time < ?", [cutoff], connection)
        }
    }
}
