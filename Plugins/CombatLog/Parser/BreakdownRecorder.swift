/// Collects one open encounter's breakdowns from the parser's events, by player index and ids (names are looked
/// up once, at the end), so the hot path adds a dictionary update per event and makes no string.
struct BreakdownRecorder {
    enum Kind: UInt8 {
        case damage, healing, taken

        var name: String {
            switch self {
            case .damage: "damage"
            case .healing: "healing"
            case .taken: "taken"
            }
        }
    }

    struct AbilityKey: Equatable {
        var player: Int32
        var kind: Kind
        var spell: Int64
        /// The pet or guardian's GUID hash; 0 for the player's own.
        var pet: UInt64

        /// A multiplicative mix: cheaper than `Hasher` for a table that only this parser fills.
        var mixed: UInt64 {
            let packed = UInt64(UInt32(bitPattern: player)) << 34 ^ UInt64(kind.rawValue) << 32 ^ UInt64(bitPattern: spell)
            return (packed &* 0x9E37_79B9_7F4A_7C15) ^ (pet &* 0xC2B2_AE3D_27D4_EB4F)
        }
    }

    /// Ability rows by key, with open addressing: one probe per damage or heal event in the usual case.
    struct AbilityTable {
        private(set) var keys: [AbilityKey?] = Array(repeating: nil, count: 256)
        private(set) var rows: [AbilityTotals] = []
        private var slots: [Int32] = Array(repeating: -1, count: 256)

        /// The row of `key`, made with `make` when there is none; `created` says which.
        @inline(__always)
        mutating func row(_ key: AbilityKey, make: () -> AbilityTotals) -> (index: Int, created: Bool) {
            if rows.count * 2 >= slots.count { grow() }
            let mask = slots.count - 1
            var slot = Int(truncatingIfNeeded: key.mixed >> 7) & mask
            while true {
                let index = Int(slots[slot])
                if index < 0 {
                    slots[slot] = Int32(rows.count)
                    keys[slot] = key
                    rows.append(make())
                    return (rows.count - 1, true)
                }
                if keys[slot] == key { return (index, false) }
                slot = (slot + 1) & mask
            }
        }

        mutating func add(at index: Int, total: Int64, overkill: Int64, absorbed: Int64, critical: Bool, hits: Int) {
            rows[index].add(total: total, overkill: overkill, absorbed: absorbed, critical: critical, hits: hits)
        }

        /// Every key with its row.
        var entries: [(key: AbilityKey, value: AbilityTotals)] {
            zip(keys, slots).compactMap { key, index in key.map { ($0, rows[Int(index)]) } }
        }

        private mutating func grow() {
            let old = zip(keys, slots).compactMap { key, index in key.map { ($0, index) } }
            keys = Array(repeating: nil, count: slots.count * 2)
            slots = Array(repeating: -1, count: slots.count * 2)
            let mask = slots.count - 1
            for (key, index) in old {
                var slot = Int(truncatingIfNeeded: key.mixed >> 7) & mask
                while slots[slot] >= 0 { slot = (slot + 1) & mask }
                slots[slot] = index
                keys[slot] = key
            }
        }
    }

    struct AbilityTotals {
        var school: Int64 = 0
        var hits = 0
        var crits = 0
        var total: Int64 = 0
        var overkill: Int64 = 0
        var absorbed: Int64 = 0
    }

    struct Recent {
        var time: Int64
        var isDamage: Bool
        var source: UInt64
        var spell: Int64
        var amount: Int64
        var overkill: Int64
    }

    struct Death {
        var player: Int
        var time: Int64
        var killingBlow: Recent?
        var events: [Recent]
        var resurrectedBy: UInt64?
        var resurrectedAt: Int64?
    }

    struct InterruptKey: Hashable {
        var player: Int32
        var isDispel: Bool
        var spell: Int64
        var extraSpell: Int64
    }

    let start: Int64
    let recapWindowMs: Int64
    private(set) var abilities = AbilityTable()
    /// The most events a death recap can hold.
    static let recapCapacity = 64
    // By player index: arrays, not dictionaries, on the per-event path. Each player's last `recapCapacity` events
    // in a ring (`recentCount` written so far); the window is applied when a death reads them.
    private var recent: [[Recent]] = []
    private var recentCount: [Int] = []
    private(set) var deaths: [Death] = []
    private(set) var interrupts: [InterruptKey: Int] = [:]
    /// Per player index, per second: plain nested arrays written in place (an optional struct of arrays was copied
    /// on every write).
    private var damagePerSecond: [[Int64]] = []
    private var healingPerSecond: [[Int64]] = []
    private var inTimeline: [Bool] = []

    init(start: Int64, recapWindowMs: Int64) {
        self.start = start
        self.recapWindowMs = recapWindowMs
    }

    /// The second of the encounter `time` falls in; the timeline ends at the longest encounter there can be.
    private func second(_ time: Int64) -> Int {
        Int(min(max(0, time.subtractingReportingOverflow(start).partialValue), CombatLogParser.fightTimes.upperBound) / 1000)
    }

    /// Adds to one ability row; answers true when the row is new (the caller notes the spell's name then).
    @discardableResult
    mutating func ability(
        _ player: Int, _ kind: Kind, spell: Int64, pet: UInt64, school: Int64, total: Int64, overkill: Int64, absorbed: Int64,
        critical: Bool, hits: Int = 1
    ) -> Bool {
        let key = AbilityKey(player: Int32(player), kind: kind, spell: spell, pet: pet)
        let (index, created) = abilities.row(key) { AbilityTotals(school: school) }
        abilities.add(at: index, total: total, overkill: overkill, absorbed: absorbed, critical: critical, hits: hits)
        return created
    }

    mutating func timeline(_ player: Int, damage: Int64 = 0, healing: Int64 = 0, at time: Int64) {
        let second = second(time)
        if inTimeline.count <= player {
            let missing = player + 1 - inTimeline.count
            inTimeline.append(contentsOf: repeatElement(false, count: missing))
            damagePerSecond.append(contentsOf: repeatElement([], count: missing))
            healingPerSecond.append(contentsOf: repeatElement([], count: missing))
        }
        inTimeline[player] = true
        if damage != 0 { Self.add(damage, at: second, to: &damagePerSecond[player]) }
        if healing != 0 { Self.add(healing, at: second, to: &healingPerSecond[player]) }
    }

    private static func add(_ amount: Int64, at second: Int, to series: inout [Int64]) {
        if series.count <= second { series.append(contentsOf: repeatElement(0, count: second + 1 - series.count)) }
        series[second] = series[second].saturatingAdding(amount)
    }

    /// A hit or heal `player` took, kept for their death recap (the last `recapCapacity`).
    mutating func took(_ player: Int, _ event: Recent) {
        if recent.count <= player {
            recent.append(contentsOf: repeatElement([], count: player + 1 - recent.count))
            recentCount.append(contentsOf: repeatElement(0, count: player + 1 - recentCount.count))
        }
        let slot = recentCount[player] % Self.recapCapacity
        if recent[player].count <= slot { recent[player].append(event) } else { recent[player][slot] = event }
        recentCount[player] += 1
    }

    /// The source of the last event `player` took (the parser notes a source's name only when it changes).
    func lastSource(of player: Int) -> UInt64? {
        guard player < recentCount.count, recentCount[player] > 0 else { return nil }
        return recent[player][(recentCount[player] - 1) % Self.recapCapacity].source
    }

    mutating func died(_ player: Int, at time: Int64) {
        var kept: [Recent] = []
        if player < recent.count {
            let written = recentCount[player], ring = recent[player]
            kept = (max(0, written - Self.recapCapacity)..<written).map { ring[$0 % Self.recapCapacity] }
            recent[player] = []
            recentCount[player] = 0
        }
        let events = kept.filter { time - $0.time <= recapWindowMs && $0.time <= time }
        deaths.append(Death(player: player, time: time, killingBlow: events.last { $0.isDamage }, events: events))
    }

    mutating func resurrected(_ player: Int, by source: UInt64, at time: Int64) {
        guard let index = deaths.lastIndex(where: { $0.player == player && $0.resurrectedBy == nil }) else { return }
        deaths[index].resurrectedBy = source
        deaths[index].resurrectedAt = time
    }

    mutating func interrupted(_ player: Int, dispel: Bool, spell: Int64, extraSpell: Int64) {
        interrupts[InterruptKey(player: Int32(player), isDispel: dispel, spell: spell, extraSpell: extraSpell), default: 0] += 1
    }

    /// The breakdowns with names: `guid` of a player index, `spell` name of an id, `unit` name of a GUID hash.
    func finish(
        durationMs: Int64, guid: (Int) -> String, spell: (Int64) -> String, unit: (UInt64) -> String
    ) -> EncounterBreakdowns {
        var result = EncounterBreakdowns()
        // Sorted by numbers before any name is made: by player, kind, biggest first.
        let ordered = abilities.entries.sorted { a, b in
            (a.key.player, a.key.kind.rawValue, -a.value.total, a.key.spell, a.key.pet)
                < (b.key.player, b.key.kind.rawValue, -b.value.total, b.key.spell, b.key.pet)
        }
        result.abilities = ordered.map { key, totals in
            AbilityBreakdown(
                guid: guid(Int(key.player)), kind: key.kind.name, spellID: key.spell, spellName: spell(key.spell), school: totals.school,
                pet: key.pet == 0 ? nil : unit(key.pet), hits: totals.hits, crits: totals.crits, total: totals.total,
                overkill: totals.overkill, absorbed: totals.absorbed)
        }
        func recap(_ event: Recent) -> RecapEvent {
            RecapEvent(
                atMs: event.time - start, kind: event.isDamage ? "damage" : "heal", source: unit(event.source), spellID: event.spell,
                spellName: spell(event.spell), amount: event.amount, overkill: event.overkill)
        }
        result.deaths = deaths.map { death in
            DeathRecap(
                guid: guid(death.player), atMs: death.time - start, killingBlow: death.killingBlow.map(recap),
                events: death.events.map(recap), resurrectedBy: death.resurrectedBy.map(unit),
                resurrectedAtMs: death.resurrectedAt.map { $0 - start })
        }
        result.interrupts = interrupts.map { key, count in
            InterruptRecord(
                guid: guid(Int(key.player)), kind: key.isDispel ? "dispel" : "interrupt", spellID: key.spell, spellName: spell(key.spell),
                extraSpellID: key.extraSpell, extraSpellName: spell(key.extraSpell), count: count)
        }.sorted { ($0.guid, $0.kind, $0.spellID, $0.extraSpellID) < ($1.guid, $1.kind, $1.spellID, $1.extraSpellID) }
        let seconds = Int((min(max(durationMs, 1), CombatLogParser.fightTimes.upperBound) + 999) / 1000)
        for player in inTimeline.indices where inTimeline[player] {
            var padded = Timeline.Series(damage: damagePerSecond[player], healing: healingPerSecond[player])
            padded.pad(to: max(seconds, padded.damage.count, padded.healing.count))
            result.timeline.characters[guid(player)] = padded
            for (index, amount) in padded.damage.enumerated() where amount != 0 { result.timeline.raid.add(damage: amount, second: index) }
            for (index, amount) in padded.healing.enumerated() where amount != 0 { result.timeline.raid.add(healing: amount, second: index) }
        }
        result.timeline.raid.pad(to: seconds)
        return result
    }
}

extension BreakdownRecorder.AbilityTotals {
    mutating func add(total: Int64, overkill: Int64, absorbed: Int64, critical: Bool, hits: Int) {
        self.hits += hits
        if critical { crits += 1 }
        self.total = self.total.saturatingAdding(total)
        self.overkill = self.overkill.saturatingAdding(overkill)
        self.absorbed = self.absorbed.saturatingAdding(absorbed)
    }
}
