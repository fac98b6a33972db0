import ServiceLifecycle
import Synchronization

/// Work the host repeats on a fixed interval while it runs, as a `Service` of the host's one group: it stops when the
/// group shuts down gracefully (or is cancelled), and may do a last piece of work then (`atStop`), uncancelled.
struct PeriodicService: Service {
    let name: String
    let interval: Duration
    /// Whether the work runs once at start, before the first interval has passed.
    var runsAtStart = false
    /// What to do once when stopping (write out what is buffered).
    var atStop: (@Sendable () async -> Void)? = nil
    let work: @Sendable () async -> Void

    func run() async {
        let interval = self.interval, runsAtStart = self.runsAtStart, work = self.work
        try? await cancelWhenGracefulShutdown {
            if runsAtStart { await work() }
            while true {
                try await Task.sleep(for: interval)
                await work()
            }
        }
        if let atStop { await Task { await atStop() }.value }  // a task of its own: not cancelled with this one
    }
}

/// Closes every gateway connection as going away when the group shuts down. It stands last in the group, so it stops
/// first: the HTTP server's graceful shutdown would otherwise wait for open WebSocket connections.
struct GatewayFarewell: Service {
    let hub: GatewayHub

    func run() async {
        try? await gracefulShutdown()
        for client in hub.connected { client.close(code: GatewayCode.goingAway, reason: "server shutting down") }
    }
}

/// Opens once: the host's start has finished (its cogs are loaded), or failed. Those who wait are told which.
final class Readiness: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Void, any Error>])
        case ready
        case failed(any Error)
    }

    private let state = Mutex(State.waiting([]))

    func open() { settle(.ready) }
    func fail(_ error: any Error) { settle(.failed(error)) }

    /// Returns once open; throws the error the start failed with.
    func wait() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let now: Result<Void, any Error>? = state.withLock { state in
                switch state {
                case .waiting(let waiters):
                    state = .waiting(waiters + [continuation])
                    return nil
                case .ready: return .success(())
                case .failed(let error): return .failure(error)
                }
            }
            if let now { continuation.resume(with: now) }
        }
    }

    private func settle(_ outcome: State) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard case .waiting(let waiters) = state else { return [] }
            state = outcome
            return waiters
        }
        for waiter in waiters {
            if case .failed(let error) = outcome { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }
}
