import Foundation
import PluginAPI

/// One guild's combat log rows as JSON, and back into another guild (of this deployment or another): uploads,
/// characters, encounters and every figure, with characters and encounters given ids of their own where they land.
extension CombatLogStore {
    /// The columns of each table, as the schema has them (`guild_id` aside): what is exported, and all an import
    /// writes — a key in a file that is not a column here is ignored.
    static let transferColumns: [(table: String, columns: [String])] = [
        ("combatlog_uploads", ["id", "guild_name", "key_id", "uploaded_by", "file_name", "bytes", "status", "progress", "bytes_parsed",
                               "events", "encounters", "summary", "error", "created_at", "finished_at"]),
        ("combatlog_characters", ["id", "guid", "name", "class", "spec", "spec_id", "first_seen", "last_seen"]),
        ("combatlog_encounters", ["id", "upload_id", "encounter_id", "boss_name", "instance_id", "instance_name", "difficulty_id",
                                  "difficulty", "group_size", "success", "complete", "start_time", "duration_ms", "events",
                                  "total_damage", "total_healing", "deaths"]),
        ("combatlog_metrics", ["encounter_id", "character_id", "damage_done", "healing_done", "overhealing", "absorbs_done",
                               "damage_taken", "deaths", "active_time_ms", "dps", "hps"]),
        ("combatlog_abilities", ["encounter_id", "character_id", "kind", "spell_id", "spell_name", "school", "pet", "hits", "crits",
                                 "total", "overkill", "absorbed"]),
        ("combatlog_deaths", ["encounter_id", "character_id", "at_ms", "killing_blow", "events", "resurrected_by", "resurrected_at_ms"]),
        ("combatlog_interrupts", ["encounter_id", "character_id", "kind", "spell_id", "spell_name", "extra_spell_id",
                                  "extra_spell_name", "count"]),
        ("combatlog_timelines", ["encounter_id", "character_id", "damage", "healing"]),
    ]

    func exportGuild(_ guild: Int64) async throws -> JSONValue {
        try await database.read { connection in
            var tables: [String: JSONValue] = [:]
            for (table, columns) in Self.transferColumns {
                let rows = try connection.rows("SELECT \(columns.joined(separator: ", ")) FROM \(table) WHERE guild_id = ?", [guild])
                tables[table] = .array(rows.map { .object($0.mapValues(\.json)) })
            }
            return .object(tables)
        }
    }

    /// Stores an export into `guild` in one transaction: characters (matched by GUID when the guild has them),
    /// encounters, then the figures with their new ids. Uploads keep their ids; one this deployment has already is
    /// left as it is.
    func importGuild(_ data: JSONValue, into guild: Int64, name: String) async throws {
        let dialect = database.dialect
        try await database.write { connection in
            var characterIDs: [Int64: Int64] = [0: 0]  // 0: the raid's timeline
            var encounterIDs: [Int64: Int64] = [:]
            for (table, columns) in Self.transferColumns {
                for row in data[table]?.arrayValue ?? [] {
                    guard case .object(var values) = row else { continue }
                    let oldID = values["id"]?.intValue
                    switch table {
                    case "combatlog_uploads":
                        values["guild_name"] = .string(name)
                    case "combatlog_characters", "combatlog_encounters":
                        values["id"] = nil
                    default:
                        guard let encounter = values["encounter_id"]?.intValue.flatMap({ encounterIDs[$0] }),
                            let character = values["character_id"]?.intValue.flatMap({ characterIDs[$0] })
                        else { continue }
                        values["encounter_id"] = .int(encounter)
                        values["character_id"] = .int(character)
                    }
                    let present = columns.filter { values[$0] != nil }
                    let names = (["guild_id"] + present).joined(separator: ", ")
                    let marks = Array(repeating: "?", count: present.count + 1).joined(separator: ", ")
                    let arguments: [any SQLBindable] = [guild] + present.map { SQLValue(values[$0]!) }
                    switch table {
                    case "combatlog_uploads":
                        try connection.execute("INSERT INTO \(table) (\(names)) VALUES (\(marks)) ON CONFLICT DO NOTHING", arguments)
                    case "combatlog_characters":
                        let id = try connection.scalar(
                            """
                            INSERT INTO \(table) (\(names)) VALUES (\(marks))
                            ON CONFLICT (guild_id, guid) DO UPDATE SET
                                last_seen = \(dialect.greatest("last_seen", "excluded.last_seen")),
                                first_seen = \(dialect.least("first_seen", "excluded.first_seen"))
                            RETURNING id
                            """, arguments)
                        if let oldID, let id { characterIDs[oldID] = id }
                    case "combatlog_encounters":
                        let id = try connection.scalar("INSERT INTO \(table) (\(names)) VALUES (\(marks)) RETURNING id", arguments)
                        if let oldID, let id { encounterIDs[oldID] = id }
                    default:
                        try connection.execute("INSERT INTO \(table) (\(names)) VALUES (\(marks))", arguments)
                    }
                }
            }
        }
    }
}
