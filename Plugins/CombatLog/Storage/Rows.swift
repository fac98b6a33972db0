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
            guard case .object(var members) = try JSONValueEncoder().encode(self) else { return .null }
            members["upload_id"] = .string(id)
            members["summary"] = try summary.map { try JSONValue.parse(Data($0.utf8)) } ?? .null
            return .object(members)
        }
    }
}

/// A stored encounter.
struct EncounterRow: Codable, Sendable {
    var id: Int64
    var guildID: Int64
    var uploadID: String
    var encounterID: Int64
    var bossName: String
    var instanceID: Int64
    var instanceName: String?
    var difficultyID: Int64
    var difficulty: String
    var groupSize: Int64
    var success: Bool
    var complete: Bool
    var startTime: Date
    var durationMs: Int64
    var events: Int64
    var totalDamage: Int64
    var totalHealing: Int64
    var deaths: Int64

    enum CodingKeys: String, CodingKey {
        case id, difficulty, success, complete, events, deaths
        case guildID = "guild_id", uploadID = "upload_id", encounterID = "encounter_id", bossName = "boss_name"
        case instanceID = "instance_id", instanceName = "instance_name", difficultyID = "difficulty_id"
        case groupSize = "group_size", startTime = "start_time", durationMs = "duration_ms"
        case totalDamage = "total_damage", totalHealing = "total_healing"
    }

    static let csvHeader = "id,encounter_id,boss_name,instance_name,difficulty,group_size,success,start_time,duration_ms,total_damage,total_healing,deaths\n"

    var csvLine: String {
        let fields = [
            String(id), String(encounterID), Self.csv(bossName), Self.csv(instanceName ?? ""), Self.csv(difficulty), String(groupSize),
            success ? "1" : "0", Timestamp.string(from: startTime), String(durationMs), String(totalDamage), String(totalHealing),
            String(deaths),
        ]
        return fields.joined(separator: ",") + "\n"
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
    var firstSeen: Date
    var lastSeen: Date

    enum CodingKeys: String, CodingKey {
        case id, guid, name, spec
        case guildID = "guild_id", className = "class", firstSeen = "first_seen", lastSeen = "last_seen"
    }
}

/// One character's figures in one encounter, with who they are or which encounter it was.
struct MetricsRow: Codable, Sendable {
    var characterID: Int64
    var encounterID: Int64
    var name: String?
    var className: String?
    var spec: String?
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
        case characterID = "character_id", encounterID = "encounter_id", className = "class", bossName = "boss_name"
        case startTime = "start_time", damageDone = "damage_done", healingDone = "healing_done", absorbsDone = "absorbs_done"
        case damageTaken = "damage_taken", activeTimeMs = "active_time_ms"
    }
}
