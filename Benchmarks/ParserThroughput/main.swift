// Parses one combat log with the CombatLog cog's parser sources compiled beside this file (scripts/bench/
// parser_ab.py builds it twice: from a previous commit's Plugins/CombatLog/Parser and from the working tree's), so
// two versions of the parser are measured by the same program on the same file.
import Foundation

let url = URL(fileURLWithPath: CommandLine.arguments[1])
var encounters = 0
let started = ContinuousClock.now
let reader = try CombatLogReader(url) { _ in encounters += 1 }
while try reader.step() {}
let summary = reader.finish()
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("PARSED encounters=\(encounters) events=\(summary.events) seconds=\(seconds)")
