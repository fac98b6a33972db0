import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A thread of its own at the lowest scheduling priority, for parsing: a large or hostile upload keeps a core busy
/// for as long as it parses, and serving requests must come first. Swift's task priorities do not reach the
/// kernel's scheduler on Linux; a thread's nice value does (it is per thread there).
final class BackgroundThread: Sendable {
    private let queue = JobQueue()

    /// Starts the thread; it ends after ``stop()``.
    init(name: String) {
        let queue = self.queue
        let thread = Thread {
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            while let job = queue.next() { job() }
        }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on the thread and answers what it answered. `body` may use state no other thread touches while it
    /// runs (the caller awaits it).
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.add { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Lets the thread end once the jobs queued so far have run.
    func stop() { queue.close() }

    /// Jobs for the thread, waited for under a condition.
    private final class JobQueue: @unchecked Sendable {
        private let condition = NSCondition()
        private var jobs: [@Sendable () -> Void] = []
        private var closed = false

        func add(_ job: @escaping @Sendable () -> Void) {
            condition.lock()
            jobs.append(job)
            condition.signal()
            condition.unlock()
        }

        func close() {
            condition.lock()
            closed = true
            condition.signal()
            condition.unlock()
        }

        /// The next job; nil once closed and empty.
        func next() -> (@Sendable () -> Void)? {
            condition.lock()
            defer { condition.unlock() }
            while jobs.isEmpty && !closed { condition.wait() }
            return jobs.isEmpty ? nil : jobs.removeFirst()
        }
    }
}
