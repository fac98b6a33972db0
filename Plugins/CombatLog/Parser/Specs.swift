/// Class and specialisation names by the spec id COMBATANT_INFO writes: every specialisation of The War Within 11.2,
/// the Demon Hunter's Devourer (1480) and the class-wide starting specialisations of new characters included. The
/// parser keeps the id itself too (`spec_id`), so a specialisation newer than this table loses only its name.
enum Specs {
    static func describe(_ id: Int64) -> (className: String, spec: String)? {
        table[id]
    }

    private static let table: [Int64: (className: String, spec: String)] = [
        62: ("Mage", "Arcane"), 63: ("Mage", "Fire"), 64: ("Mage", "Frost"),
        65: ("Paladin", "Holy"), 66: ("Paladin", "Protection"), 70: ("Paladin", "Retribution"),
        71: ("Warrior", "Arms"), 72: ("Warrior", "Fury"), 73: ("Warrior", "Protection"),
        102: ("Druid", "Balance"), 103: ("Druid", "Feral"), 104: ("Druid", "Guardian"), 105: ("Druid", "Restoration"),
        250: ("Death Knight", "Blood"), 251: ("Death Knight", "Frost"), 252: ("Death Knight", "Unholy"),
        253: ("Hunter", "Beast Mastery"), 254: ("Hunter", "Marksmanship"), 255: ("Hunter", "Survival"),
        256: ("Priest", "Discipline"), 257: ("Priest", "Holy"), 258: ("Priest", "Shadow"),
        259: ("Rogue", "Assassination"), 260: ("Rogue", "Outlaw"), 261: ("Rogue", "Subtlety"),
        262: ("Shaman", "Elemental"), 263: ("Shaman", "Enhancement"), 264: ("Shaman", "Restoration"),
        265: ("Warlock", "Affliction"), 266: ("Warlock", "Demonology"), 267: ("Warlock", "Destruction"),
        268: ("Monk", "Brewmaster"), 269: ("Monk", "Windwalker"), 270: ("Monk", "Mistweaver"),
        577: ("Demon Hunter", "Havoc"), 581: ("Demon Hunter", "Vengeance"), 1480: ("Demon Hunter", "Devourer"),
        1467: ("Evoker", "Devastation"), 1468: ("Evoker", "Preservation"), 1473: ("Evoker", "Augmentation"),
        // Starting specialisations (characters below level 10).
        1444: ("Shaman", "Initial"), 1446: ("Warrior", "Initial"), 1447: ("Druid", "Initial"), 1448: ("Hunter", "Initial"),
        1449: ("Mage", "Initial"), 1450: ("Monk", "Initial"), 1451: ("Paladin", "Initial"), 1452: ("Priest", "Initial"),
        1453: ("Rogue", "Initial"), 1454: ("Warlock", "Initial"), 1455: ("Death Knight", "Initial"),
        1456: ("Demon Hunter", "Initial"), 1465: ("Evoker", "Initial"),
    ]

    /// Blizzard's difficulty ids as names.
    static func difficulty(_ id: Int64) -> String {
        switch id {
        case 1: "Normal Dungeon"
        case 2: "Heroic Dungeon"
        case 3: "10 Player"
        case 4: "25 Player"
        case 5: "10 Player Heroic"
        case 6: "25 Player Heroic"
        case 7, 17: "LFR"
        case 8: "Mythic Keystone"
        case 14: "Normal"
        case 15: "Heroic"
        case 16: "Mythic"
        case 23: "Mythic Dungeon"
        case 24: "Timewalking"
        default: "Difficulty \(id)"
        }
    }
}
