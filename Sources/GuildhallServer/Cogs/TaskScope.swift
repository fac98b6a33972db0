import Synchronization

/// A task group owned by one cog instance: its listeners and scheduled tasks run as children of it, so stopping
/// the scope cancels every one of them and waits until they have all returned.
final class TaskScope: Sendable {
    private let jobs: AsyncStream<@Sendable () async -> Void>.Continuation
    private let runner: Task<Void, Never>
    private let isOpen = Atomic<Bool>(true)

    init() {
        let (stream, continuation) = AsyncStream<@Sendable () async -> Void>.makeStream()
        self.jobs = continuation
        self.runner = Task {
            await withDiscardingTaskGroup { group in
                for await job in stream {
                    group.addTask { await job() }
                }
                group.cancelAll()
            }
        }
    }

    /// Starts `job` as a child of the scope; answers false (and runs nothing) once the scope is stopping.
    @discardableResult
    func launch(_ job: @escaping @Sendable () async -> Void) -> Bool {
        guard isOpen.load(ordering: .acquiring) else { return false }
        if case .enqueued = jobs.yield(job) { return true }
        return false
    }

    /// Runs `job` in the scope and waits for it; nil if the scope is stopping (the job did not run or was cut).
    func run<T: Sendable>(_ job: @escaping @Sendable () async -> T) async -> T? {
        await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            let once = Mutex<CheckedContinuation<T?, Never>?>(continuation)
            let started = launch {
                let result = await job()
                once.withLock { $0.take() }?.resume(returning: result)
            }
            if !started { once.withLock { $0.take() }?.resume(returning: nil) }
        }
    }

    /// Stops accepting jobs, cancels the running ones and waits for all of them to return.
    func stop() async {
        isOpen.store(false, ordering: .releasing)
        jobs.finish()
        runner.cancel()
        await runner.value
    }
}
