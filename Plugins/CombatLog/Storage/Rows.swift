import Foundation
import PluginAPI

/// An upload and how its processing goes.
struct UploadRow: Codable, Sendable {
    var id: String
    var guildID: Int64
    var guildName: String
    var keyID: Int64?
    var uploadedBy: String
    var fileName: String
    var bytes: Int64
    /// processing, throttled, completed or failed.
    var status: String
    /// 0 to 100.
    var progress: Double
    var bytesParsed: Int64
    var events: Int64
    var encounters: Int64
    /// The parse summary (counts, malformed lines with their numbers) as JSON text once done.
    var summary: String?
    var error: String?
    var createdAt: Date
    var finishedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, bytes, status, progress, events, encounters, summary, error
        case guildID = "guild_id", guildName = "guild_name", keyID = "key_id", uploadedBy = "uploaded_by"
        case fileName = "file_name", bytesParsed = "bytes_parsed", createdAt = "created_at", finishedAt = "finished_at"
    }

    /// The API's view: the summary as an object.
    var json: JSONValue {
        get throws {
            guard case .object(var members) = try JSONValue(encoding: self) else { return .null }
            members["upload_id"] = .string(id)
            members["summary"] = try summary.map { try JSONValue(parsing: Data($0.utf8)) } ?? .null
            return .object(members)
        }
    }
}

/// A stored encounter as the API shows it, built straight from its row (the listing is the hot path: no
/// Decodable round trip, dates stay the ISO text they are stored as).
enum EncounterJSON {
    static func from(_ row: [String: SQLValue]) -> JSONValue {
        // mapValues keeps the row's hash table: no key is hashed again.
        var members = row.mapValues(\.json)
        for flag in ["success", "complete"] {
            if case .int(let value)? = members[flag] { members[flag] = .bool(value != 0) }
        }
        return .object(members)
    }

    static let csvHeader = "id,encounter_id,boss_name,instance_name,difficulty,group_size,success,start_time,duration_ms,total_damage,total_healing,deaths\n"

    static func csvLine(_ encounter: JSONValue) -> String {
        func cell(_ key: String) -> String {
            switch encounter[key] {
            case .string(let text)?: csv(text)
            case .int(let number)?: String(number)
            case .bool(let flag)?: flag ? "1" : "0"
            default: ""
            }
        }
        return ["id", "encounter_id", "boss_name", "instance_name", "difficulty", "group_size", "success", "start_time", "duration_ms",
                "total_damage", "total_healing", "deaths"].map(cell).joined(separator: ",") + "\n"
    }

    /// A CSV cell: quoted when it holds a comma, quote or line break; a leading `=+-@` is neutralised so a
    /// spreadsheet does not run it as a formula.
    static func csv(_ text: String) -> String {
        var text = text
        if let first = text.first, "=+-@".contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// A character of a guild.
struct CharacterRow: Codable, Sendable {
    var id: Int64
    var guildID: Int64
    var guid: String
    var name: String
    var className: String?
    var spec: String?
    var specID: Int64?
    var firstSeen: Date
    var lastSeen: Date

    enum CodingKeys: String, CodingKey {
        case id, guid, name, spec
        case guildID = "guild_id", className = "class", specID = "spec_id", firstSeen = "first_seen", lastSeen = "last_seen"
    }
}

/// One character's figures in one encounter, with who they are or which encounter it was.
struct MetricsRow: Codable, Sendable {
    var characterID: Int64
    var encounterID: Int64
    var name: String?
    var className: String?
    var spec: String?
    var specID: Int64?
    var bossName: String?
    var difficulty: String?
    var success: Bool?
    var startTime: Date?
    var damageDone: Int64
    var healingDone: Int64
    var overhealing: Int64
    var absorbsDone: Int64
    var damageTaken: Int64
    var deaths: Int64
    var activeTimeMs: Int64
    var dps: Double
    var hps: Double

    enum CodingKeys: String, CodingKey {
        case name, spec, difficulty, success, overhealing, deaths, dps, hps
        case characterID = "character_id", encounterID = "encounter_id", className = "class", specID = "spec_id", bossName = "boss_name"
        case startTime = "start_time", damageDone = "damage_done", healingDone = "healing_done", absorbsDone = "absorbs_done"
        case damageTaken = "damage_taken", activeTimeMs = "active_time_ms"
    }
}
