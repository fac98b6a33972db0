import Foundation
import PluginAPI

/// Moving encounters between guilds (document 000's data migration).
extension CombatLogStore {
    /// What a move did.
    struct Moved: Codable, Sendable {
        var encounters: Int
        var charactersCreated: Int
        enum CodingKeys: String, CodingKey {
            case encounters
            case charactersCreated = "characters_created"
        }
    }

    /// Moves encounters `ids` of guild `from` to guild `to` in one transaction, with every figure of theirs: each
    /// character is matched in `to` by GUID (created there when new) and the figures follow it. Nothing moves when
    /// one of the ids is not `from`'s (404 `encounter_not_found` naming it).
    func move(_ ids: [Int64], from: Int64, to: Int64) async throws -> Moved {
        let dialect = database.dialect
        return try await database.write { connection in
            for id in ids where try connection.scalar("SELECT COUNT(*) FROM combatlog_encounters WHERE guild_id = ? AND id = ?", [from, id]) != 1 {
                throw APIError(.notFound, "encounter_not_found", "Guild \(from) has no encounter \(id).", details: ["encounter_id": .int(id)])
            }
            let list = ids.map(String.init).joined(separator: ",")
            let characters = try connection.rows(
                "SELECT DISTINCT character_id FROM combatlog_metrics WHERE guild_id = ? AND encounter_id IN (\(list))", [from]
            ).compactMap { $0["character_id"]?.json.intValue }
            var created = 0
            for old in characters {
                guard let row = try connection.rows("SELECT * FROM combatlog_characters WHERE guild_id = ? AND id = ?", [from, old]).first
                else { continue }
                let guid = row["guid"]?.json.stringValue ?? ""
                if try connection.scalar("SELECT COUNT(*) FROM combatlog_characters WHERE guild_id = ? AND guid = ?", [to, guid]) == 0 {
                    created += 1
                }
                guard
                    let new = try connection.scalar(
                        """
                        INSERT INTO combatlog_characters (guild_id, guid, name, class, spec, spec_id, first_seen, last_seen)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (guild_id, guid) DO UPDATE SET
                            class = COALESCE(class, excluded.class), spec = COALESCE(spec, excluded.spec),
                            spec_id = COALESCE(spec_id, excluded.spec_id),
                            last_seen = \(dialect.greatest("last_seen", "excluded.last_seen")),
                            first_seen = \(dialect.least("first_seen", "excluded.first_seen"))
                        RETURNING id
                        """,
                        [to, guid, row["name"] ?? .null, row["class"] ?? .null, row["spec"] ?? .null, row["spec_id"] ?? .null,
                         row["first_seen"] ?? .null, row["last_seen"] ?? .null])
                else { continue }
                for table in Self.figureTables {
                    try connection.execute(
                        "UPDATE \(table) SET guild_id = ?, character_id = ? WHERE guild_id = ? AND character_id = ? AND encounter_id IN (\(list))",
                        [to, new, from, old])
                }
            }
            // The raid's timeline (character 0) and anything left goes with its encounter.
            for table in Self.figureTables {
                try connection.execute("UPDATE \(table) SET guild_id = ? WHERE guild_id = ? AND encounter_id IN (\(list))", [to, from])
            }
            let moved = try connection.execute("UPDATE combatlog_encounters SET guild_id = ? WHERE guild_id = ? AND id IN (\(list))", [to, from])
            return Moved(encounters: moved, charactersCreated: created)
        }
    }
}
