/// Combat logs written by hand from the format (../shared/combatlog/FORMAT.md), with figures worked out by hand in
/// the tests that read them.
enum CombatLogFixtures {
    static let tank = "Player-1-0000000A", healer = "Player-1-0000000B", hunter = "Player-1-0000000C"
    static let wolf = "Pet-0-3061-2810-1-165189-00000000AA", runeWeapon = "Creature-0-3061-2810-1-27893-00000000BB"
    static let boss = "Vehicle-0-3061-2810-1-233817-00000000CC", trashMob = "Creature-0-3061-2810-1-1234-00000000DD"

    /// The War Within, log version 22, advanced logging (19-field block), stamps with a year and a UTC offset of 0
    /// written without a sign (`.0000`): trash, a wipe on a boss whose name holds a comma, a kill, and a last line
    /// cut short. `bossName` lets a test plant a marker.
    static func tww(bossName: String = "Dimensius, the All-Devouring") -> String {
        let boss = "\"\(bossName.replacingOccurrences(of: "\"", with: "\\\""))\""
        func unit(_ guid: String, _ name: String, _ flags: String) -> String { "\(guid),\"\(name)\",\(flags),0x80000000" }
        let tank = unit(Self.tank, "Tankard-Ravencrest-EU", "0x512"), healer = unit(Self.healer, "Mendwell-Ravencrest-EU", "0x512")
        let hunter = unit(Self.hunter, "Arrowny-Ravencrest-EU", "0x512"), wolf = unit(Self.wolf, "Wolf", "0x1112")
        let rune = unit(Self.runeWeapon, "Rune Weapon", "0x2114"), target = unit(Self.boss, bossName.replacingOccurrences(of: "\"", with: "\\\""), "0x10a48")
        let bossUnit = "\(Self.boss),\(boss),0x10a48,0x80000000"
        let mob = unit(Self.trashMob, "Void Fiend", "0x10a48")
        func block(_ info: String, _ owner: String = "0000000000000000") -> String {
            "\(info),\(owner),100,100,0,0,0,0,0,0,0,0,0,0,2044.9,3713.9,2464,1.4555,83"
        }
        func combatant(_ guid: String, spec: Int) -> String {
            "COMBATANT_INFO,\(guid),1,439,134,4985,88,0,0,0,0,237,237,237,0,0,142,142,142,0,248,82,82,82,460,\(spec),"
                + "[(76037,96165,1),(76044,96172,1)],(0,0,0,0),[(211982,639,(),(10355,12179),()),(212065,636,(7531,0,0),(),())],"
                + "[Player-1-0000000B,21562,1,Player-1-0000000B,1126,1],0,0,0,0"
        }
        let lines = [
            "2/16/2026 23:00:00.0000  COMBAT_LOG_VERSION,22,ADVANCED_LOG_ENABLED,1,BUILD_VERSION,11.2.0,PROJECT_ID,1",
            "2/16/2026 23:00:00.5000  ZONE_CHANGE,2810,\"Manaforge Omega\",14",
            "2/16/2026 23:00:01.0000  SPELL_DAMAGE,\(hunter),\(mob),75,\"Auto Shot\",0x1,\(block(Self.trashMob)),500,500,-1,1,0,0,0,nil,nil,nil,ST",
            "2/16/2026 23:01:00.0000  ENCOUNTER_START,3135,\(boss),14,20,2810",
            "2/16/2026 23:01:00.0000  \(combatant(Self.tank, spec: 73))",
            "2/16/2026 23:01:00.0000  \(combatant(Self.healer, spec: 256))",
            "2/16/2026 23:01:00.0000  \(combatant(Self.hunter, spec: 253))",
            "2/16/2026 23:01:01.0000  SPELL_DAMAGE,\(tank),\(target),23922,\"Shield Slam\",0x1,\(block(Self.boss)),1000,1200,-1,1,0,0,0,nil,nil,nil,ST",
            "2/16/2026 23:01:02.0000  SWING_DAMAGE,\(tank),\(target),\(block(Self.tank)),300,300,-1,1,0,0,0,nil,nil,nil",
            "2/16/2026 23:01:02.0000  SWING_DAMAGE_LANDED,\(tank),\(target),\(block(Self.boss)),300,300,-1,1,0,0,0,nil,nil,nil",
            "2/16/2026 23:01:02.5000  SPELL_SUMMON,\(hunter),\(wolf),883,\"Call Pet 1\",0x1",
            "2/16/2026 23:01:03.0000  SWING_DAMAGE,\(wolf),\(target),\(block(Self.wolf, Self.hunter)),200,200,-1,1,0,0,0,nil,nil,nil",
            "2/16/2026 23:01:03.5000  SWING_DAMAGE,\(rune),\(target),\(block(Self.runeWeapon, Self.tank)),150,150,-1,1,0,0,0,nil,nil,nil",
            "2/16/2026 23:01:04.0000  SPELL_DAMAGE,\(bossUnit),\(healer),1226867,\"Devour, Again\",0x20,\(block(Self.healer)),5000,6000,-1,32,0,0,1000,nil,nil,nil,AOE",
            "2/16/2026 23:01:04.0000  SPELL_ABSORBED,\(bossUnit),\(healer),1226867,\"Devour, Again\",0x20,\(healer),17,\"Power Word: Shield\",0x2,1000,6000,nil",
            "2/16/2026 23:01:05.0000  SWING_DAMAGE,\(bossUnit),\(tank),\(block(Self.boss)),2000,2500,-1,1,0,0,500,nil,nil,nil",
            "2/16/2026 23:01:05.0000  SPELL_ABSORBED,\(bossUnit),\(tank),\(healer),17,\"Power Word: Shield\",0x2,500,2500,nil",
            "2/16/2026 23:01:06.0000  SPELL_HEAL,\(healer),\(tank),2061,\"Flash Heal\",0x2,\(block(Self.tank)),3000,3000,1000,0,nil",
            "2/16/2026 23:01:07.0000  SPELL_PERIODIC_HEAL,\(healer),\(healer),139,\"Renew\",0x2,\(block(Self.healer)),1000,1000,1000,0,nil",
            "2/16/2026 23:01:07.5000  SPELL_AURA_APPLIED,\(healer),\(tank),17,\"Power Word: Shield\",0x2,BUFF,4000",
            "2/16/2026 23:01:08.0000  SPELL_DAMAGE,\(hunter),\(target),257044,\"Rapid Fire\",0x1,\(block(Self.boss)),2500,2500,-1,1,0,0,100,1,nil,nil,AOE",
            "2/16/2026 23:01:09.0000  SPELL_DAMAGE,\(tank),\(hunter),6343,\"Thunder Clap\",0x1,\(block(Self.hunter)),100,100,-1,1,0,0,0,nil,nil,nil,AOE",
            "2/16/2026 23:01:10.0000  UNIT_DIED,0000000000000000,nil,0x80000000,0x80000000,\(hunter),0",
            "2/16/2026 23:01:10.5000  UNIT_DIED,0000000000000000,nil,0x80000000,0x80000000,\(wolf),0",
            "2/16/2026 23:01:11.0000  ENCOUNTER_END,3135,\(boss),14,20,0,11000",
            "2/16/2026 23:01:30.0000  SPELL_AURA_APPLIED,\(healer),\(healer),21562,\"Power Word: Fortitude\",0x2,BUFF",
            "2/16/2026 23:05:00.0000  ENCOUNTER_START,3135,\(boss),14,20,2810",
            "2/16/2026 23:05:01.0000  SPELL_DAMAGE,\(tank),\(target),23922,\"Shield Slam\",0x1,\(block(Self.boss)),10000,10000,-1,1,0,0,0,1,nil,nil,ST",
            "2/16/2026 23:05:02.0000  ENCOUNTER_END,3135,\(boss),14,20,1,2000",
            "2/16/2026 23:06:00.0000  SPELL_DAMAGE,\(Self.tank),\"Tankard-Rav",
        ]
        return lines.joined(separator: "\n")  // the last line has no newline: the file was cut mid-write
    }

    static let evoker = "Player-1-0000000E"

    /// One Mythic pull written to exercise each breakdown, figures worked out by hand in
    /// `CombatLogParserTests.testBreakdownsFollowTheRulesWorkedOutByHand` (docs/combatlog.md states the rules).
    static func breakdowns() -> String {
        func unit(_ guid: String, _ name: String, _ flags: String) -> String { "\(guid),\"\(name)\",\(flags),0x80000000" }
        let tank = unit(Self.tank, "Tankard-Ravencrest-EU", "0x512"), healer = unit(Self.healer, "Mendwell-Ravencrest-EU", "0x512")
        let hunter = unit(Self.hunter, "Arrowny-Ravencrest-EU", "0x512"), wolf = unit(Self.wolf, "Wolf", "0x1112")
        let boss = unit(Self.boss, "Soulbinder Naazindhri", "0x10a48")
        func block(_ info: String, _ owner: String = "0000000000000000") -> String {
            "\(info),\(owner),100,100,0,0,0,0,0,0,0,0,0,0,2044.9,3713.9,2464,1.4555,83"
        }
        func at(_ seconds: String) -> String { "3/2/2026 20:00:\(seconds)000  " }
        let lines = [
            at("00.0") + "COMBAT_LOG_VERSION,22,ADVANCED_LOG_ENABLED,1,BUILD_VERSION,11.2.0,PROJECT_ID,1",
            at("00.0") + "ENCOUNTER_START,3130,\"Soulbinder Naazindhri\",16,20,2810",
            at("00.5") + "SPELL_DAMAGE,\(tank),\(boss),23922,\"Shield Slam\",0x1,\(block(Self.boss)),1000,1200,-1,1,0,0,200,1,nil,nil,ST",
            at("01.2") + "SPELL_DAMAGE,\(tank),\(boss),23922,\"Shield Slam\",0x1,\(block(Self.boss)),800,800,-1,1,0,0,0,nil,nil,nil,ST",
            at("01.2") + "SPELL_DAMAGE_SUPPORT,\(tank),\(boss),395152,\"Ebon Might\",0xc,\(block(Self.boss)),200,200,-1,1,0,0,0,nil,nil,nil,\(Self.evoker)",
            at("01.5") + "SWING_DAMAGE,\(tank),\(boss),\(block(Self.tank)),300,300,-1,1,0,0,0,nil,nil,nil",
            at("01.5") + "SWING_DAMAGE_LANDED,\(tank),\(boss),\(block(Self.boss)),300,300,-1,1,0,0,0,nil,nil,nil",
            at("02.0") + "SPELL_SUMMON,\(hunter),\(wolf),883,\"Call Pet 1\",0x1",
            at("02.5") + "SWING_DAMAGE,\(wolf),\(boss),\(block(Self.wolf, Self.hunter)),200,200,-1,1,0,0,0,1,nil,nil",
            at("03.0") + "SPELL_DAMAGE,\(boss),\(healer),1226867,\"Devour\",0x20,\(block(Self.healer)),5000,6000,-1,32,0,0,1000,nil,nil,nil,AOE",
            at("03.0") + "SPELL_ABSORBED,\(boss),\(healer),1226867,\"Devour\",0x20,\(healer),17,\"Power Word: Shield\",0x2,1000,6000,nil",
            at("04.0") + "SPELL_HEAL,\(healer),\(tank),2061,\"Flash Heal\",0x2,\(block(Self.tank)),3000,3000,1000,0,1",
            at("05.0") + "SPELL_INTERRUPT,\(tank),\(boss),6552,\"Pummel\",0x1,1234567,\"Void Bolt\",0x20",
            at("05.5") + "SPELL_DISPEL,\(healer),\(tank),527,\"Purify\",0x2,7654321,\"Shadow Curse\",0x20,DEBUFF",
            at("05.8") + "SPELL_HEAL,\(healer),\(hunter),2061,\"Flash Heal\",0x2,\(block(Self.hunter)),500,500,0,0,nil",
            at("06.0") + "SPELL_DAMAGE,\(boss),\(hunter),1226867,\"Devour\",0x20,\(block(Self.hunter)),4000,4000,1500,32,0,0,0,nil,nil,nil,AOE",
            at("06.0") + "UNIT_DIED,0000000000000000,nil,0x80000000,0x80000000,\(hunter),0",
            at("08.0") + "SPELL_RESURRECT,\(healer),\(hunter),391054,\"Intercession\",0x2",
            at("09.0") + "ENCOUNTER_END,3130,\"Soulbinder Naazindhri\",16,20,1,9000",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Dragonflight, log version 20 (17-field block, no ST/AOE), year-less stamps across New Year's Eve, Windows line
    /// ends, a UTF-8 name, and one line that is not an event.
    static let dragonflight = [
        "12/31 23:59:58.000  COMBAT_LOG_VERSION,20,ADVANCED_LOG_ENABLED,1,BUILD_VERSION,10.2.7,PROJECT_ID,1",
        "12/31 23:59:59.000  ENCOUNTER_START,2820,\"Gnarlroot\",16,20,2549",
        "12/31 23:59:59.000  COMBATANT_INFO,Player-1-0000000D,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,62,[(1,2,1)],(0,0,0,0),[],[],0,0,0,0",
        "1/1 00:00:01.000  SPELL_DAMAGE,Player-1-0000000D,\"Frénézie-Elune\",0x512,0x0,Creature-0-1-2549-1-209333-0000000001,\"Gnarlroot\",0x10a48,0x0,"
            + "5143,\"Arcane Missiles\",0x40,Creature-0-1-2549-1-209333-0000000001,0000000000000000,100,100,0,0,0,0,0,0,0,0,1.0,2.0,2232,1.0,72,"
            + "777,777,-1,64,0,0,0,nil,nil,nil",
        "garbage that is not an event",
        "1/1 00:00:03.000  ENCOUNTER_END,2820,\"Gnarlroot\",16,20,1,4000",
    ].joined(separator: "\r\n") + "\r\n"
}
