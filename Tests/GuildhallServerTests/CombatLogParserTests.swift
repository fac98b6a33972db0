import Foundation
import PluginAPI
import XCTest

@testable import CombatLogCog

final class CombatLogParserTests: XCTestCase {
    typealias F = CombatLogFixtures

    /// Parses `text` in chunks of `chunk` bytes (to cross line boundaries everywhere).
    static func parse(_ text: String, year: Int = 2026, chunk: Int = 4096) -> (ParseSummary, [ParsedEncounter], CombatLogParser) {
        var encounters: [ParsedEncounter] = []
        let parser = CombatLogParser(year: year) { encounters.append($0) }
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            bytes[start..<end].withUnsafeBytes { parser.consume($0) }
            start = end
        }
        return (parser.finish(), encounters, parser)
    }

    func testTheWarWithinLogGivesEncountersAndFiguresWorkedOutByHand() throws {
        for chunk in [1, 7, 100, 1 << 20] {
            let (summary, encounters, _) = Self.parse(F.tww(), chunk: chunk)
            XCTAssertEqual(summary.logVersion, 22)
            XCTAssertEqual(summary.advancedLogging, true)
            XCTAssertEqual(summary.lines, 30, "chunk \(chunk)")
            XCTAssertEqual(summary.encounters, 2)
            XCTAssertEqual(summary.trashSegments, 2, "before the first pull, and between the pulls")
            XCTAssertEqual(summary.trashEvents, 3)
            XCTAssertEqual(summary.malformedLines, 1)
            XCTAssertEqual(summary.problems, [ParseProblem(line: 30, reason: "truncated line at the end of the file")])
            XCTAssertEqual(encounters.count, 2)
        }
        let (summary, encounters, _) = Self.parse(F.tww())
        let wipe = encounters[0]
        XCTAssertEqual(wipe.bossName, "Dimensius, the All-Devouring", "a quoted name with a comma")
        XCTAssertEqual(wipe.encounterID, 3135)
        XCTAssertEqual(wipe.instanceName, "Manaforge Omega")
        XCTAssertEqual(wipe.difficulty, "Normal")
        XCTAssertEqual(wipe.groupSize, 20)
        XCTAssertFalse(wipe.success)
        XCTAssertTrue(wipe.complete)
        XCTAssertEqual(wipe.durationMs, 11_000)
        XCTAssertEqual(wipe.startTime, 1_771_282_860_000, "2026-02-16T23:01:00Z")
        let figures = Dictionary(uniqueKeysWithValues: wipe.characters.map { ($0.guid, $0) })
        let tank = try XCTUnwrap(figures[F.tank]), healer = try XCTUnwrap(figures[F.healer]), hunter = try XCTUnwrap(figures[F.hunter])
        XCTAssertEqual(tank.damageDone, 1000 + 300 + 150, "melee counted once; the rune weapon's swing is the tank's")
        XCTAssertEqual(tank.damageTaken, 2000)
        XCTAssertEqual(tank.activeTimeMs, 2500)
        XCTAssertEqual(tank.dps, 131.8)
        XCTAssertEqual(healer.healingDone, 2000, "overhealing is not healing")
        XCTAssertEqual(healer.overhealing, 2000)
        XCTAssertEqual(healer.absorbsDone, 1500, "both SPELL_ABSORBED shapes credit the shield's caster")
        XCTAssertEqual(healer.damageTaken, 5000)
        XCTAssertEqual(healer.hps, 318.2)
        XCTAssertEqual(hunter.damageDone, 200 + 2600, "the summoned wolf's damage is the hunter's; damage into a shield counts")
        XCTAssertEqual(hunter.damageTaken, 100, "friendly fire is taken, not done")
        XCTAssertEqual(hunter.deaths, 1, "the wolf's death is not the hunter's")
        XCTAssertEqual(wipe.characters.map(\.guid), [F.hunter, F.tank, F.healer], "sorted by damage")

        let kill = encounters[1]
        XCTAssertTrue(kill.success)
        XCTAssertEqual(kill.durationMs, 2000)
        XCTAssertEqual(kill.characters.map(\.damageDone), [10_000])

        let names = Dictionary(uniqueKeysWithValues: summary.characters.map { ($0.guid, $0) })
        XCTAssertEqual(
            names[F.tank], ParsedCharacter(guid: F.tank, name: "Tankard-Ravencrest-EU", className: "Warrior", spec: "Protection", specID: 73))
        XCTAssertEqual(names[F.healer]?.spec, "Discipline")
        XCTAssertEqual(names[F.hunter]?.className, "Hunter")
        XCTAssertEqual(summary.characters.count, 3, "pets and guardians are not characters")
    }

    func testDragonflightYearlessStampsAcrossNewYearWithAnOlderBlock() throws {
        let (summary, encounters, _) = Self.parse(F.dragonflight, year: 2023)
        XCTAssertEqual(summary.logVersion, 20)
        XCTAssertEqual(summary.malformedLines, 1)
        XCTAssertEqual(summary.problems.first, ParseProblem(line: 5, reason: "no timestamp"))
        let encounter = try XCTUnwrap(encounters.first)
        XCTAssertEqual(encounter.difficulty, "Mythic")
        XCTAssertEqual(encounter.startTime, 1_704_067_199_000, "2023-12-31T23:59:59Z")
        XCTAssertEqual(encounter.durationMs, 4000)
        XCTAssertEqual(encounter.characters.first?.damageDone, 777)
        XCTAssertEqual(summary.characters.first?.name, "Frénézie-Elune")
        XCTAssertEqual(summary.characters.first?.spec, "Arcane")
    }

    func testALogWithAdvancedLoggingOff() throws {
        let text = [
            "2/16/2026 23:00:00.0000  COMBAT_LOG_VERSION,22,ADVANCED_LOG_ENABLED,0,BUILD_VERSION,11.2.0,PROJECT_ID,1",
            "2/16/2026 23:01:00.0000  ENCOUNTER_START,3135,\"Boss\",15,20,2810",
            "2/16/2026 23:01:01.0000  SPELL_DAMAGE,Player-1-0000000A,\"Tankard-Ravencrest-EU\",0x512,0x0,Vehicle-0-1-1-1-9-1,\"Boss\",0x10a48,0x0,"
                + "23922,\"Shield Slam\",0x1,1000,1200,-1,1,0,0,0,nil,nil,nil,ST",
            "2/16/2026 23:01:02.0000  SWING_DAMAGE,Player-1-0000000A,\"Tankard-Ravencrest-EU\",0x512,0x0,Vehicle-0-1-1-1-9-1,\"Boss\",0x10a48,0x0,"
                + "300,300,-1,1,0,0,0,nil,nil,nil",
            "2/16/2026 23:01:03.0000  SPELL_HEAL,Player-1-0000000A,\"Tankard-Ravencrest-EU\",0x512,0x0,Player-1-0000000A,\"Tankard-Ravencrest-EU\",0x512,0x0,"
                + "34428,\"Victory Rush\",0x1,500,500,100,0,nil",
            "2/16/2026 23:01:04.0000  ENCOUNTER_END,3135,\"Boss\",15,20,1,4000",
        ].joined(separator: "\n") + "\n"
        let (summary, encounters, _) = Self.parse(text)
        XCTAssertEqual(summary.advancedLogging, false)
        XCTAssertEqual(summary.malformedLines, 0)
        let tank = try XCTUnwrap(encounters.first?.characters.first)
        XCTAssertEqual(tank.damageDone, 1300, "the suffix is read from the end, with or without the advanced block")
        XCTAssertEqual(tank.healingDone, 400)
        XCTAssertEqual(encounters.first?.difficulty, "Heroic")
    }

    func testOffsetsAndFractionsOfBothStampForms() {
        var stamps = CombatTimestamp(year: 2026)
        let clock = { (text: String) in Array(text.utf8).withUnsafeBufferPointer { stamps.read($0, end: $0.count) } }
        XCTAssertEqual(clock("7/28/2024 14:36:49.528-4"), 1_722_191_809_528, "UTC-4: 18:36:49.528 UTC")
        XCTAssertEqual(clock("8/30/2025 21:05:23.7758"), 1_756_559_123_775, "UTC+8 written as a fourth digit")
        XCTAssertEqual(clock("9/22/2024 14:34:46.26612"), 1_726_972_486_266, "UTC+12")
        XCTAssertEqual(clock("5/10/2024 20:50:33.984"), 1_715_374_233_984, "a year and no offset")
        XCTAssertNil(clock("13/10/2024 20:50:33.984"))
        XCTAssertNil(clock("5/10/2024 20:50"))
    }

    func testAnEncounterWithoutAnEndIsClosedAsIncomplete() {
        let text = F.tww().split(separator: "\n").filter { !$0.contains("ENCOUNTER_END") }.joined(separator: "\n")
        let (_, encounters, _) = Self.parse(text)
        XCTAssertEqual(encounters.count, 2, "the next ENCOUNTER_START closes the first pull, the end of the file the second")
        XCTAssertEqual(encounters.map(\.complete), [false, false])
        XCTAssertEqual(encounters.map(\.success), [false, false])
        XCTAssertEqual(encounters[0].durationMs, 30_000, "up to its last event (the aura at 23:01:30)")
    }

    func testOtherFilesAreNotCombatLogs() {
        XCTAssertTrue(CombatLogFile.looksLikeCombatLog(Array(F.tww().utf8.prefix(4096))))
        XCTAssertTrue(CombatLogFile.looksLikeCombatLog(Array(F.dragonflight.utf8)))
        XCTAssertTrue(CombatLogFile.looksLikeCombatLog([0xEF, 0xBB, 0xBF] + Array(F.dragonflight.utf8)), "with a byte order mark")
        for text in ["", "hello world\n", "{\"json\": true}", "2/16/2026 23:00:00.0000 ONE_SPACE,1", "12/31 23:59:58.000  lower,case",
                     "%PDF-1.7\n", String(repeating: "A", count: 5000)] {
            XCTAssertFalse(CombatLogFile.looksLikeCombatLog(Array(text.utf8)), text)
        }
    }

    /// The real logs of ../shared/combatlog, when the folder is there (it is not part of this repository).
    func testRealLogsFromPublicProjectsParseWithoutProblems() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/combatlog/samples")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path), !names.isEmpty else {
            throw XCTSkip("../shared/combatlog/samples is not present")
        }
        for name in names.sorted() {
            var data = try Data(contentsOf: folder.appendingPathComponent(name))
            if name.hasSuffix(".gz") { data = try Self.gunzip(data) }
            let (summary, encounters, _) = Self.parse(String(decoding: data, as: UTF8.self), chunk: 1 << 16)
            XCTAssertEqual(summary.malformedLines, 0, "\(name): \(summary.problems.prefix(3))")
            XCTAssertEqual(summary.lines, data.split(separator: 0x0A, omittingEmptySubsequences: false).count - (data.last == 0x0A ? 1 : 0), name)
            if name.hasPrefix("raid-11.2") {
                XCTAssertEqual(encounters.count, 1, name)
                XCTAssertGreaterThan(encounters.first?.characters.count ?? 0, 19, name)
                XCTAssertTrue(encounters.allSatisfy(\.complete), name)
            }
        }
    }

    static func gunzip(_ data: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc"]
        let (input, output) = (Pipe(), Pipe())
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = Thread { input.fileHandleForWriting.write(data); try? input.fileHandleForWriting.close() }
        writer.start()
        let result = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return result
    }

    func testASpecialisationTheTableDoesNotKnowKeepsItsID() {
        // 1480 (the Demon Hunter's Devourer, 11.2) is known; 9999 stands for one newer than the table.
        let log = F.tww().replacingOccurrences(of: ",73,[", with: ",1480,[").replacingOccurrences(of: ",256,[", with: ",9999,[")
        let (summary, _, _) = Self.parse(log)
        let names = Dictionary(uniqueKeysWithValues: summary.characters.map { ($0.guid, $0) })
        XCTAssertEqual(names[F.tank]?.specID, 1480)
        XCTAssertEqual(names[F.tank]?.className, "Demon Hunter")
        XCTAssertEqual(names[F.tank]?.spec, "Devourer")
        XCTAssertEqual(names[F.healer]?.specID, 9999, "what the log says is kept")
        XCTAssertNil(names[F.healer]?.className)
    }

    func testGzipLogsAreInflatedAsTheyAreRead() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("combatlog-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = folder.appendingPathComponent("WoWCombatLog-021626_230000.txt")
        try F.tww().write(to: plain, atomically: true, encoding: .utf8)
        let expected = try CombatLogFile.parse(plain) { _ in }
        for name in ["a.log.gz", "b.log.gz"] {
            try Self.gzip(plain, to: folder.appendingPathComponent(name))
        }
        let packed = folder.appendingPathComponent("WoWCombatLog-021626_230000.txt.gz")
        try FileManager.default.moveItem(at: folder.appendingPathComponent("a.log.gz"), to: packed)
        var encounters: [ParsedEncounter] = []
        let reader = try CombatLogReader(packed, chunkSize: 37) { encounters.append($0) }
        XCTAssertTrue(CombatLogFile.looksLikeCombatLog([UInt8](try Data(contentsOf: packed).prefix(4096))))
        while try reader.step() {}
        XCTAssertTrue(reader.isCompressed)
        XCTAssertEqual(reader.bytesRead, reader.size, "progress counts compressed bytes")
        let summary = reader.finish()
        XCTAssertEqual(summary.events, expected.events)
        XCTAssertEqual(summary.encounters, 2)
        XCTAssertEqual(encounters.count, 2)

        // Cut short: what could be read is kept, and the cut is reported.
        let whole = try Data(contentsOf: packed)
        let cut = folder.appendingPathComponent("cut.txt.gz")
        try whole.prefix(whole.count * 2 / 3).write(to: cut)
        let cutReader = try CombatLogReader(cut) { _ in }
        while try cutReader.step() {}
        let cutSummary = cutReader.finish()
        XCTAssertTrue(cutSummary.problems.contains { $0.reason.contains("gzip data ends before its end") }, "\(cutSummary.problems)")
    }

    /// `gzip -c`, the real tool, as a user would compress a log.
    static func gzip(_ source: URL, to target: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -c \"$0\" > \"$1\"", source.path, target.path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
    }

    func testBreakdownsFollowTheRulesWorkedOutByHand() throws {
        let (_, encounters, _) = Self.parse(F.breakdowns())
        let pull = try XCTUnwrap(encounters.first)
        XCTAssertEqual(pull.durationMs, 9000)
        let breakdowns = pull.breakdowns
        func ability(_ guid: String, _ kind: String, _ spell: Int64, pet: String? = nil) -> AbilityBreakdown? {
            breakdowns.abilities.first { $0.guid == guid && $0.kind == kind && $0.spellID == spell && $0.pet == pet }
        }
        // Shield Slam: 1000 + 200 into a shield (crit), then 800: damage done counts what went into shields.
        let slam = try XCTUnwrap(ability(F.tank, "damage", 23922))
        XCTAssertEqual([slam.hits, slam.crits], [2, 1])
        XCTAssertEqual([slam.total, slam.absorbed, slam.overkill], [2000, 200, 0])
        XCTAssertEqual(slam.spellName, "Shield Slam")
        XCTAssertEqual(slam.school, 1)
        // Melee once (SWING_DAMAGE, not its _LANDED twin), as spell 1.
        XCTAssertEqual(ability(F.tank, "damage", 1)?.total, 300)
        XCTAssertEqual(ability(F.tank, "damage", 1)?.spellName, "Melee")
        // The Augmentation Evoker's share moves to the Evoker under the buff, and shows as taken from the tank.
        XCTAssertEqual(ability(F.evoker, "damage", 395152)?.total, 200)
        XCTAssertEqual(ability(F.evoker, "damage", 395152)?.spellName, "Ebon Might")
        XCTAssertEqual(ability(F.tank, "damage", 395152)?.total, -200)
        XCTAssertEqual(pull.characters.first { $0.guid == F.tank }?.damageDone, 2000 + 300 - 200, "abilities add up to the total")
        // The wolf's melee is the hunter's, marked as the wolf's.
        let wolf = try XCTUnwrap(ability(F.hunter, "damage", 1, pet: "Wolf"))
        XCTAssertEqual([wolf.total, Int64(wolf.crits)], [200, 1])
        // Healing: amount minus overhealing; shields' absorbs are healing by the shield's spell.
        let flash = try XCTUnwrap(ability(F.healer, "healing", 2061))
        XCTAssertEqual([flash.total, flash.overkill, Int64(flash.hits), Int64(flash.crits)], [2000 + 500, 1000, 2, 1])
        XCTAssertEqual(ability(F.healer, "healing", 17)?.total, 1000)
        // Taken: amount, what shields took apart, overkill.
        let devoured = try XCTUnwrap(ability(F.healer, "taken", 1226867))
        XCTAssertEqual([devoured.total, devoured.absorbed], [5000, 1000])
        XCTAssertEqual(ability(F.hunter, "taken", 1226867)?.overkill, 1500)

        // The hunter's death: the heal then the killing blow within the window, and the healer's battle resurrection.
        let death = try XCTUnwrap(breakdowns.deaths.first)
        XCTAssertEqual(breakdowns.deaths.count, 1, "players only")
        XCTAssertEqual(death.guid, F.hunter)
        XCTAssertEqual(death.atMs, 6000)
        XCTAssertEqual(death.events.map(\.kind), ["heal", "damage"])
        XCTAssertEqual(death.events.first?.amount, 500)
        XCTAssertEqual(death.events.first?.source, "Mendwell-Ravencrest-EU")
        XCTAssertEqual(
            death.killingBlow,
            RecapEvent(atMs: 6000, kind: "damage", source: "Soulbinder Naazindhri", spellID: 1226867, spellName: "Devour", amount: 4000, overkill: 1500))
        XCTAssertEqual(death.resurrectedBy, "Mendwell-Ravencrest-EU")
        XCTAssertEqual(death.resurrectedAtMs, 8000)

        XCTAssertEqual(
            breakdowns.interrupts,
            [
                InterruptRecord(guid: F.tank, kind: "interrupt", spellID: 6552, spellName: "Pummel", extraSpellID: 1234567, extraSpellName: "Void Bolt", count: 1),
                InterruptRecord(guid: F.healer, kind: "dispel", spellID: 527, spellName: "Purify", extraSpellID: 7654321, extraSpellName: "Shadow Curse", count: 1),
            ].sorted { ($0.guid, $0.kind) < ($1.guid, $1.kind) })

        // Per second from the pull's start, nine seconds long.
        XCTAssertEqual(breakdowns.timeline.raid.damage, [1200, 1100, 200, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(breakdowns.timeline.raid.healing, [0, 0, 0, 1000, 2000, 500, 0, 0, 0])
        XCTAssertEqual(breakdowns.timeline.characters[F.tank]?.damage.prefix(3), [1200, 900, 0])
        XCTAssertEqual(breakdowns.timeline.characters[F.evoker]?.damage.prefix(2), [0, 200])
    }

    func testTheRecapWindowIsConfigurable() {
        var encounters: [ParsedEncounter] = []
        let parser = CombatLogParser(year: 2026, recapWindowMs: 100) { encounters.append($0) }
        Array(F.breakdowns().utf8).withUnsafeBytes { parser.consume($0) }
        _ = parser.finish()
        XCTAssertEqual(encounters.first?.breakdowns.deaths.first?.events.map(\.kind), ["damage"], "the heal 200 ms before is outside 100 ms")
    }
}
