import Hummingbird
import Metrics
import Synchronization

/// HTTP request counts and durations per method, route and status, for /metrics.
///
/// The metric objects are made once per key and kept: making them through swift-metrics on every request (as
/// Hummingbird's MetricsMiddleware does) cost a sixth of the host's throughput on small requests.
final class RequestMetrics: Sendable {
    private struct Key: Hashable {
        let method: HTTPRequest.Method
        let route: String
        let status: Int
    }

    private struct Instruments: @unchecked Sendable {
        let requests: Counter
        let duration: Timer
    }

    private let instruments = Mutex<[Key: Instruments]>([:])
    private struct GuildCounter: @unchecked Sendable { let counter: Counter }
    private let guildRequests = Mutex<[Int64: GuildCounter]>([:])

    /// Counts a request made in `guild` (a guild's API key, or a member acting in it).
    func record(guild: Int64) {
        let counter = guildRequests.withLock { table in
            if let existing = table[guild] { return existing }
            let created = GuildCounter(counter: Counter(label: "guildhall_guild_requests_total", dimensions: [("guild", String(guild))]))
            table[guild] = created
            return created
        }
        counter.counter.increment()
    }

    func record(method: HTTPRequest.Method, route: String, status: HTTPResponse.Status, duration: Duration) {
        let key = Key(method: method, route: route, status: status.code)
        let instrument = instruments.withLock { table in
            if let existing = table[key] { return existing }
            let dimensions = [("method", method.rawValue), ("route", key.route), ("status", String(status.code))]
            let created = Instruments(
                requests: Counter(label: "guildhall_http_requests_total", dimensions: dimensions),
                duration: Timer(label: "guildhall_http_request_duration_seconds", dimensions: dimensions))
            table[key] = created
            return created
        }
        instrument.requests.increment()
        instrument.duration.record(duration: duration)
    }
}
