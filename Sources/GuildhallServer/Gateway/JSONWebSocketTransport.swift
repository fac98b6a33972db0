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
/// and (for the JSON transport) the serialised buffer shared by every recipient of a broadcast.
final class WebSocketChannelSink: GatewayFrameSink {
    private let channel: any Channel
    private let limit: Int
    /// The text a frame is sent as on this connection's protocol.
    private let encode: @Sendable (OutboundFrame) -> ByteBuffer
    /// Frames written while the channel reported its outbound buffer full.
    private let backlog = Atomic<Int>(0)

    init(channel: any Channel, limit: Int, encode: @escaping @Sendable (OutboundFrame) -> ByteBuffer = { $0.json }) {
        self.channel = channel
        self.limit = limit
        self.encode = encode
    }

    func write(_ frame: OutboundFrame) -> Bool {
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: encode(frame)), promise: nil)
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
    let door: GatewayDoor
    var hub: GatewayHub { door.hub }
    var settings: GatewaySettings { door.settings }

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
        let query = request.uri.queryParameters
        // Browsers cannot set headers on a WebSocket: `?token=` and `?api_key=` stand in for them.
        let credential = Authenticator.credential(request)
            ?? query["api_key"].map { Authenticator.Credential.apiKey(String($0)) }
            ?? query["token"].map { Authenticator.Credential(bearer: String($0)) }
        let refusal: GatewayDoor.Refusal?
        switch await door.authenticate(credential, explicitGuild: request.headers[.guildID] ?? query["guild_id"].map(String.init)) {
        case .failure(let refused):
            refusal = refused
        case .success(let (caller, guild)):
            let sink = WebSocketChannelSink(channel: channel, limit: settings.outboundQueueLimit)
            refusal = await door.session(caller: caller, guild: guild, address: address, sink: sink) { client in
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await _ in client.closeRequests { break }
                        let closing = client.closing ?? (GatewayCode.normal, "normal_closure")
                        try? await outbound.close(.init(codeNumber: Int(closing.code)), reason: closing.reason)
                    }
                    await read(inbound, client)
                    client.close(code: GatewayCode.normal, reason: "normal_closure")
                }
            }
        }
        if let refusal { try? await outbound.close(.init(codeNumber: Int(refusal.code)), reason: refusal.reason) }
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
