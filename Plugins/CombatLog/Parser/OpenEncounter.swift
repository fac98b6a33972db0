/// The encounter being read: a class, so reaching it from the parser costs a pointer, not a copy. Its figures are
/// one struct, so each update is one access to the class's storage rather than one per figure.
final class OpenEncounter {
    let id: Int64
    let boss: String
    let difficulty: Int64
    let groupSize: Int64
    let instanceID: Int64
    let instanceName: String?
    let start: Int64
    var events = 0
    var tally: Tally

    init(
        id: Int64, boss: String, difficulty: Int64, groupSize: Int64, instanceID: Int64, instanceName: String?, start: Int64,
        recapWindowMs: Int64
    ) {
        tally = Tally(breakdown: BreakdownRecorder(start: start, recapWindowMs: recapWindowMs))
        self.id = id
        self.boss = boss
        self.difficulty = difficulty
        self.groupSize = groupSize
        self.instanceID = instanceID
        self.instanceName = instanceName
        self.start = start
    }
}

/// One open encounter's figures per character and its breakdowns.
struct Tally {
    /// By player index (dense: every player seen so far has an index): nil for one not in this pull.
    private(set) var slots: [CharacterMetrics?] = []
    /// By player index: the time of their last action, -1 for none.
    private var lastAction: [Int64] = []
    var breakdown: BreakdownRecorder

    init(breakdown: BreakdownRecorder) { self.breakdown = breakdown }

    mutating func touch(_ player: Int) {
        if slots.count <= player {
            slots.append(contentsOf: repeatElement(nil, count: player + 1 - slots.count))
            lastAction.append(contentsOf: repeatElement(-1, count: player + 1 - lastAction.count))
        }
        if slots[player] == nil { slots[player] = CharacterMetrics(guid: "") }
    }

    /// Adds `amount` to one figure of `player`; an action at `time` also counts toward active time.
    @inline(__always)
    mutating func add<Value: FixedWidthInteger>(
        _ figure: WritableKeyPath<CharacterMetrics, Value>, _ amount: Value, to player: Int, at time: Int64?
    ) {
        touch(player)
        slots[player]![keyPath: figure] = slots[player]![keyPath: figure].saturatingAdding(amount)
        guard let time else { return }
        let last = lastAction[player]
        if last >= 0, time >= last, time - last <= CombatLogParser.activityGapMs {
            slots[player]!.activeTimeMs += time - last
        }
        lastAction[player] = time
    }
}
