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

    struct AbilityKey: Hashable {
        var player: Int32
        var kind: Kind
        var spell: Int64
        /// The pet or guardian's GUID hash; 0 for the player's own.
        var pet: UInt64
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
    private(set) var abilities: [AbilityKey: AbilityTotals] = [:]
    private var recent: [Int: [Recent]] = [:]
    private(set) var deaths: [Death] = []
    private(set) var interrupts: [InterruptKey: Int] = [:]
    private(set) var timeline: [Int: Timeline.Series] = [:]

    init(start: Int64, recapWindowMs: Int64) {
        self.start = start
        self.recapWindowMs = recapWindowMs
    }

    private func second(_ time: Int64) -> Int { Int(max(0, time - start) / 1000) }

    mutating func ability(
        _ player: Int, _ kind: Kind, spell: Int64, pet: UInt64, school: Int64, total: Int64, overkill: Int64, absorbed: Int64,
        critical: Bool, hits: Int = 1
    ) {
        let key = AbilityKey(player: Int32(player), kind: kind, spell: spell, pet: pet)
        abilities[key, default: AbilityTotals(school: school)].add(total: total, overkill: overkill, absorbed: absorbed, critical: critical, hits: hits)
    }

    mutating func timeline(_ player: Int, damage: Int64 = 0, healing: Int64 = 0, at time: Int64) {
        let second = second(time)
        if damage != 0 { timeline[player, default: Timeline.Series()].add(damage: damage, second: second) }
        if healing != 0 { timeline[player, default: Timeline.Series()].add(healing: healing, second: second) }
    }

    /// A hit or heal `player` took, kept for their death recap while it is within the window.
    mutating func took(_ player: Int, _ event: Recent) {
        var events = recent[player] ?? []
        events.append(event)
        if events.count > 64 || (events.first.map { event.time - $0.time > recapWindowMs } ?? false) {
            events.removeAll { event.time - $0.time > recapWindowMs }
            if events.count > 64 { events.removeFirst(events.count - 64) }
        }
        recent[player] = events
    }

    mutating func died(_ player: Int, at time: Int64) {
        let events = (recent[player] ?? []).filter { time - $0.time <= recapWindowMs && $0.time <= time }
        recent[player] = nil
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
        result.abilities = abilities.map { key, totals in
            AbilityBreakdown(
                guid: guid(Int(key.player)), kind: key.kind.name, spellID: key.spell, spellName: spell(key.spell), school: totals.school,
                pet: key.pet == 0 ? nil : unit(key.pet), hits: totals.hits, crits: totals.crits, total: totals.total,
                overkill: totals.overkill, absorbed: totals.absorbed)
        }.sorted { ($0.guid, $0.kind, -$0.total, $0.spellID, $0.pet ?? "") < ($1.guid, $1.kind, -$1.total, $1.spellID, $1.pet ?? "") }
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
        let seconds = Int((max(durationMs, 1) + 999) / 1000)
        for (player, series) in timeline {
            var padded = series
            padded.pad(to: max(seconds, series.damage.count, series.healing.count))
            result.timeline.characters[guid(player)] = padded
            for (index, amount) in padded.damage.enumerated() where amount != 0 { result.timeline.raid.add(damage: amount, second: index) }
            for (index, amount) in padded.healing.enumerated() where amount != 0 { result.timeline.raid.add(healing: amount, second: index) }
        }
        result.timeline.raid.pad(to: seconds)
        return result
    }
}

extension BreakdownRecorder.AbilityTotals {
    fileprivate mutating func add(total: Int64, overkill: Int64, absorbed: Int64, critical: Bool, hits: Int) {
        self.hits += hits
        if critical { crits += 1 }
        self.total += total
        self.overkill += overkill
        self.absorbed += absorbed
    }
}
