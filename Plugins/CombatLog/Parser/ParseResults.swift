import Foundation

/// A player seen in the log.
public struct ParsedCharacter: Sendable, Codable, Equatable {
    /// `Player-<realm>-<id>`: characters are keyed by it, not by name.
    public var guid: String
    /// `Name-Realm(-Region)` as the log writes it.
    public var name: String
    public var className: String?
    public var spec: String?
    /// The specialisation id COMBATANT_INFO wrote, kept even when ``Specs`` does not know it.
    public var specID: Int64? = nil

    enum CodingKeys: String, CodingKey {
        case guid, name, spec
        case className = "class", specID = "spec_id"
    }
}

/// One character's figures in one encounter. Pets and guardians count for their owner.
public struct CharacterMetrics: Sendable, Codable, Equatable {
    public var guid: String
    public var damageDone: Int64 = 0
    public var healingDone: Int64 = 0
    public var overhealing: Int64 = 0
    public var absorbsDone: Int64 = 0
    public var damageTaken: Int64 = 0
    public var deaths = 0
    /// Milliseconds in which the character acted: gaps of up to three seconds between its events count.
    public var activeTimeMs: Int64 = 0
    public var dps: Double = 0
    public var hps: Double = 0

    enum CodingKeys: String, CodingKey {
        case guid, deaths, dps, hps, overhealing
        case damageDone = "damage_done"
        case healingDone = "healing_done"
        case absorbsDone = "absorbs_done"
        case damageTaken = "damage_taken"
        case activeTimeMs = "active_time_ms"
    }
}

/// A boss pull from ENCOUNTER_START to ENCOUNTER_END (or to where the log shows it ended).
public struct ParsedEncounter: Sendable, Codable, Equatable {
    public var encounterID: Int64
    public var bossName: String
    public var instanceID: Int64
    /// The zone the pull happened in, from the last ZONE_CHANGE.
    public var instanceName: String?
    public var difficultyID: Int64
    public var difficulty: String
    public var groupSize: Int64
    public var success: Bool
    /// UTC milliseconds since 1970.
    public var startTime: Int64
    public var durationMs: Int64
    /// False when the log has no ENCOUNTER_END for the pull (a disconnect, a cut log).
    public var complete: Bool
    public var events: Int
    public var characters: [CharacterMetrics]
    /// By ability, deaths, interrupts and dispels, and the timeline.
    public var breakdowns = EncounterBreakdowns()

    enum CodingKeys: String, CodingKey {
        case difficulty, success, complete, events, characters, breakdowns
        case encounterID = "encounter_id"
        case bossName = "boss_name"
        case instanceID = "instance_id"
        case instanceName = "instance_name"
        case difficultyID = "difficulty_id"
        case groupSize = "group_size"
        case startTime = "start_time"
        case durationMs = "duration_ms"
    }
}

/// A line the parser could not read.
public struct ParseProblem: Sendable, Codable, Equatable {
    public var line: Int
    public var reason: String
}

/// Everything a parse found beside the encounters.
public struct ParseSummary: Sendable, Codable, Equatable {
    public var bytes: Int64 = 0
    public var lines = 0
    public var events = 0
    public var encounters = 0
    /// Runs of events outside any encounter (split where the log is silent for a minute).
    public var trashSegments = 0
    public var trashEvents = 0
    public var malformedLines = 0
    /// The first problems, with their line numbers.
    public var problems: [ParseProblem] = []
    public var logVersion: Int64?
    public var advancedLogging: Bool?
    public var characters: [ParsedCharacter] = []

    enum CodingKeys: String, CodingKey {
        case bytes, lines, events, encounters, problems, characters
        case trashSegments = "trash_segments"
        case trashEvents = "trash_events"
        case malformedLines = "malformed_lines"
        case logVersion = "log_version"
        case advancedLogging = "advanced_logging"
    }
}
