import CSpawn
import Foundation
import Synchronization

/// One running process of an external cog: started in a process group of its own that the kernel kills if the host
/// dies (`PR_SET_PDEATHSIG`), its standard output and error read line by line into `output`, its exit awaited.
final class CogProcess: Sendable {
    let pid: pid_t
    private let exit = ExitWatch()

    /// The exit status once known, and who waits for it; shared with the thread that waits for the process.
    private final class ExitWatch: Sendable {
        struct State {
            var status: Int32?
            var waiters: [CheckedContinuation<Int32, Never>] = []
        }
        let state = Mutex(State())

        func withLock<R>(_ body: (inout State) -> R) -> R { state.withLock { body(&$0) } }
    }

    /// A line the process wrote, and whether it came on standard error.
    typealias OutputSink = @Sendable (_ line: String, _ isError: Bool) -> Void

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `command` (resolved in `folder`, else on `PATH`) in `folder` with exactly `environment`, as `user`
    /// (its own group too) when one is given.
    init(command: [String], folder: URL, environment: [String: String], user: uid_t?, output: @escaping OutputSink) throws {
        guard let program = command.first, let path = Self.resolve(program, in: folder, path: environment["PATH"] ?? "", user: user) else {
            throw StartFailure(
                description: "the program \(command.first ?? "") was not found" + (user == nil ? "" : " where the cog's user may run it"))
        }
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard guildhall_pipe(&outPipe) == 0 else { throw StartFailure(description: "no pipe: errno \(errno)") }
        guard guildhall_pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw StartFailure(description: "no pipe: errno \(errno)")
        }
        let arguments = [path] + command.dropFirst()
        let variables = environment.map { "\($0.key)=\($0.value)" }
        let pid = Self.withCStrings(arguments) { argv in
            Self.withCStrings(variables) { envp in
                guildhall_spawn(path, argv, envp, folder.path, outPipe[1], errPipe[1], user ?? uid_t.max, user ?? gid_t.max)
            }
        }
        let spawnError = errno
        close(outPipe[1])
        close(errPipe[1])
        guard pid > 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw StartFailure(description: "cannot start \(path): errno \(spawnError)")
        }
        self.pid = pid
        Self.pump(outPipe[0], isError: false, into: output)
        Self.pump(errPipe[0], isError: true, into: output)
        let exit = self.exit
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let waiters = exit.withLock { state in
                state.status = status
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: status) }
        }
    }

    /// Whether the process has exited.
    var hasExited: Bool { exit.withLock { $0.status != nil } }

    /// Waits for the process to exit; answers its wait status.
    func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status: Int32? = exit.withLock { state in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// Stops the whole process group: SIGTERM, then SIGKILL after `grace`.
    func stop(grace: Duration) async {
        guard !hasExited else { return }
        kill(-pid, SIGTERM)
        let exited = await withTaskGroup(of: Bool.self) { group in
            group.addTask { _ = await self.waitForExit(); return true }
            group.addTask { try? await Task.sleep(for: grace); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        kill(-pid, SIGKILL)  // also the group's other members, which may outlive the leader
        if !exited { _ = await waitForExit() }
    }

    /// Kills the process group at once (an unresponsive cog).
    func killNow() { kill(-pid, SIGKILL) }

    /// A wait status in words: `exited with status 3`, `killed by signal 9`.
    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        return signal == 0 ? "exited with status \((status >> 8) & 0xff)" : "killed by signal \(signal)"
    }

    private static func resolve(_ program: String, in folder: URL, path: String, user: uid_t?) -> String? {
        // The host may run what the cog's user may not (programs under /root): for a user of its own, only programs
        // everyone may run count.
        func runnable(_ candidate: String) -> Bool {
            FileManager.default.isExecutableFile(atPath: candidate) && (user == nil || CogIsolation.othersMayRun(candidate))
        }
        if program.contains("/") {
            let candidate = folder.appendingPathComponent(program).standardizedFileURL.path
            return runnable(candidate) ? candidate : nil
        }
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if runnable(candidate) { return candidate }
        }
        return nil
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Reads `descriptor` on a thread of its own until the process closes it, a line at a time (lines are cut at
    /// 4 KiB, so a cog writing without newlines cannot grow the host's memory).
    private static func pump(_ descriptor: Int32, isError: Bool, into sink: @escaping OutputSink) {
        Thread.detachNewThread {
            defer { close(descriptor) }
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16_384)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                for byte in chunk[0..<count] {
                    if byte == UInt8(ascii: "\n") || pending.count >= 4096 {
                        sink(String(decoding: pending, as: UTF8.self), isError)
                        pending.removeAll(keepingCapacity: true)
                        if byte == UInt8(ascii: "\n") { continue }
                    }
                    pending.append(byte)
                }
            }
            if !pending.isEmpty { sink(String(decoding: pending, as: UTF8.self), isError) }
        }
    }
}
