import ArgumentParser
import CombatLogCog
import Foundation
import GuildhallServer
import PluginAPI

struct CombatLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "combatlog", abstract: "Work with World of Warcraft combat logs.", subcommands: [Parse.self])

    struct Parse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse a WoWCombatLog.txt without a server: its encounters and a table per character.")
        @Argument(help: "The log file, plain or gzip-compressed (.gz); - reads standard input.") var file: String
        @Flag(help: "Print everything as one JSON document instead of tables.") var json = false

        func run() async throws {
            var encounters: [ParsedEncounter] = []
            let reader: CombatLogReader
            if file == "-" {
                let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).year ?? 2026
                reader = try CombatLogReader(handle: .standardInput, year: year) { encounters.append($0) }
            } else {
                let url = URL(fileURLWithPath: file)
                guard let handle = FileHandle(forReadingAtPath: url.path) else {
                    printError("cannot open \(file)")
                    throw ExitCode(1)
                }
                let head = [UInt8]((try? handle.read(upToCount: 4096)) ?? Data())
                try? handle.close()
                guard CombatLogFile.looksLikeCombatLog(head) else {
                    printError("\(file) is not a combat log (its first line is not `<timestamp>  <EVENT>,...`)")
                    throw ExitCode(1)
                }
                reader = try CombatLogReader(url) { encounters.append($0) }
            }
            let bar = ProgressBar(enabled: !json && isatty(STDERR_FILENO) == 1)
            let started = ContinuousClock.now
            while try reader.step() { bar.show(reader.bytesRead, reader.size) }
            let summary = reader.finish()
            if file == "-", summary.events == 0, summary.lines > 0 {
                bar.finish()
                printError("standard input is not a combat log (no line reads as `<timestamp>  <EVENT>,...`)")
                throw ExitCode(1)
            }
            bar.finish()
            if json {
                let document: JSONValue = ["summary": try JSONValueEncoder().encode(summary), "encounters": try JSONValueEncoder().encode(encounters)]
                FileHandle.standardOutput.write(document.jsonData())
                print()
            } else {
                Report(summary: summary, encounters: encounters, elapsed: ContinuousClock.now - started).print()
            }
        }
    }
}

/// A one-line progress bar on standard error, redrawn at most ten times a second.
final class ProgressBar {
    let enabled: Bool
    private var lastDrawn = ContinuousClock.now - .seconds(1)

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func show(_ done: Int64, _ total: Int64) {
        guard enabled, total > 0, ContinuousClock.now - lastDrawn > .milliseconds(100) else { return }
        lastDrawn = ContinuousClock.now
        let fraction = Double(done) / Double(total)
        let width = 30
        let filled = Int(fraction * Double(width))
        let text = "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            + String(format: "] %3.0f%%  %.0f / %.0f MB", fraction * 100, Double(done) / 1e6, Double(total) / 1e6)
        FileHandle.standardError.write(Data(text.utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// The human-readable answer of `guildhall combatlog parse`.
struct Report {
    let summary: ParseSummary
    let encounters: [ParsedEncounter]
    let elapsed: Duration

    func print() {
        let names = Dictionary(summary.characters.map { ($0.guid, $0) }, uniquingKeysWith: { first, _ in first })
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        Swift.print(String(
            format: "%@: %d lines, %d events, %d encounters, %d trash segments (%d events), %d malformed lines; %.1f MB in %.2f s",
            summary.logVersion.map { "log version \($0)" } ?? "log", summary.lines, summary.events, summary.encounters,
            summary.trashSegments, summary.trashEvents, summary.malformedLines, Double(summary.bytes) / 1e6, seconds))
        for problem in summary.problems.prefix(10) { Swift.print("  line \(problem.line): \(problem.reason)") }
        for encounter in encounters {
            Swift.print()
            let outcome = encounter.success ? "kill" : (encounter.complete ? "wipe" : "incomplete")
            Swift.print(String(
                format: "%@ (%@, %lld players) — %@ in %@", encounter.bossName, encounter.difficulty, encounter.groupSize,
                outcome, Self.clock(encounter.durationMs)))
            Swift.print(Self.row(["character", "spec", "damage", "dps", "healing", "hps", "overheal", "absorbs", "taken", "deaths", "active"]))
            for metrics in encounter.characters {
                let character = names[metrics.guid]
                Swift.print(Self.row([
                    character.map { $0.name.isEmpty ? $0.guid : $0.name } ?? metrics.guid,
                    [character?.spec, character?.className].compactMap { $0 }.joined(separator: " "),
                    String(metrics.damageDone), String(format: "%.0f", metrics.dps), String(metrics.healingDone),
                    String(format: "%.0f", metrics.hps), String(metrics.overhealing), String(metrics.absorbsDone),
                    String(metrics.damageTaken), String(metrics.deaths), Self.clock(metrics.activeTimeMs),
                ]))
            }
        }
    }

    static func clock(_ milliseconds: Int64) -> String {
        String(format: "%d:%02d", milliseconds / 60_000, (milliseconds / 1000) % 60)
    }

    static func row(_ cells: [String]) -> String {
        let widths = [28, 22, 12, 9, 12, 9, 11, 10, 11, 6, 6]
        return zip(cells, widths).map { cell, width in
            cell.count >= width ? String(cell.prefix(width - 1)) + " " : cell.padding(toLength: width, withPad: " ", startingAt: 0)
        }.joined()
    }
}
