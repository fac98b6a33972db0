import Foundation

/// What each event the parser cares about does to the open encounter and the characters' figures.
extension CombatLogParser {
    /// Reads one event of a kind the parser cares about; false if its fields do not fit the kind.
    func handle(_ kind: EventKind, at time: Int64) -> Bool {
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
}
