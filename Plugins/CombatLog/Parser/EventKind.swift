/// The events the parser reads fields of; every other event is counted and skipped unread.
enum EventKind {
    /// Damage with `prefixFields` fields between the units and the advanced block.
    case damage(prefixFields: Int)
    /// An Augmentation Evoker's share of someone's damage: credited to the supporter (last field).
    case damageSupport
    case heal(prefixFields: Int)
    /// The same for healing.
    case healSupport
    case absorbed
    case summon
    case died
    case interrupt
    /// A dispel or a spell steal.
    case dispel
    case resurrect
    case encounterStart
    case encounterEnd
    case combatantInfo
    case zoneChange
    case header
    case other

    /// The kind of the event named by `name`'s bytes.
    static func of(_ name: UnsafeBufferPointer<UInt8>) -> EventKind {
        table[hash(name)] ?? .other
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    private static let table: [UInt64: EventKind] = {
        let kinds: [(String, EventKind)] = [
            ("SWING_DAMAGE", .damage(prefixFields: 0)),
            ("SPELL_DAMAGE", .damage(prefixFields: 3)), ("SPELL_PERIODIC_DAMAGE", .damage(prefixFields: 3)),
            ("RANGE_DAMAGE", .damage(prefixFields: 3)), ("SPELL_BUILDING_DAMAGE", .damage(prefixFields: 3)),
            ("DAMAGE_SPLIT", .damage(prefixFields: 3)), ("DAMAGE_SHIELD", .damage(prefixFields: 3)),
            ("ENVIRONMENTAL_DAMAGE", .damage(prefixFields: 1)),
            ("SPELL_DAMAGE_SUPPORT", .damageSupport), ("SPELL_PERIODIC_DAMAGE_SUPPORT", .damageSupport),
            ("RANGE_DAMAGE_SUPPORT", .damageSupport), ("SWING_DAMAGE_LANDED_SUPPORT", .damageSupport),
            ("SPELL_HEAL", .heal(prefixFields: 3)), ("SPELL_PERIODIC_HEAL", .heal(prefixFields: 3)),
            ("SPELL_HEAL_SUPPORT", .healSupport), ("SPELL_PERIODIC_HEAL_SUPPORT", .healSupport),
            ("SPELL_ABSORBED", .absorbed), ("SPELL_SUMMON", .summon), ("UNIT_DIED", .died),
            ("SPELL_INTERRUPT", .interrupt), ("SPELL_DISPEL", .dispel), ("SPELL_STOLEN", .dispel), ("SPELL_RESURRECT", .resurrect),
            ("ENCOUNTER_START", .encounterStart), ("ENCOUNTER_END", .encounterEnd), ("COMBATANT_INFO", .combatantInfo),
            ("ZONE_CHANGE", .zoneChange), ("COMBAT_LOG_VERSION", .header),
        ]
        var table: [UInt64: EventKind] = [:]
        for (name, kind) in kinds {
            table[Array(name.utf8).withUnsafeBufferPointer(hash)] = kind
        }
        return table
    }()
}
