import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import PluginAPI
import Synchronization

/// A real WebSocket client for tests: frames received are queued as JSON values; frames to send are queued too.
final class WSTestClient: Sendable {
    enum Outgoing: Sendable {
        case text(String)
        case binary([UInt8])
        case close
    }

    private let inboxState: Inbox
    private let outgoing: AsyncStream<Outgoing>.Continuation
    private let run: Task<WebSocketCloseFrame?, any Error>

    /// Connects to `path` on the test server; `token` goes in the query string (or `query` replaces it), `bearer` in
    /// the Authorization header, `headers` as they are.
    init(
        port: Int, path: String = "/ws/live-log", token: String? = nil, bearer: String? = nil, query: String? = nil,
        headers: [String: String] = [:]
    ) {
        let (outgoingStream, outgoing) = AsyncStream<Outgoing>.makeStream()
        self.outgoing = outgoing
        let inbox = Inbox()
        self.inboxState = inbox
        var configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 20)
        if let bearer { configuration.additionalHeaders[.authorization] = "Bearer \(bearer)" }
        for (name, value) in headers { configuration.additionalHeaders[HTTPField.Name(name)!] = value }
        let url = "ws://127.0.0.1:\(port)\(path)" + (query.map { "?" + $0 } ?? token.map { "?token=\($0)" } ?? "")
        var logger = Logger(label: "ws-test")
        logger.logLevel = .critical
        run = Task {
            defer { inbox.end() }
            return try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await item in outgoingStream {
                            switch item {
                            case .text(let text): try await outbound.write(.text(text))
                            case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                            case .close:
                                try await outbound.close(.normalClosure, reason: nil)
                                return
                            }
                        }
                    }
                    for try await message in inbound.messages(maxSize: 1 << 22) {
                        if case .text(let text) = message, let value = try? JSONValue.parse(Data(text.utf8)) {
                            inbox.append(value)
                        }
                    }
                    inbox.end()
                    group.cancelAll()
                }
            }
        }
    }

    func send(_ frame: JSONValue) { outgoing.yield(.text(String(decoding: frame.jsonData(), as: UTF8.self))) }
    func sendText(_ text: String) { outgoing.yield(.text(text)) }
    func sendBinary(_ bytes: [UInt8]) { outgoing.yield(.binary(bytes)) }
    func close() { outgoing.yield(.close) }

    /// The next frame received, or nil when the connection has ended or `timeout` passed.
    func next(timeout: Duration = .seconds(5)) async -> JSONValue? {
        let deadline = ContinuousClock.now + timeout
        repeat {
            switch inboxState.take() {
            case .frame(let frame): return frame
            case .ended: return nil
            case .empty: try? await Task.sleep(for: .milliseconds(2))
            }
        } while ContinuousClock.now < deadline
        return nil
    }

    /// The next frame whose `action` (or, for live-log messages, `type`) is `name`, skipping others.
    func next(_ name: String, timeout: Duration = .seconds(5)) async -> JSONValue? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let frame = await next(timeout: deadline - ContinuousClock.now) else { return nil }
            if frame["action"]?.stringValue == name || (frame["action"] == nil && frame["type"]?.stringValue == name) {
                return frame
            }
        }
        return nil
    }

    /// Every frame that arrives within `window`.
    func drain(for window: Duration = .milliseconds(200)) async -> [JSONValue] {
        var frames: [JSONValue] = []
        let deadline = ContinuousClock.now + window
        while ContinuousClock.now < deadline, let frame = await next(timeout: deadline - ContinuousClock.now) {
            frames.append(frame)
        }
        return frames
    }

    /// How the server closed the connection (waits for it to end).
    func closeFrame() async throws -> WebSocketCloseFrame? {
        try await run.value
    }
}

/// Frames received and not yet read, and whether the connection has ended.
private final class Inbox: Sendable {
    enum Item {
        case frame(JSONValue)
        case empty
        case ended
    }

    private let state = Mutex<(frames: [JSONValue], ended: Bool)>(([], false))

    func append(_ frame: JSONValue) { state.withLock { $0.frames.append(frame) } }
    func end() { state.withLock { $0.ended = true } }

    func take() -> Item {
        state.withLock { state in
            if !state.frames.isEmpty { return .frame(state.frames.removeFirst()) }
            return state.ended ? .ended : .empty
        }
    }
}
