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
    public internal(set) var summary = ParseSummary()

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
    var current: OpenEncounter?
    var zoneName: String?
    var lastEventTime: Int64 = 0
    var lastTrashTime: Int64?

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

    func malformed(_ reason: String) {
        summary.malformedLines += 1
        if summary.problems.count < Self.keptProblems {
            summary.problems.append(ParseProblem(line: summary.lines, reason: reason))
        }
    }

    func countEvent(at time: Int64) {
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

    // MARK: Encounters

    func closeEncounter(end: (time: Int64, success: Bool, fightTime: Int64?)?) {
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
