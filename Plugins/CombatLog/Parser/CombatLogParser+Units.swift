/// How the parser knows units: players by GUID hash, the owners of pets and guardians, names noted once.
extension CombatLogParser {
    /// The player index of the player GUID in field `guid`, registering it (with the name in field `name`).
    func player(_ guid: Int, name: Int?) -> Int {
        let key = fields.hash(guid)
        if let index = playerIndex[key] {
            if let name, players[index].name.isEmpty { players[index].name = fields.string(name) }
            return index
        }
        let index = players.count
        let text = fields.string(guid)
        players.append(ParsedCharacter(guid: text, name: name.map { fields.string($0) } ?? "", className: nil, spec: nil))
        playerIndex[key] = index
        indexByGUID[text] = index
        return index
    }

    /// The player who answers for the unit in field `guid`: the player, or the owner of a pet or guardian.
    func owner(of guid: Int, name: Int?) -> Int? {
        if fields.isPlayer(guid) { return player(guid, name: name) }
        if fields.isNobody(guid) { return nil }
        return owners[fields.hash(guid)]
    }

    /// The spell of an event with `prefixFields` prefix fields: its id (melee 1, environment 0). Its name is noted
    /// (``noteSpellName(_:prefixFields:)``) only when a row for it is made, not at every event.
    @inline(__always)
    func spell(prefixFields: Int) -> Int64 {
        switch prefixFields {
        case 3: fields.integer(8) ?? -1
        case 0: 1
        default: 0
        }
    }

    func noteSpellName(_ id: Int64, prefixFields: Int) {
        if prefixFields == 3, spellNames[id] == nil { spellNames[id] = fields.string(9) }
    }

    /// The spell id in field `idField` (its name in the next field), noting the name the first time.
    @inline(__always)
    func spell(idField: Int) -> Int64 {
        let id = fields.integer(idField) ?? -1
        if spellNames[id] == nil { spellNames[id] = fields.string(idField + 1) }
        return id
    }

    /// The GUID hash of the unit in field `guid`, its name (field `name`) noted the first time.
    @inline(__always)
    func unit(_ guid: Int, name: Int) -> UInt64 {
        let key = fields.hash(guid)
        if unitNames[key] == nil { unitNames[key] = fields.isNobody(guid) ? "" : fields.string(name) }
        return key
    }

    /// The unit in field `guid` as the source of something `player` took: its name is noted only when it differs
    /// from the source of the player's last such event (a boss hitting the tank again costs no lookup).
    @inline(__always)
    func source(_ guid: Int, name: Int, lastOf player: Int, in breakdown: BreakdownRecorder) -> UInt64 {
        let key = fields.hash(guid)
        if key != breakdown.lastSource(of: player), unitNames[key] == nil {
            unitNames[key] = fields.isNobody(guid) ? "" : fields.string(name)
        }
        return key
    }

    /// The pet or guardian in field `guid` acting for its owner, as a unit hash; 0 when a player acts themselves.
    @inline(__always)
    func pet(_ guid: Int, name: Int) -> UInt64 {
        fields.isPlayer(guid) ? 0 : unit(guid, name: name)
    }

    /// The advanced block names the unit it describes and that unit's owner: remember pets' owners from it.
    func learnOwner(blockAt start: Int, before suffix: Int) {
        guard suffix - start >= 17, !fields.isNobody(start + 1), !fields.isPlayer(start) else { return }
        if fields.isPlayer(start + 1) {
            owners[fields.hash(start)] = player(start + 1, name: nil)
        } else if let owner = owners[fields.hash(start + 1)] {
            owners[fields.hash(start)] = owner
        }
    }
}
