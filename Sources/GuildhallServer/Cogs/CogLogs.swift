import Foundation
import Logging
import PluginAPI
import Synchronization

/// The recent log records of each cog, kept in a bounded ring per cog so an operator can read them without a shell
/// (`GET /api/cogs/{name}/logs`): what the cog logged through its context's logger, and what the host did to it.
final class CogLogs: Sendable {
    struct Record: Encodable, Sendable {
        var timestamp: String
        var level: String
        var message: String
    }

    /// Records kept per cog; the oldest go first.
    let capacity: Int
    private let rings = Mutex<[String: [Record]]>([:])

    init(capacity: Int = 500) { self.capacity = capacity }

    func append(_ cog: String, level: Logger.Level, _ message: String) {
        let record = Record(timestamp: Timestamp.string(from: Date()), level: level.rawValue, message: message)
        rings.withLock { rings in
            rings[cog, default: []].append(record)
            if rings[cog]!.count > capacity { rings[cog]!.removeFirst(rings[cog]!.count - capacity) }
        }
    }

    /// The newest `limit` records of `cog`, oldest first.
    func recent(_ cog: String, limit: Int) -> [Record] {
        rings.withLock { Array(($0[cog] ?? []).suffix(limit)) }
    }

    /// `base` with every record of `info` and above also kept in `cog`'s ring, whatever level the operator set
    /// for the log output (each handler keeps its own level).
    func logger(for cog: String, base: Logger) -> Logger {
        var logger = Logger(label: base.label) { _ in MultiplexLogHandler([base.handler, RingHandler(cog: cog, logs: self)]) }
        logger[metadataKey: "cog"] = .string(cog)
        return logger
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
            var merged = metadata
            if let extra = event.metadata { merged.merge(extra) { $1 } }
            merged["cog"] = nil
            let details = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            logs.append(cog, level: event.level, details.isEmpty ? "\(event.message)" : "\(event.message) \(details)")
        }
    }
}
