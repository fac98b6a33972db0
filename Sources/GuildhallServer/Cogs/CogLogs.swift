import Foundation
import Logging
import PluginAPI
import Synchronization

/// The recent log records of each cog, and of the host itself (`host`), kept in a bounded ring each so an operator
/// can read them without a shell (`GET /api/cogs/{name}/logs`, `GET /api/logs`): what a cog logged through its
/// context's logger, what the host did to it, and what the host logged.
final class CogLogs: Sendable {
    struct Record: Encodable, Sendable {
        var timestamp: String
        var level: String
        var message: String
    }

    /// Records kept per cog; the oldest go first.
    let capacity: Int
    private let rings = Mutex<[String: [Record]]>([:])
    /// `logging.file`, when configured: every record kept is appended there too.
    let file: LogFile?

    init(capacity: Int = 500, file: LogFile? = nil) {
        self.capacity = capacity
        self.file = file
    }

    func append(_ cog: String, level: Logger.Level, _ message: String) {
        let record = Record(timestamp: Timestamp.string(from: Date()), level: level.rawValue, message: message)
        rings.withLock { rings in
            rings[cog, default: []].append(record)
            if rings[cog]!.count > capacity { rings[cog]!.removeFirst(rings[cog]!.count - capacity) }
        }
        file?.append(record, source: cog)
    }

    /// The newest `limit` records of `cog`, oldest first.
    func recent(_ cog: String, limit: Int) -> [Record] {
        rings.withLock { Array(($0[cog] ?? []).suffix(limit)) }
    }

    /// The newest `limit` records (one `source` only when given) at `minimum` level or above whose message holds
    /// `text` (any case), oldest first, each with its source, and every source there is (`host` and each cog that
    /// logged): from the log file when one is configured (it holds all the rings have and what came before, and is
    /// read once), else from the rings.
    func search(
        source: String?, minimum: Logger.Level?, text: String?, limit: Int
    ) -> (entries: [(source: String, record: Record)], sources: [String]) {
        let needle = text?.lowercased()
        // The file is in order already; the rings are merged by time.
        let all: [(source: String, record: Record)] =
            if let file { file.records() } else {
                rings.withLock { rings in rings.flatMap { name, records in records.map { (source: name, record: $0) } } }
                    .sorted { $0.record.timestamp < $1.record.timestamp }
            }
        let sources = rings.withLock { Set($0.keys) }.union(all.map(\.source)).sorted()
        let matching = all.filter { source == nil || $0.source == source }.filter { entry in
            (minimum.map { (Logger.Level(rawValue: entry.record.level) ?? .info) >= $0 } ?? true)
                && (needle.map { entry.record.message.lowercased().contains($0) } ?? true)
        }
        return (Array(matching.suffix(limit)), sources)
    }

    /// `base` with every record of `info` and above also kept in `cog`'s ring, whatever level the operator set
    /// for the log output (each handler keeps its own level); records carry `cog` in their metadata.
    func logger(for cog: String, base: Logger) -> Logger {
        var logger = kept(in: cog, base: base)
        logger[metadataKey: "cog"] = .string(cog)
        return logger
    }

    /// The host's logger, kept in the `host` ring too.
    func hostLogger(base: Logger) -> Logger { kept(in: "host", base: base) }

    private func kept(in ring: String, base: Logger) -> Logger {
        Logger(label: base.label) { _ in MultiplexLogHandler([base.handler, RingHandler(cog: ring, logs: self)]) }
    }

    /// Keeps each record of one cog's logger, its metadata appended to the message.
    private struct RingHandler: LogHandler {
        let cog: String
        let logs: CogLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            // A cog's logger is built on the host's: its records belong to the cog's ring, not the host's too.
            if cog == "host", metadata["cog"] != nil { return }
            var merged = metadata
            if let extra = event.metadata { merged.merge(extra) { $1 } }
            merged["cog"] = nil
            let details = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            logs.append(cog, level: event.level, details.isEmpty ? "\(event.message)" : "\(event.message) \(details)")
        }
    }
}
