import Foundation
import GuildhallTesting
import PluginAPI

/// A helper process speaking JSON lines on standard output: one of the Python peers in Tests/Peers, run by the
/// virtual environment scripts/test.sh installs their packages into.
final class PeerProcess: @unchecked Sendable {
    static let python = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../.test-venv/bin/python").standardized

    /// Starts `Tests/Peers/<name>` with `arguments`.
    convenience init(peer name: String, arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
            throw TestFailure("\(Self.python.path) is missing: scripts/test.sh installs the peers' packages there")
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Peers/\(name)").standardized
        try self.init(python: Self.python, script: script, arguments: arguments)
    }

    private let process = Process()
    private let input = Pipe()
    private var lines: AsyncStream<String>.AsyncIterator

    init(python: URL, script: URL, arguments: [String]) throws {
        let output = Pipe()
        process.executableURL = python
        process.arguments = [script.path] + arguments
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let reader = output.fileHandleForReading
        Thread {
            var buffer = Data()
            while case let chunk = reader.availableData, !chunk.isEmpty {
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 0x0A) {
                    continuation.yield(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
            }
            continuation.finish()
        }.start()
        lines = stream.makeAsyncIterator()
    }

    /// The next line as JSON, or nil once the peer has exited.
    func nextEvent() async throws -> JSONValue? {
        guard let line = await lines.next() else { return nil }
        return try JSONValue.parse(Data(line.utf8))
    }

    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Stops a peer that serves until its standard input closes.
    func terminate() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
