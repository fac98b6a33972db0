import Foundation
import Logging
import PluginAPI
import Synchronization

/// Keeps one loaded external cog's process alive: starts it and waits for its health check, checks it every few
/// seconds, restarts it with backoff when it crashes or stops answering, and marks it failed after three crashes
/// in ten minutes (its routes answer 503 until an admin reloads or unloads it).
final class CogSupervisor: Sendable {
    enum Phase: String, Sendable, Encodable {
        case starting, running, restarting, failed, stopped
    }

    /// What `GET /api/cogs` shows of the process.
    struct Snapshot: Encodable, Sendable {
        var phase: Phase
        var pid: Int32?
        var restarts: Int
        var lastExit: String?
        var error: String?
        /// How the process is kept from the host and other cogs: `{"mode": "user", "uid"}` or `{"mode": "none", "reason"}`.
        var isolation: JSONValue

        enum CodingKeys: String, CodingKey {
            case phase, pid, restarts, error, isolation
            case lastExit = "last_exit"
        }
    }

    private struct State {
        var phase = Phase.starting
        var process: CogProcess?
        var channel: CogChannel?
        var crashes: [ContinuousClock.Instant] = []
        var restarts = 0
        var lastExit: String?
        var error: String?
        var watcher: Task<Void, Never>?
    }

    /// Crashes within this window count towards failing the cog.
    static let crashWindow = Duration.seconds(600)
    static let crashLimit = 3

    let manifest: ExternalManifest
    private let runtime: ExternalRuntime
    private let logger: Logger
    private let state = Mutex(State())
    private let output: OutputLimiter

    init(manifest: ExternalManifest, runtime: ExternalRuntime, logger: Logger) {
        self.manifest = manifest
        self.runtime = runtime
        self.logger = logger
        self.output = OutputLimiter(logger: logger)
    }

    var snapshot: Snapshot {
        let isolation = runtime.settings.isolation.describe(manifest.cog.id)
        return state.withLock {
            Snapshot(phase: $0.phase, pid: $0.process?.pid, restarts: $0.restarts, lastExit: $0.lastExit, error: $0.error, isolation: isolation)
        }
    }

    /// Starts the first process and waits for its health check; throws with the reason it did not come up.
    func start() async throws {
        let (process, channel) = try await launch()
        state.withLock {
            $0.phase = .running
            $0.process = process
            $0.channel = channel
        }
        // Started once the process is recorded, so supervision always finds it.
        let watcher = Task { await self.supervise() }
        state.withLock { $0.watcher = watcher }
    }

    /// Stops the process (SIGTERM to its group, SIGKILL after a grace) and supervision with it.
    func stop() async {
        let (process, watcher, channel) = state.withLock { state in
            state.phase = .stopped
            return (state.process, state.watcher, state.channel)
        }
        watcher?.cancel()
        await process?.stop(grace: .seconds(5))
        await watcher?.value
        if let channel { runtime.callbacks.revoke(channel.secret) }
        runtime.removeSocket(channel?.socketPath)
    }

    /// The running process's channel, waiting up to `wait` while it restarts; 503 `cog_failed` when it failed,
    /// 503 `cog_restarting` when it is not back in time.
    func channel(waitingUpTo wait: Duration = .seconds(2)) async throws -> CogChannel {
        let deadline = ContinuousClock.now + wait
        while true {
            let (phase, channel, error) = state.withLock { ($0.phase, $0.channel, $0.error) }
            switch phase {
            case .running: if let channel { return channel }
            case .failed:
                throw APIError(
                    .serviceUnavailable, "cog_failed", "\(manifest.cog.id) failed: \(error ?? "unknown"). An admin must reload it.",
                    details: ["cog": .string(manifest.cog.id)])
            case .stopped:
                throw APIError(.serviceUnavailable, "cog_stopping", "\(manifest.cog.id) is stopping.", details: ["cog": .string(manifest.cog.id)])
            case .starting, .restarting: break
            }
            guard ContinuousClock.now < deadline else {
                throw APIError(
                    .serviceUnavailable, "cog_restarting", "\(manifest.cog.id) is restarting; try again shortly.",
                    details: ["cog": .string(manifest.cog.id)], headers: [.retryAfter: "1"])
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: - Supervision

    private func supervise() async {
        while !Task.isCancelled {
            guard let (process, channel) = state.withLock({ state in state.process.flatMap { p in state.channel.map { (p, $0) } } })
            else { return }
            let reason = await watch(process, channel)
            runtime.callbacks.revoke(channel.secret)
            runtime.removeSocket(channel.socketPath)
            guard let crashes = recordCrash(reason), !Task.isCancelled else { return }
            logger.error("cog process \(reason); restarting", metadata: ["crashes": "\(crashes)"])
            // The first restart is at once (back in service within a second); later ones back off.
            try? await Task.sleep(for: crashes <= 1 ? .milliseconds(20) : .seconds(Double(1 << (crashes - 1))))
            await restart()
        }
    }

    /// Starts a replacement process; a start that fails counts as a crash (and may fail the cog), then is tried again.
    private func restart() async {
        while !Task.isCancelled {
            do {
                let (process, channel) = try await launch()
                let stillWanted = state.withLock { state -> Bool in
                    guard state.phase != .stopped else { return false }
                    state.phase = .running
                    state.process = process
                    state.channel = channel
                    state.restarts += 1
                    return true
                }
                if !stillWanted { await process.stop(grace: .seconds(1)) }
                return
            } catch {
                guard recordCrash("could not be restarted: \(error)") != nil else { return }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Counts a crash (or a failed restart) within the window; on the limit the cog is failed for good, reported, and
    /// nil is answered, as it is when the cog is being stopped. Otherwise answers the crashes in the window.
    private func recordCrash(_ reason: String) -> Int? {
        let (count, failed) = state.withLock { state -> (Int, Bool) in
            guard state.phase != .stopped else { return (0, false) }
            let now = ContinuousClock.now
            state.crashes = state.crashes.filter { now - $0 < Self.crashWindow } + [now]
            state.lastExit = reason
            state.process = nil
            state.channel = nil
            guard state.crashes.count >= Self.crashLimit else {
                state.phase = .restarting
                return (state.crashes.count, false)
            }
            state.phase = .failed
            state.error = "crashed \(state.crashes.count) times in 10 minutes; last: \(reason)"
            return (state.crashes.count, true)
        }
        if failed {
            let error = "crashed \(count) times in 10 minutes; last: \(reason)"
            logger.error("cog process failed for good; routes answer 503 until an admin reloads it", metadata: ["reason": "\(reason)"])
            runtime.reportFailure(cog: manifest.cog.id, reason: error)
        }
        return count == 0 || failed ? nil : count
    }

    /// Returns when `process` exits, or after it missed two health checks in a row (then it is killed first).
    private func watch(_ process: CogProcess, _ channel: CogChannel) async -> String {
        let interval = runtime.settings.healthInterval, path = manifest.healthPath
        return await withTaskGroup(of: String?.self) { group in
            group.addTask { CogProcess.describe(await process.waitForExit()) }
            group.addTask {
                var misses = 0
                while (try? await Task.sleep(for: interval)) != nil {
                    if await channel.isHealthy(path: path, timeout: min(interval, .seconds(2))) {
                        misses = 0
                    } else {
                        misses += 1
                        if misses >= 2 {
                            process.killNow()
                            return "stopped answering its health check"
                        }
                    }
                }
                return nil
            }
            var reason: String?
            while let next = await group.next() {
                if let next, reason == nil { reason = next }
                if process.hasExited || Task.isCancelled { break }
            }
            group.cancelAll()
            if process.hasExited == false { process.killNow() }
            _ = await process.waitForExit()
            return reason ?? "stopped"
        }
    }

    /// Starts a process on a new socket with a new secret and waits until it answers its health check.
    private func launch() async throws -> (CogProcess, CogChannel) {
        try runtime.settings.isolation.checkMayStart(manifest.cog.id)
        let user = try runtime.settings.isolation.claimUser(for: manifest.cog.id)
        let socketPath = try runtime.newSocketPath(for: manifest.cog.id)
        // The callback server binds at startup; its socket is opened to the cogs' users once it is there.
        for _ in 0..<100 where !runtime.openHostSocket() { try? await Task.sleep(for: .milliseconds(10)) }
        let secret = ExternalRuntime.newSecret()
        let channel = CogChannel(socketPath: socketPath, secret: secret, client: runtime.client)
        runtime.callbacks.grant(secret, port: runtime.port(for: manifest))
        let output = self.output
        let process: CogProcess
        do {
            process = try CogProcess(
                command: manifest.command, folder: manifest.folder,
                environment: try runtime.environment(for: manifest, socketPath: socketPath, secret: secret),
                user: user,
                output: { line, isError in output.write(line, isError: isError) })
        } catch {
            runtime.callbacks.revoke(secret)
            throw error
        }
        let deadline = ContinuousClock.now + runtime.settings.startTimeout
        while ContinuousClock.now < deadline {
            if process.hasExited {
                runtime.callbacks.revoke(secret)
                let status = await process.waitForExit()
                throw CogProcess.StartFailure(description: "the process \(CogProcess.describe(status)) before answering its health check\(output.lastLines)")
            }
            if FileManager.default.fileExists(atPath: socketPath),
                await channel.isHealthy(path: manifest.healthPath, timeout: .seconds(1))
            {
                return (process, channel)
            }
            try? await Task.sleep(for: .milliseconds(15))
        }
        await process.stop(grace: .seconds(1))
        runtime.callbacks.revoke(secret)
        throw CogProcess.StartFailure(
            description: "did not answer its health check (\(manifest.healthPath)) within \(runtime.settings.startTimeout)\(output.lastLines)")
    }
}

/// Passes a cog's output lines to its logger, at most `perSecond` a second: a cog flooding its output costs the host
/// a counter, not its log. The last few lines are kept to explain a failed start.
final class OutputLimiter: Sendable {
    private struct Window {
        var started = ContinuousClock.now
        var written = 0
        var dropped = 0
        var recent: [String] = []
    }

    private let logger: Logger
    private let perSecond: Int
    private let window = Mutex(Window())

    init(logger: Logger, perSecond: Int = 200) {
        self.logger = logger
        self.perSecond = perSecond
    }

    func write(_ line: String, isError: Bool) {
        let (admit, firstDrop, droppedBefore) = window.withLock { window -> (Bool, Bool, Int) in
            window.recent = Array((window.recent + [line]).suffix(5))
            let now = ContinuousClock.now
            var droppedBefore = 0
            if now - window.started >= .seconds(1) {
                droppedBefore = window.dropped
                window = Window(started: now, written: 0, dropped: 0, recent: window.recent)
            }
            guard window.written < perSecond else {
                window.dropped += 1
                return (false, window.dropped == 1, droppedBefore)
            }
            window.written += 1
            return (true, false, droppedBefore)
        }
        if firstDrop { logger.warning("cog output dropped: more than \(perSecond) lines a second") }
        if droppedBefore > 0 { logger.warning("cog output dropped in the last second", metadata: ["dropped": "\(droppedBefore)"]) }
        guard admit else { return }
        if isError {
            logger.warning("\(line)", metadata: ["stream": "stderr"])
        } else {
            logger.info("\(line)", metadata: ["stream": "stdout"])
        }
    }

    /// The last lines written, for an error message (empty when there were none).
    var lastLines: String {
        let lines = window.withLock { $0.recent }
        return lines.isEmpty ? "" : "; its last output: " + lines.joined(separator: " | ")
    }
}
