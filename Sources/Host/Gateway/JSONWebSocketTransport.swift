import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import PluginAPI
import Synchronization

/// The request context of WebSocket upgrades.
struct GatewayRequestContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<Self>
    private let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }

    var remoteAddress: String { channel.remoteAddress?.ipAddress ?? "unknown" }

    /// The connection's channel, for writing frames straight to it.
    var connection: any Channel { channel }
}

/// Writes frames straight into the connection's NIO channel: one hop onto its event loop per frame, no task woken,
/// and the serialised buffer shared by every recipient of a broadcast.
final class WebSocketChannelSink: GatewayFrameSink {
    private let channel: any Channel
    private let limit: Int
    /// Frames written while the channel reported its outbound buffer full.
    private let backlog = Atomic<Int>(0)

    init(channel: any Channel, limit: Int) {
        self.channel = channel
        self.limit = limit
    }

    func write(_ frame: OutboundFrame) -> Bool {
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: frame.json), promise: nil)
        if channel.isWritable {
            backlog.store(0, ordering: .relaxed)
            return true
        }
        return backlog.add(1, ordering: .relaxed).newValue <= limit
    }
}

/// The gateway's JSON transport on `/ws` and `/ws/live-log`: one JSON object per text frame, both ways.
///
/// The credential comes with the upgrade (`?token=` or `Authorization: Bearer`, or a guild API key); without one
/// the connection is closed with 4000, with a bad one 4001, with an expired one 4002, past a key's connection
/// limit 4003. Frames over `max_frame_bytes` are answered
/// with error 1009 and the connection closes; binary frames with 1003; text that is not JSON with 1002.
struct JSONWebSocketTransport: Sendable {
    let hub: GatewayHub
    let gate: AccessGate
    let guilds: GuildStore
    let presence: GatewayPresence
    let settings: GatewaySettings

    static let paths = ["/ws", "/ws/live-log"]

    func register(on router: Router<GatewayRequestContext>) {
        for path in Self.paths {
            router.ws(RouterPath(path)) { _, _ in
                .upgrade([:])
            } onUpgrade: { inbound, outbound, context in
                await serve(
                    inbound, outbound, request: context.request, address: context.requestContext.remoteAddress,
                    channel: context.requestContext.connection)
            }
        }
    }

    /// The largest message the WebSocket layer itself accepts; bigger ones are cut off there with 1009. Between
    /// `max_frame_bytes` and this, the gateway answers with its own 1009 error frame first.
    var protocolLimit: Int { max(settings.maxFrameBytes * 4, 1 << 16) }

    private func serve(
        _ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter, request: Request, address: String, channel: any Channel
    ) async {
        let caller: AccessGate.Caller, guild: GuildScope?
        switch await authenticate(request) {
        case .success(let found):
            (caller, guild) = found
        case .failure(let refusal):
            try? await outbound.close(.init(codeNumber: Int(refusal.code)), reason: refusal.reason)
            return
        }
        if let key = caller.key {
            guard gate.limits.openConnection(of: key.record, in: key.guild) else {
                try? await outbound.close(.init(codeNumber: Int(GatewayCode.rateLimited)), reason: "connection limit reached")
                return
            }
        }
        defer { if let key = caller.key { gate.limits.closeConnection(of: key.record) } }
        let identity = caller.identity
        let memberOf = identity.apiKey == nil ? (try? await guilds.guildIDs(of: identity.userID)) ?? [] : []
        let client = GatewayClient(
            identity: identity, guild: guild, address: address, guilds: Set(memberOf.map(String.init)),
            sink: WebSocketChannelSink(channel: channel, limit: settings.outboundQueueLimit))
        guard hub.admit(client) else {
            try? await outbound.close(.policyViolation, reason: "too many connections from this address")
            return
        }
        await presence.joined(client)
        var welcome: [String: JSONValue] = [
            "action": "connected", "connection_id": .string(client.id), "message": "Successfully connected to live log",
        ]
        if let guild {
            welcome["guild_id"] = .int(guild.id)
            welcome["guild_name"] = .string(guild.name)
        }
        client.send(.object(welcome))
        if let guild {
            // The combat log document's greeting, for its clients (they read `type`).
            client.send(["action": "welcome", "type": "welcome", "guild_id": .int(guild.id), "guild_name": .string(guild.name)])
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in client.closeRequests { break }
                let closing = client.closing ?? (GatewayCode.normal, "normal_closure")
                try? await outbound.close(.init(codeNumber: Int(closing.code)), reason: closing.reason)
            }
            await read(inbound, client)
            client.close(code: GatewayCode.normal, reason: "normal_closure")
        }
        hub.remove(client)
        await presence.left(client)
    }

    private func read(_ inbound: WebSocketInboundStream, _ client: GatewayClient) async {
        do {
            for try await message in inbound.messages(maxSize: protocolLimit) {
                switch message {
                case .text(let text):
                    guard text.utf8.count <= settings.maxFrameBytes else {
                        client.send(
                            GatewayHub.error(
                                GatewayCode.tooBig, "Message too big", ["limit_bytes": .int(Int64(settings.maxFrameBytes))]))
                        client.close(code: GatewayCode.tooBig, reason: "message too big")
                        return
                    }
                    guard let frame = try? JSONValue.parse(Data(text.utf8)) else {
                        client.send(GatewayHub.error(GatewayCode.protocolError, "Protocol Error", ["issue": "Malformed JSON"]))
                        continue
                    }
                    await hub.handle(frame, from: client)
                case .binary:
                    client.send(
                        GatewayHub.error(GatewayCode.unsupportedData, "Unsupported data", ["issue": "Binary frames are not supported"]))
                }
            }
        } catch {
            hub.logger.debug("gateway connection ended", metadata: ["connection": "\(client.id)", "error": "\(error)"])
        }
    }

    struct Refusal: Error {
        let code: UInt16
        let reason: String
    }

    /// The caller and their guild, from the upgrade request: `Authorization: Bearer` (a token or an API key),
    /// `X-API-Key`, or `?token=` / `?api_key=` for browsers, which cannot set headers; the guild from `X-Guild-Id`
    /// or `?guild_id=`.
    private func authenticate(_ request: Request) async -> Result<(AccessGate.Caller, GuildScope?), Refusal> {
        let query = request.uri.queryParameters
        let credential = AccessGate.credential(request)
            ?? query["api_key"].map { AccessGate.Credential.apiKey(String($0)) }
            ?? query["token"].map { AccessGate.Credential(bearer: String($0)) }
        guard let credential else {
            return .failure(Refusal(code: GatewayCode.authenticationFailed, reason: "authentication required"))
        }
        do {
            let caller = try await gate.verify(credential)
            let explicit = request.headers[.guildID] ?? query["guild_id"].map(String.init)
            let guild = try await gate.guild(of: caller, explicit: explicit, required: false)
            return .success((caller, guild))
        } catch let error as APIError where error.code == "token_expired" {
            return .failure(Refusal(code: GatewayCode.tokenExpired, reason: "token expired"))
        } catch let error as APIError {
            return .failure(Refusal(code: GatewayCode.invalidToken, reason: error.code))
        } catch {
            return .failure(Refusal(code: GatewayCode.invalidToken, reason: "invalid credential"))
        }
    }
}

/// `user_joined` and `user_left` system messages, on a user's first connection and after their last.
struct GatewayPresence: Sendable {
    let hub: GatewayHub
    let liveLog: LiveLogService

    func joined(_ client: GatewayClient) async {
        guard client.identity.apiKey == nil, hub.connectionCount(of: client.identity.userID) == 1 else { return }
        await announce("user_joined", client)
    }

    func left(_ client: GatewayClient) async {
        guard client.identity.apiKey == nil, hub.connectionCount(of: client.identity.userID) == 0 else { return }
        await announce("user_left", client)
    }

    private func announce(_ event: String, _ client: GatewayClient) async {
        let online = Set(hub.connected.map(\.identity.userID)).count
        await liveLog.system(
            event,
            data: [
                "user_id": .string(String(client.identity.userID)), "username": .string(client.identity.username),
                "count_online": .int(Int64(online)),
            ])
    }
}
