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

/// How a transport puts a client's frames on the wire: called from any thread, without waiting, keeping the order
/// of calls. Answers false when the client cannot keep up (too much unsent), and the client is then disconnected.
protocol GatewayFrameSink: Sendable {
    func write(_ frame: OutboundFrame) -> Bool
}

/// One connected client of the gateway, whatever its transport: who it is, what it subscribed to, its rate
/// windows, and the sink its frames go to.
final class GatewayClient: Sendable {
    let id: String
    let identity: Identity
    /// The digest of the token the connection was opened with (nil for a guild key).
    let tokenDigest: String?
    /// The guild the connection acts in: a key's guild, or the one a person connected for (see ``GuildScope``).
    let guild: GuildScope?
    let address: String
    let reader: LiveLogReader
    private let sink: any GatewayFrameSink
    /// Yields once, when the client should be closed (see ``closing``).
    let closeRequests: AsyncStream<Void>
    private let closeRequest: AsyncStream<Void>.Continuation

    struct State {
        var messageTypes: Set<LiveLogType> = []
        var topics: Set<String> = []
        var lastSeen = ContinuousClock.now
        var messages = RateWindow()
        var commands = RateWindow()
        /// Set by ``close(code:reason:)``: the transport closes the connection with it.
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
    /// The hub's frame counters.
    private let traffic: GatewayTraffic

    init(
        identity: Identity, guild: GuildScope?, address: String, guilds: Set<String>, sink: any GatewayFrameSink, tokenDigest: String? = nil,
        traffic: GatewayTraffic
    ) {
        self.traffic = traffic
        self.id = "conn_" + UUID().uuidString.lowercased()
        self.identity = identity
        self.tokenDigest = tokenDigest
        self.guild = guild
        self.address = address
        self.reader = LiveLogReader(identity: identity, guilds: guilds)
        self.sink = sink
        (closeRequests, closeRequest) = AsyncStream.makeStream()
    }

    /// Sends `frame`; a client too slow to take what it is sent is disconnected rather than buffered without end.
    func send(_ frame: OutboundFrame) {
        guard closing == nil else { return }
        traffic.framesOut.add(1, ordering: .relaxed)
        if !sink.write(frame) {
            close(code: 1008, reason: "too slow: outbound queue full")
        }
    }

    func send(_ value: JSONValue) { send(OutboundFrame(value)) }

    /// Asks the transport to close the connection with `code` after the frames already sent. Later calls do nothing.
    func close(code: UInt16, reason: String) {
        let first = state.withLock { state in
            defer { state.closing = state.closing ?? (code, reason) }
            return state.closing == nil
        }
        if first {
            closeRequest.yield()
            closeRequest.finish()
        }
    }

    /// The close the transport should perform.
    var closing: (code: UInt16, reason: String)? { state.withLock { $0.closing } }
}
