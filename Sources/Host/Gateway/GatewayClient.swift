import Foundation
import NIOCore
import PluginAPI
import Synchronization

/// A frame on its way to clients: the value, and its JSON text encoded once into a buffer that every recipient's
/// write shares (a broadcast to a thousand clients serialises and copies nothing per client).
final class OutboundFrame: Sendable {
    let value: JSONValue
    let json: ByteBuffer

    init(_ value: JSONValue) {
        self.value = value
        self.json = value.jsonBuffer
    }
}

/// One connected client of the gateway, whatever its transport: who it is, what it subscribed to, its rate
/// windows, and the queue of frames its transport writes out.
final class GatewayClient: Sendable {
    let id: String
    let identity: Identity
    let address: String
    let reader: LiveLogReader
    /// Frames for the transport to write, in order.
    let frames: AsyncStream<OutboundFrame>
    private let continuation: AsyncStream<OutboundFrame>.Continuation

    struct State {
        var messageTypes: Set<LiveLogType> = []
        var topics: Set<String> = []
        var lastSeen = ContinuousClock.now
        var messages = RateWindow()
        var commands = RateWindow()
        /// Set by ``close(code:reason:)``: the transport closes with it once the queued frames are written.
        var closing: (code: UInt16, reason: String)?
    }

    /// A fixed window counter: how many since the window opened.
    struct RateWindow {
        var start = ContinuousClock.now
        var count = 0

        mutating func count(at now: ContinuousClock.Instant, window: Duration) -> (count: Int, resetIn: Duration) {
            if now - start >= window {
                start = now
                count = 0
            }
            count += 1
            return (count, window - (now - start))
        }
    }

    let state = Mutex(State())

    init(identity: Identity, address: String, guilds: Set<String>, queueLimit: Int) {
        self.id = "conn_" + UUID().uuidString.lowercased()
        self.identity = identity
        self.address = address
        self.reader = LiveLogReader(identity: identity, guilds: guilds)
        (frames, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(queueLimit))
    }

    /// Queues `frame`; a client too slow to keep up with its queue is disconnected rather than left to grow.
    func send(_ frame: OutboundFrame) {
        if case .dropped = continuation.yield(frame) {
            close(code: 1008, reason: "too slow: outbound queue full")
        }
    }

    func send(_ value: JSONValue) { send(OutboundFrame(value)) }

    /// Ends the frame queue: the transport writes what is queued, then closes with `code`. Later calls do nothing.
    func close(code: UInt16, reason: String) {
        let first = state.withLock { state in
            defer { state.closing = state.closing ?? (code, reason) }
            return state.closing == nil
        }
        if first { continuation.finish() }
    }

    /// The close the transport should perform, once the frame queue has ended.
    var closing: (code: UInt16, reason: String)? { state.withLock { $0.closing } }
}
