/// What raiders read beyond one total per character, per encounter: damage, healing and damage taken by ability,
/// deaths with what led to them, interrupts and dispels, and a per-second timeline. docs/combatlog.md says what
/// each figure counts.
public struct EncounterBreakdowns: Sendable, Codable, Equatable {
    public var abilities: [AbilityBreakdown] = []
    public var deaths: [DeathRecap] = []
    public var interrupts: [InterruptRecord] = []
    public var timeline = Timeline()
}

/// One character's figures for one ability (a pet's or guardian's abilities count for its owner, marked with the
/// pet's name).
public struct AbilityBreakdown: Sendable, Codable, Equatable {
    public var guid: String
    /// `damage` (done), `healing` (done) or `taken`.
    public var kind: String
    public var spellID: Int64
    public var spellName: String
    public var school: Int64
    /// The pet or guardian that did it for its owner; nil for the character's own.
    public var pet: String?
    public var hits: Int
    public var crits: Int
    /// Damage: amount plus what went into shields; healing: amount minus overhealing, plus shields' absorbs;
    /// taken: amount (what shields took is `absorbed`).
    public var total: Int64
    /// Damage and taken: overkill; healing: overhealing.
    public var overkill: Int64
    public var absorbed: Int64

    enum CodingKeys: String, CodingKey {
        case guid, kind, school, pet, hits, crits, total, overkill, absorbed
        case spellID = "spell_id", spellName = "spell_name"
    }
}

/// A player's death: when, the killing blow, what they took and were healed in the window before, and a battle
/// resurrection if one came.
public struct DeathRecap: Sendable, Codable, Equatable {
    public var guid: String
    /// Milliseconds from the encounter's start.
    public var atMs: Int64
    public var killingBlow: RecapEvent?
    /// Oldest first, within the recap window before the death.
    public var events: [RecapEvent]
    public var resurrectedBy: String?
    public var resurrectedAtMs: Int64?

    enum CodingKeys: String, CodingKey {
        case guid, events
        case atMs = "at_ms", killingBlow = "killing_blow", resurrectedBy = "resurrected_by", resurrectedAtMs = "resurrected_at_ms"
    }
}

/// One hit or heal a player took.
public struct RecapEvent: Sendable, Codable, Equatable {
    /// Milliseconds from the encounter's start.
    public var atMs: Int64
    /// `damage` or `heal`.
    public var kind: String
    public var source: String
    public var spellID: Int64
    public var spellName: String
    public var amount: Int64
    /// Damage beyond what killed (damage) or healing beyond full health (heal).
    public var overkill: Int64

    enum CodingKeys: String, CodingKey {
        case kind, source, amount, overkill
        case atMs = "at_ms", spellID = "spell_id", spellName = "spell_name"
    }
}

/// How often a character interrupted or dispelled one thing with one spell.
public struct InterruptRecord: Sendable, Codable, Equatable {
    public var guid: String
    /// `interrupt` or `dispel` (a steal counts as a dispel).
    public var kind: String
    public var spellID: Int64
    public var spellName: String
    /// What was interrupted or dispelled.
    public var extraSpellID: Int64
    public var extraSpellName: String
    public var count: Int

    enum CodingKeys: String, CodingKey {
        case guid, kind, count
        case spellID = "spell_id", spellName = "spell_name", extraSpellID = "extra_spell_id", extraSpellName = "extra_spell_name"
    }
}

/// Damage and healing done per second from the encounter's start, for the raid and for each character.
public struct Timeline: Sendable, Codable, Equatable {
    public var raid = Series()
    public var characters: [String: Series] = [:]

    public struct Series: Sendable, Codable, Equatable {
        public var damage: [Int64] = []
        public var healing: [Int64] = []

        init(damage: [Int64] = [], healing: [Int64] = []) {
            self.damage = damage
            self.healing = healing
        }

        mutating func add(damage amount: Int64, second: Int) {
            Self.grow(&damage, to: second)
            damage[second] = damage[second].saturatingAdding(amount)
        }

        mutating func add(healing amount: Int64, second: Int) {
            Self.grow(&healing, to: second)
            healing[second] = healing[second].saturatingAdding(amount)
        }

        /// Both series as long as the encounter.
        mutating func pad(to seconds: Int) {
            Self.grow(&damage, to: seconds - 1)
            Self.grow(&healing, to: seconds - 1)
        }

        private static func grow(_ series: inout [Int64], to index: Int) {
            if series.count <= index { series.append(contentsOf: repeatElement(0, count: index + 1 - series.count)) }
        }
    }
}
