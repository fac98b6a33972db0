import Synchronization

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
