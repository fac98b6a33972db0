import Foundation
import Logging
import Metrics
import PluginAPI
import Synchronization

/// The host's event bus: named events with JSON payloads, delivered asynchronously to listeners matched by
/// exact name or prefix, highest priority first. A listener that throws is logged and counted; the others still run.
public final class EventBus: EventPublisher, Sendable {
    /// A registered listener. `scope` is the owning cog's task scope: the listener runs inside it, so unloading the
    /// cog cancels a delivery in progress.
    struct Listener: Sendable {
        let id: UInt64
        let owner: String
        let pattern: EventPattern
        let priority: Int
        let scope: TaskScope?
        let handler: @Sendable (Event) async throws -> Void
        let onFailure: @Sendable (any Error) -> Void
    }

    /// The host's own listeners (and tests'), sorted by priority.
    private let listeners = Mutex<[Listener]>([])
    /// The listeners of the cog instances mounted now, read at each publish from the same table that routes are
    /// dispatched from: a reload's one swap moves routes and listeners together.
    private let cogListeners = Mutex(ListenerSource { [] })

    /// The closure in a struct: a Mutex of a bare function type reabstracts the closure on every `withLock` and
    /// stores the wrapper back, so each publish added two thunks to every later call (16% of the CPU after a
    /// minute of load, and a stack that only grew).
    private struct ListenerSource: Sendable {
        let read: @Sendable () -> [Listener]
    }
    private let nextID = Atomic<UInt64>(1)
    /// Events published, deliveries made and failed since start, for `/api/admin/stats`.
    let totals = EventTotals()
    private let deliveries = TaskScope()
    private let logger: Logger
    /// Whether `owner` (a cog) is switched off for a guild; its listeners then miss that guild's events.
    private let isOff: @Sendable (_ owner: String, _ guild: Int64) -> Bool

    public init(logger: Logger, isOff: @escaping @Sendable (_ owner: String, _ guild: Int64) -> Bool = { _, _ in false }) {
        self.logger = logger
        self.isOff = isOff
    }

    /// Adds listeners (all of one cog instance, at activation) in one step.
    func add(_ new: [Listener]) {
        listeners.withLock { current in
            current.append(contentsOf: new)
            // Stable sort keeps registration order among equal priorities.
            current = current.enumerated().sorted {
                $0.element.priority != $1.element.priority ? $0.element.priority > $1.element.priority : $0.offset < $1.offset
            }.map(\.element)
        }
    }

    /// Where the mounted cog instances' listeners come from (the plugin manager's mounts).
    func readCogListeners(from source: @escaping @Sendable () -> [Listener]) {
        cogListeners.withLock { $0 = ListenerSource(read: source) }
    }

    func makeListenerID() -> UInt64 { nextID.add(1, ordering: .relaxed).oldValue }

    public func publish(_ name: String, payload: some Encodable & Sendable, guild: Int64?, correlationID: String?) {
        publish(name, payload: payload, source: "host", guild: guild, correlationID: correlationID)
    }

    /// Publishes on behalf of `source` (a cog id, or `host`).
    func publish(_ name: String, payload: some Encodable & Sendable, source: String, guild: Int64? = nil, correlationID: String?) {
        let json: JSONValue
        do {
            json = try JSONValueEncoder().encode(payload)
        } catch {
            logger.error("event payload does not encode", metadata: ["event": "\(name)", "error": "\(error)"])
            return
        }
        let event = Event(
            name: name, payload: json, source: source, correlationID: correlationID ?? UUID().uuidString, guildID: guild)
        Counter(label: "guildhall_events_published_total", dimensions: [("event", name)]).increment()
        if let guild {
            // Per-guild monitoring (document 000): encounters parsed, uploads, tickets, ... of each guild.
            Counter(label: "guildhall_guild_events_total", dimensions: [("guild", String(guild)), ("event", name)]).increment()
        }
        totals.published.add(1, ordering: .relaxed)
        let isOff = self.isOff
        let fromCogs = cogListeners.withLock { $0.read }().filter { $0.pattern.matches(name) }
        var matching = listeners.withLock { $0.filter { $0.pattern.matches(name) } }
        if !fromCogs.isEmpty {
            // Highest priority first; among equals, in registration order (ids grow with registration).
            matching = (matching + fromCogs).sorted { ($0.priority, $1.id) > ($1.priority, $0.id) }
        }
        let receivers = matching.filter { listener in guild.map { !isOff(listener.owner, $0) } ?? true }
        guard !receivers.isEmpty else { return }
        deliveries.launch { [logger, totals] in
            for listener in receivers {
                await Self.deliver(event, to: listener, totals: totals, logger: logger)
            }
        }
    }

    private static func deliver(_ event: Event, to listener: Listener, totals: EventTotals, logger: Logger) async {
        let dimensions = [("event", event.name), ("cog", listener.owner)]
        let start = ContinuousClock.now
        let run: @Sendable () async -> (any Error)? = {
            do {
                try await listener.handler(event)
                return nil
            } catch {
                return error
            }
        }
        let outcome: (any Error)??
        if let scope = listener.scope {
            outcome = await scope.run(run)
        } else {
            outcome = .some(await run())
        }
        guard let failure = outcome else { return }  // the owning cog is unloading
        Timer(label: "guildhall_event_listener_duration_seconds", dimensions: dimensions)
            .record(duration: ContinuousClock.now - start)
        if let error = failure {
            Counter(label: "guildhall_events_failed_total", dimensions: dimensions).increment()
            totals.failed.add(1, ordering: .relaxed)
            listener.onFailure(error)
            logger.error(
                "event listener failed",
                metadata: ["event": "\(event.name)", "cog": "\(listener.owner)", "error": "\(error)"])
        } else {
            Counter(label: "guildhall_events_delivered_total", dimensions: dimensions).increment()
            totals.delivered.add(1, ordering: .relaxed)
        }
    }

    /// Waits for deliveries in progress and stops accepting new ones (shutdown).
    func stop() async {
        await deliveries.stop()
    }
}

/// The bus's counts since start.
final class EventTotals: Sendable {
    let published = Atomic<Int>(0)
    let delivered = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
}
