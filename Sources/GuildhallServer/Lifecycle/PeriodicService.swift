import ServiceLifecycle

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
