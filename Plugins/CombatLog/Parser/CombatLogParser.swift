import Foundation

/// A streaming parser of WoWCombatLog.txt: feed it bytes in chunks of any size with ``consume(_:)``, then call
/// ``finish()``. It never holds more than one line beyond the chunk in hand, and reads fields as byte ranges,
/// making strings only for names the first time a unit is seen.
///
/// Completed encounters are handed to `onEncounter` as the log closes them, so a caller can store them while the
/// rest of the file is read.
public final class CombatLogParser {
    /// The longest line read: real lines are a few hundred bytes; a longer one is malformed, not held in memory.
    public static let maxLineBytes = 64 * 1024
    /// Problems kept with their line numbers; later ones are only counted.
    public static let keptProblems = 50
    /// Gaps between a character's events longer than this do not count as active time.
    static let activityGapMs: Int64 = 3000
    /// The durations an encounter can have, in milliseconds: at most a day.
    static let fightTimes: ClosedRange<Int64> = 0...86_400_000
    /// A silence this long outside encounters starts a new trash segment.
    static let trashGapMs: Int64 = 60_000

    private let onEncounter: (ParsedEncounter) -> Void
    let fields = LineFields()
    private var clock: CombatTimestamp
    private var carry: [UInt8] = []
    /// Whether the rest of an over-long line is being dropped.
    private var skippingLongLine = false
    private(set) public var summary = ParseSummary()

    // Units: players by GUID hash (index into `players`), pets and guardians by GUID hash to their owner's index.
    var playerIndex: [UInt64: Int] = [:]
    var players: [ParsedCharacter] = []
    var indexByGUID: [String: Int] = [:]
    var owners: [UInt64: Int] = [:]
    // Names for the breakdowns, made once per spell id and per unit, not per event.
    var spellNames: [Int64: String] = [1: "Melee", 0: "Environment"]
    var unitNames: [UInt64: String] = [:]
    /// How far back a death recap looks.
    let recapWindowMs: Int64

    // The open encounter.
    private var current: OpenEncounter?
    private var zoneName: String?
    private var lastEventTime: Int64 = 0
    private var lastTrashTime: Int64?

    /// `year` is assumed for stamps without one (the DF-era form); it steps on at a December-to-January wrap. A
    /// death recap holds what the player took in the `recapWindowMs` before the death.
    public init(year: Int, recapWindowMs: Int64 = 10_000, onEncounter: @escaping (ParsedEncounter) -> Void) {
        clock = CombatTimestamp(year: year)
        self.recapWindowMs = recapWindowMs
        self.onEncounter = onEncounter
    }

    /// Reads the complete lines of `chunk`, keeping a trailing partial line for the next call. A line longer than
    /// ``maxLineBytes`` is reported as malformed and skipped to its end, never held whole.
    public func consume(_ chunk: UnsafeRawBufferPointer) {
        let bytes = chunk.bindMemory(to: UInt8.self)
        summary.bytes += Int64(bytes.count)
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var start = 0
        if skippingLongLine || !carry.isEmpty {
            guard let newline = memchr(base, 0x0A, bytes.count) else {
                keep(UnsafeBufferPointer(start: base, count: bytes.count))
                return
            }
            let length = UnsafeRawPointer(newline) - UnsafeRawPointer(base)
            keep(UnsafeBufferPointer(start: base, count: length))
            if skippingLongLine {
                skippingLongLine = false
            } else {
                carry.withUnsafeBufferPointer { line(from: $0, count: $0.count) }
            }
            carry.removeAll(keepingCapacity: true)
            start = length + 1
        }
        while start < bytes.count {
            guard let newline = memchr(base + start, 0x0A, bytes.count - start) else {
                keep(UnsafeBufferPointer(start: base + start, count: bytes.count - start))
                return
            }
            let end = UnsafeRawPointer(newline) - UnsafeRawPointer(base)
            if end - start > Self.maxLineBytes {
                summary.lines += 1
                malformed("a line longer than \(Self.maxLineBytes) bytes")
            } else {
                line(from: UnsafeBufferPointer(start: base + start, count: end - start), count: end - start)
            }
            start = end + 1
        }
    }

    /// Holds the start of a line until its end arrives; past ``maxLineBytes`` the line is counted as malformed once
    /// and the rest of it is dropped as it comes.
    private func keep(_ part: UnsafeBufferPointer<UInt8>) {
        guard !skippingLongLine else { return }
        guard carry.count + part.count <= Self.maxLineBytes else {
            carry.removeAll(keepingCapacity: false)
            skippingLongLine = true
            summary.lines += 1
            malformed("a line longer than \(Self.maxLineBytes) bytes")
            return
        }
        carry.append(contentsOf: part)
    }

    /// Reads a last line without a newline (reported if it is cut short), closes an encounter the log left open,
    /// and answers the summary.
    public func finish() -> ParseSummary {
        if !carry.isEmpty {
            carry.withUnsafeBufferPointer { line(from: $0, count: $0.count, atEndOfFile: true) }
            carry.removeAll()
        }
        closeEncounter(end: nil)
        summary.characters = players
        return summary
    }

    /// What is known so far of the characters of `encounter`, by GUID.
    public func characters(of encounter: ParsedEncounter) -> [String: ParsedCharacter] {
        var found: [String: ParsedCharacter] = [:]
        for metrics in encounter.characters {
            if let index = indexByGUID[metrics.guid] { found[metrics.guid] = players[index] }
        }
        return found
    }

    // MARK: Lines

    private func line(from raw: UnsafeBufferPointer<UInt8>, count rawCount: Int, atEndOfFile: Bool = false) {
        summary.lines += 1
        var count = rawCount
        if count > 0, raw[count - 1] == 0x0D { count -= 1 }
        guard count > 0 else { return }
        let line = UnsafeBufferPointer(rebasing: raw[0..<count])
        // `<stamp>  <EVENT>,<fields>`: the stamp ends at the first double space.
        var separator = -1
        var index = 0
        let limit = min(count - 1, 40)
        while index < limit {
            if line[index] == 0x20 && line[index + 1] == 0x20 {
                separator = index
                break
            }
            index += 1
        }
        guard separator > 0, let time = clock.read(line, end: separator) else {
            return malformed(atEndOfFile ? "truncated line at the end of the file" : "no timestamp")
        }
        let nameStart = separator + 2
        var nameEnd = nameStart
        while nameEnd < count, line[nameEnd] != UInt8(ascii: ",") {
            let byte = line[nameEnd]
            guard (byte >= 65 && byte <= 90) || byte == 95 || (byte >= 48 && byte <= 57) else {
                return malformed(atEndOfFile ? "truncated line at the end of the file" : "not an event name")
            }
            nameEnd += 1
        }
        guard nameEnd > nameStart else { return malformed("no event name") }
        let kind = EventKind.of(UnsafeBufferPointer(rebasing: line[nameStart..<nameEnd]))
        if case .other = kind {
            countEvent(at: time)
            return
        }
        guard nameEnd < count, fields.split(line, from: nameEnd + 1) else {
            return malformed(atEndOfFile ? "truncated line at the end of the file" : "unbalanced quotes or brackets")
        }
        guard handle(kind, at: time) else {
            return malformed(atEndOfFile ? "truncated line at the end of the file" : "too few fields for its event")
        }
    }

    /// Records a problem of the input itself (a compressed stream cut short), at the current line.
    public func report(_ reason: String) {
        malformed(reason)
    }

    private func malformed(_ reason: String) {
        summary.malformedLines += 1
        if summary.problems.count < Self.keptProblems {
            summary.problems.append(ParseProblem(line: summary.lines, reason: reason))
        }
    }

    private func countEvent(at time: Int64) {
        summary.events += 1
        lastEventTime = max(lastEventTime, time)
        if current != nil {
            current!.events += 1
        } else {
            if lastTrashTime.map({ time - $0 > Self.trashGapMs }) ?? true { summary.trashSegments += 1 }
            lastTrashTime = time
            summary.trashEvents += 1
        }
    }

    /// Reads one event of a kind the parser cares about; false if its fields do not fit the kind.
    private func handle(_ kind: EventKind, at time: Int64) -> Bool {
        let count = fields.count
        switch kind {
        case .damage(let prefix):
            var tail = count
            if fields.equals(tail - 1, "ST") || fields.equals(tail - 1, "AOE") { tail -= 1 }
            let suffix = tail - 10
            guard suffix >= 8 + prefix, let amount = fields.integer(suffix) else { return false }
            countEvent(at: time)
            learnOwner(blockAt: 8 + prefix, before: suffix)
            // The open encounter is moved out and back: one access to the property per event, not one per figure.
            guard let open = current else { return true }
            let absorbed = max(0, fields.integer(tail - 4) ?? 0)
            let overkill = max(0, fields.integer(suffix + 2) ?? 0)
            let school = fields.integer(suffix + 3) ?? 0
            let critical = fields.equals(suffix + 7, "1")
            let spell = spell(prefixFields: prefix)
            if let actor = owner(of: 0, name: 1), fields.hex(6) & 0x10 == 0 {
                open.tally.add(\.damageDone, amount + absorbed, to: actor, at: time)
                let created = open.tally.breakdown.ability(
                    actor, .damage, spell: spell, pet: pet(0, name: 1), school: school, total: amount + absorbed, overkill: overkill,
                    absorbed: absorbed, critical: critical)
                if created { noteSpellName(spell, prefixFields: prefix) }
                open.tally.breakdown.timeline(actor, damage: amount + absorbed, at: time)
            }
            if fields.isPlayer(4) {
                let victim = player(4, name: 5)
                open.tally.add(\.damageTaken, amount, to: victim, at: nil)
                let created = open.tally.breakdown.ability(
                    victim, .taken, spell: spell, pet: 0, school: school, total: amount, overkill: overkill, absorbed: absorbed,
                    critical: critical)
                if created { noteSpellName(spell, prefixFields: prefix) }
                open.tally.breakdown.took(
                    victim, .init(time: time, isDamage: true, source: source(0, name: 1, lastOf: victim, in: open.tally.breakdown), spell: spell,
                                  amount: amount, overkill: overkill))
            }
        case .damageSupport:
            guard count >= 19, let amount = fields.integer(count - 11) ?? fields.integer(count - 12) else { return false }
            countEvent(at: time)
            guard current != nil, fields.hex(6) & 0x10 == 0 else { return true }
            // The buffed player's own event already counted the hit: move this share to the Evoker, under the buff.
            let buff = spell(idField: 8)
            let school = fields.integer(10) ?? 0
            if let buffed = owner(of: 0, name: 1) {
                current!.tally.add(\.damageDone, -amount, to: buffed, at: nil)
                current!.tally.breakdown.ability(
                    buffed, .damage, spell: buff, pet: 0, school: school, total: -amount, overkill: 0, absorbed: 0, critical: false)
                current!.tally.breakdown.timeline(buffed, damage: -amount, at: time)
            }
            if let supporter = owner(of: count - 1, name: nil) {
                current!.tally.add(\.damageDone, amount, to: supporter, at: time)
                current!.tally.breakdown.ability(
                    supporter, .damage, spell: buff, pet: 0, school: school, total: amount, overkill: 0, absorbed: 0, critical: false)
                current!.tally.breakdown.timeline(supporter, damage: amount, at: time)
            }
        case .heal(let prefix):
            let suffix = count - 5
            guard suffix >= 8 + prefix, let amount = fields.integer(suffix) else { return false }
            countEvent(at: time)
            learnOwner(blockAt: 8 + prefix, before: suffix)
            guard let open = current else { return true }
            let overhealing = max(0, fields.integer(suffix + 2) ?? 0)
            let spell = spell(prefixFields: 3)
            let actor = owner(of: 0, name: 1)
            if let actor {
                open.tally.add(\.healingDone, amount - overhealing, to: actor, at: time)
                open.tally.add(\.overhealing, overhealing, to: actor, at: nil)
                let created = open.tally.breakdown.ability(
                    actor, .healing, spell: spell, pet: pet(0, name: 1), school: fields.integer(10) ?? 0, total: amount - overhealing,
                    overkill: overhealing, absorbed: max(0, fields.integer(suffix + 3) ?? 0), critical: fields.equals(suffix + 4, "1"))
                if created { noteSpellName(spell, prefixFields: 3) }
                open.tally.breakdown.timeline(actor, healing: amount - overhealing, at: time)
            }
            if fields.isPlayer(4) {
                if actor == nil { noteSpellName(spell, prefixFields: 3) }  // a heal from outside the group has no row to name it
                let healed = player(4, name: 5)
                open.tally.breakdown.took(
                    healed,
                    .init(time: time, isDamage: false, source: source(0, name: 1, lastOf: healed, in: open.tally.breakdown), spell: spell,
                          amount: amount - overhealing, overkill: overhealing))
            }
        case .healSupport:
            guard count >= 14, let amount = fields.integer(count - 6), let overhealing = fields.integer(count - 4) else { return false }
            countEvent(at: time)
            guard current != nil else { return true }
            let buff = spell(idField: 8)
            let effective = amount - overhealing
            if let healer = owner(of: 0, name: 1) {
                current!.tally.add(\.healingDone, -effective, to: healer, at: nil)
                current!.tally.breakdown.ability(healer, .healing, spell: buff, pet: 0, school: 0, total: -effective, overkill: 0, absorbed: 0, critical: false)
                current!.tally.breakdown.timeline(healer, healing: -effective, at: time)
            }
            if let supporter = owner(of: count - 1, name: nil) {
                current!.tally.add(\.healingDone, effective, to: supporter, at: time)
                current!.tally.breakdown.ability(supporter, .healing, spell: buff, pet: 0, school: 0, total: effective, overkill: 0, absorbed: 0, critical: false)
                current!.tally.breakdown.timeline(supporter, healing: effective, at: time)
            }
        case .absorbed:
            // Melee (18 fields) or spell (21) shape; from the end both read the same.
            guard count == 18 || count == 21, let amount = fields.integer(count - 3) else { return false }
            countEvent(at: time)
            if current != nil, let absorber = owner(of: count - 10, name: count - 9) {
                current!.tally.add(\.absorbsDone, amount, to: absorber, at: time)
                let shield = spell(idField: count - 6)
                current!.tally.breakdown.ability(
                    absorber, .healing, spell: shield, pet: pet(count - 10, name: count - 9), school: fields.integer(count - 4) ?? 0,
                    total: amount, overkill: 0, absorbed: 0, critical: false)
                current!.tally.breakdown.timeline(absorber, healing: amount, at: time)
            }
        case .summon:
            guard count >= 8 else { return false }
            countEvent(at: time)
            if let summoner = owner(of: 0, name: 1), !fields.isNobody(4) { owners[fields.hash(4)] = summoner }
        case .died:
            guard count >= 8 else { return false }
            countEvent(at: time)
            if current != nil, fields.isPlayer(4) {
                let victim = player(4, name: 5)
                current!.tally.add(\.deaths, 1, to: victim, at: nil)
                current!.tally.breakdown.died(victim, at: time)
            }
        case .interrupt, .dispel:
            guard count >= 14 else { return false }
            countEvent(at: time)
            if current != nil, let actor = owner(of: 0, name: 1) {
                current!.tally.touch(actor)
                let isDispel = if case .dispel = kind { true } else { false }
                current!.tally.breakdown.interrupted(actor, dispel: isDispel, spell: spell(idField: 8), extraSpell: spell(idField: 11))
            }
        case .resurrect:
            guard count >= 11 else { return false }
            countEvent(at: time)
            if current != nil, fields.isPlayer(4) {
                current!.tally.breakdown.resurrected(player(4, name: 5), by: unit(0, name: 1), at: time)
            }
        case .encounterStart:
            guard count >= 5, let id = fields.integer(0), let difficulty = fields.integer(2), let size = fields.integer(3) else {
                return false
            }
            closeEncounter(end: nil)
            summary.events += 1
            current = OpenEncounter(
                id: id, boss: fields.string(1), difficulty: difficulty, groupSize: size,
                instanceID: fields.integer(4) ?? 0, instanceName: zoneName, start: time, recapWindowMs: recapWindowMs)
            lastTrashTime = nil
        case .encounterEnd:
            guard count >= 6, let id = fields.integer(0), let success = fields.integer(4) else { return false }
            summary.events += 1
            if current?.id == id {
                closeEncounter(end: (time: time, success: success == 1, fightTime: fields.integer(5)))
            }
            lastEventTime = max(lastEventTime, time)
        case .combatantInfo:
            guard count >= 2, fields.isPlayer(0) else { return false }
            countEvent(at: time)
            let index = player(0, name: nil)
            // The spec id is the last plain field before the first list (talents).
            var specField = 1
            while specField + 1 < count, fields.firstByte(specField + 1) != UInt8(ascii: "["),
                fields.firstByte(specField + 1) != UInt8(ascii: "(")
            {
                specField += 1
            }
            if let specID = fields.integer(specField) {
                players[index].specID = specID
                if let spec = Specs.describe(specID) {
                    players[index].className = spec.className
                    players[index].spec = spec.spec
                }
            }
            current?.tally.touch(index)
        case .zoneChange:
            guard count >= 2 else { return false }
            closeEncounter(end: nil)
            zoneName = fields.string(1)
            countEvent(at: time)
        case .header:
            summary.logVersion = fields.integer(0)
            if count >= 3 { summary.advancedLogging = fields.integer(2).map { $0 == 1 } }
            summary.events += 1
        case .other:
            countEvent(at: time)
        }
        return true
    }

    // MARK: Encounters

    private func closeEncounter(end: (time: Int64, success: Bool, fightTime: Int64?)?) {
        guard let open = current else { return }
        current = nil
        lastTrashTime = nil
        // The fight time ENCOUNTER_END states, if it is one a fight can have; else the time between the stamps.
        let stated = end.flatMap { $0.fightTime }.flatMap { Self.fightTimes.contains($0) ? $0 : nil }
        let duration = stated ?? min(Self.fightTimes.upperBound, max(0, (end?.time ?? lastEventTime) - open.start))
        let seconds = Double(max(duration, 1)) / 1000
        let characters = open.tally.slots.enumerated().compactMap { index, totals -> CharacterMetrics? in
            guard var metrics = totals else { return nil }
            metrics.guid = players[index].guid
            metrics.dps = (Double(metrics.damageDone) / seconds * 10).rounded() / 10
            metrics.hps = (Double(metrics.healingDone.saturatingAdding(metrics.absorbsDone)) / seconds * 10).rounded() / 10
            return metrics
        }.sorted { $0.damageDone != $1.damageDone ? $0.damageDone > $1.damageDone : $0.guid < $1.guid }
        summary.encounters += 1
        let breakdowns = open.tally.breakdown.finish(
            durationMs: duration, guid: { self.players[$0].guid }, spell: { self.spellNames[$0] ?? "Spell \($0)" },
            unit: { self.unitNames[$0] ?? "" })
        onEncounter(
            ParsedEncounter(
                encounterID: open.id, bossName: open.boss, instanceID: open.instanceID, instanceName: open.instanceName,
                difficultyID: open.difficulty, difficulty: Specs.difficulty(open.difficulty), groupSize: open.groupSize,
                success: end?.success ?? false, startTime: open.start, durationMs: duration, complete: end != nil,
                events: open.events, characters: characters, breakdowns: breakdowns))
    }
}
