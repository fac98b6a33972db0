import Synchronization

/// Per-cog figures, kept across reloads of the cog: requests served, failures, handler latency.
public final class CogStats: Sendable {
    private let requests = Atomic<Int>(0)
    private let errors = Atomic<Int>(0)
    private let listenerFailures = Atomic<Int>(0)
    private let taskFailures = Atomic<Int>(0)
    private let handlerNanoseconds = Atomic<Int>(0)
    private let slowestNanoseconds = Atomic<Int>(0)

    func recordRequest(duration: Duration, failed: Bool) {
        requests.add(1, ordering: .relaxed)
        if failed { errors.add(1, ordering: .relaxed) }
        let nanos = Int(duration.components.seconds) * 1_000_000_000 + Int(duration.components.attoseconds / 1_000_000_000)
        handlerNanoseconds.add(nanos, ordering: .relaxed)
        var slowest = slowestNanoseconds.load(ordering: .relaxed)
        while nanos > slowest {
            let (exchanged, original) = slowestNanoseconds.compareExchange(expected: slowest, desired: nanos, ordering: .relaxed)
            if exchanged { break }
            slowest = original
        }
    }

    func recordListenerFailure() { listenerFailures.add(1, ordering: .relaxed) }
    func recordTaskFailure() { taskFailures.add(1, ordering: .relaxed) }

    /// The figures as reported by `GET /api/cogs`.
    public struct Snapshot: Encodable, Sendable, Equatable {
        public var requests: Int
        public var errors: Int
        public var listenerFailures: Int
        public var taskFailures: Int
        public var averageHandlerMs: Double
        public var slowestHandlerMs: Double

        enum CodingKeys: String, CodingKey {
            case requests, errors
            case listenerFailures = "listener_failures"
            case taskFailures = "task_failures"
            case averageHandlerMs = "average_handler_ms"
            case slowestHandlerMs = "slowest_handler_ms"
        }
    }

    public var snapshot: Snapshot {
        let count = requests.load(ordering: .relaxed)
        let total = Double(handlerNanoseconds.load(ordering: .relaxed))
        return Snapshot(
            requests: count, errors: errors.load(ordering: .relaxed),
            listenerFailures: listenerFailures.load(ordering: .relaxed), taskFailures: taskFailures.load(ordering: .relaxed),
            averageHandlerMs: count == 0 ? 0 : (total / Double(count) / 1e6 * 1000).rounded() / 1000,
            slowestHandlerMs: Double(slowestNanoseconds.load(ordering: .relaxed)) / 1e6)
    }
}
