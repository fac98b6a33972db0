import PluginAPI
import Synchronization

/// The one door into a cog instance. Every request, gateway action, bot command, event delivery, task run and
/// piece of spawned work enters through it, so that unload and reload know what is running inside the instance
/// and can wait for it — by being told when the last piece leaves, not by polling.
///
/// Work on a caller's task (a request, an action, a command) runs in a task of its own that the door can cancel;
/// work already in the cog's ``TaskScope`` (listeners, task runs, spawned work) is cancelled by stopping the scope.
final class CogDoor: Sendable {
    private struct State {
        var isOpen = true
        /// Set when a drain ran out of time: work admitted from then on is cancelled as soon as it starts.
        var cancelling = false
        var inFlight = 0
        var cancellable: [Int: @Sendable () -> Void] = [:]
        var nextID = 0
        var whenEmpty: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    let cog: String
    private let state = Mutex(State())

    init(cog: String) { self.cog = cog }

    /// How much work is inside now.
    var inFlight: Int { state.withLock { $0.inFlight } }

    /// Whether the door still takes work.
    var isOpen: Bool { state.withLock { $0.isOpen } }

    /// Runs `work` inside the cog on the caller's behalf, in a task the door cancels if a drain runs out of time.
    /// Throws ``CogUnavailable`` once the door has closed.
    func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let id = try state.withLock { state -> Int in
            guard state.isOpen else { throw CogUnavailable(cog: cog) }
            state.inFlight += 1
            state.nextID += 1
            return state.nextID
        }
        defer { leave(id) }
        let task = Task { try await work() }
        let cancelNow = state.withLock { state -> Bool in
            guard !state.cancelling else { return true }
            state.cancellable[id] = { task.cancel() }
            return false
        }
        if cancelNow { task.cancel() }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    /// Runs `work` inside the cog on the current task, which the cog's scope owns (and cancels when it stops).
    /// Throws ``CogUnavailable`` once the door has closed.
    func enter<T: Sendable>(_ work: () async throws -> T) async throws -> T {
        try state.withLock { state in
            guard state.isOpen else { throw CogUnavailable(cog: cog) }
            state.inFlight += 1
        }
        defer { leave(nil) }
        return try await work()
    }

    private func leave(_ id: Int?) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.inFlight -= 1
            if let id { state.cancellable[id] = nil }
            guard state.inFlight == 0 else { return [] }
            defer { state.whenEmpty = [:] }
            return Array(state.whenEmpty.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Closes the door (new work is refused with ``CogUnavailable``) and waits until the work inside has left, up to
    /// `bound`. Then cancels what remains — the caller's-task work here, and through `scope` the cog's own — and
    /// waits for it to return. Answers how many pieces had to be cancelled.
    @discardableResult
    func drain(within bound: Duration, scope: TaskScope) async -> Int {
        state.withLock { $0.isOpen = false }
        let emptied = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.empty(); return true }
            group.addTask {
                try? await Task.sleep(for: bound)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        var cancelled = 0
        if !emptied {
            let cancels = state.withLock { state in
                state.cancelling = true
                cancelled = state.inFlight
                return Array(state.cancellable.values)
            }
            for cancel in cancels { cancel() }
        }
        await scope.stop()
        await empty()
        return cancelled
    }

    /// Returns once nothing is inside, or when the waiting task is cancelled.
    private func empty() async {
        let id = state.withLock { state -> Int? in
            guard state.inFlight > 0 else { return nil }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    guard state.inFlight > 0, !Task.isCancelled else { return true }
                    state.whenEmpty[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.whenEmpty.removeValue(forKey: id) }?.resume()
        }
    }
}

/// The cog is being unloaded or replaced: it takes no new work.
struct CogUnavailable: Error, CustomStringConvertible {
    let cog: String
    var description: String { "the \(cog) cog is being unloaded" }

    /// What a caller is answered when no other instance took the work over.
    var apiError: APIError {
        APIError(.serviceUnavailable, "cog_unloading", "The \(cog) cog is being unloaded; try again.", details: ["cog": .string(cog)])
    }
}
