import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import PluginAPI

/// The gateway's Socket.IO transport on `/socket.io/`: Engine.IO v4 / Socket.IO v5 over WebSocket, the default
/// namespace, JSON packets. Clients of the HazeBot document work as written, with the WebSocket transport
/// (`io(url, {auth: {token}, transports: ["websocket"]})`; long-polling is not offered).
///
/// A client's `socket.emit("join_ticket", {ticket_id})` is the gateway frame `{"action": "join_ticket", ticket_id}`;
/// a gateway frame `{"action": "new_message", ...}` reaches the client as the event `new_message` with the rest of
/// the frame as its data. The token comes in the connect packet's auth object (`{token}` or `{api_key}`), or as on
/// the JSON transport with the upgrade.
struct SocketIOTransport: Sendable {
    let door: GatewayDoor
    var hub: GatewayHub { door.hub }

    static let path = "/socket.io"
    static let pingInterval = Duration.seconds(25)
    /// How long a socket may take to send its connect packet before it is closed.
    static let connectTimeout = Duration.seconds(20)

    func register(on router: Router<GatewayRequestContext>) {
        router.ws(RouterPath(Self.path)) { request, _ in
            let query = request.uri.queryParameters
            guard query["EIO"] == "4", query["transport"] == "websocket" else { return .dontUpgrade }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            await serve(
                inbound, outbound, request: context.request, address: context.requestContext.remoteAddress,
                channel: context.requestContext.connection)
        }
    }

    /// Engine.IO packet types (the first character of a text frame).
    private enum Engine {
        static let open = "0", close = "1", ping = "2", pong = "3", message = "4"
    }

    private func serve(
        _ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter, request: Request, address: String, channel: any Channel
    ) async {
        let open: JSONValue = [
            "sid": .string(UUID().uuidString), "upgrades": [], "pingInterval": .int(Self.pingInterval.components.seconds * 1000),
            "pingTimeout": 20000, "maxPayload": .int(Int64(door.settings.maxFrameBytes)),
        ]
        try? await outbound.write(.text(Engine.open + String(decoding: open.jsonData(), as: UTF8.self)))
        var messages = inbound.messages(maxSize: max(door.settings.maxFrameBytes * 4, 1 << 16)).makeAsyncIterator()
        // The Socket.IO CONNECT packet (`40` or `40{auth}` on the wire: message `4`, connect `0`) comes first, within
        // `connectTimeout`; until then the socket counts against its address's limit like an admitted one.
        guard hub.reserve(address) else {
            try? await outbound.close(.policyViolation, reason: "too many connections from this address")
            return
        }
        let connect = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                guard (try? await Task.sleep(for: Self.connectTimeout)) != nil else { return }
                try? await outbound.close(.policyViolation, reason: "no Socket.IO connect packet in time")
            }
            defer { group.cancelAll() }
            return try? await nextText(&messages, outbound: outbound)
        }
        hub.release(address)
        guard let connect, connect.hasPrefix("0") else {
            try? await outbound.close(.protocolError, reason: "expected a Socket.IO connect packet")
            return
        }
        let payload = connect.dropFirst()
        if payload.hasPrefix("/") && !payload.hasPrefix("/,") {
            try? await outbound.write(.text("44" + String(payload.prefix { $0 != "," }) + ",{\"message\":\"Invalid namespace\"}"))
            try? await outbound.close(.normalClosure, reason: nil)
            return
        }
        let auth = payload.isEmpty ? JSONValue.object([:]) : (try? JSONValue.parse(Data(payload.utf8))) ?? .object([:])
        let query = request.uri.queryParameters
        let credential = auth["api_key"]?.stringValue.map(Authenticator.Credential.apiKey)
            ?? auth["token"]?.stringValue.map(Authenticator.Credential.init(bearer:))
            ?? Authenticator.credential(request)
            ?? query["token"].map { Authenticator.Credential(bearer: String($0)) }
        let explicitGuild = auth["guild_id"].flatMap { $0.stringValue ?? (try? JSONValueDecoder().decode(Int64.self, from: $0)).map(String.init) }
            ?? request.headers[.guildID]
        let refusal: GatewayDoor.Refusal?
        switch await door.authenticate(credential, explicitGuild: explicitGuild) {
        case .failure(let refused):
            refusal = refused
        case .success(let (caller, guild)):
            let sink = WebSocketChannelSink(channel: channel, limit: door.settings.outboundQueueLimit, encode: Self.event)
            refusal = await door.session(caller: caller, guild: guild, address: address, sink: sink) { client in
                try? await outbound.write(.text("40" + String(decoding: (["sid": .string(client.id)] as JSONValue).jsonData(), as: UTF8.self)))
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await _ in client.closeRequests { break }
                        try? await outbound.write(.text("41"))
                        let closing = client.closing ?? (GatewayCode.normal, "normal_closure")
                        try? await outbound.close(.init(codeNumber: Int(closing.code)), reason: closing.reason)
                    }
                    group.addTask {
                        // Engine.IO v4: the server pings, the client answers with a pong.
                        while (try? await Task.sleep(for: Self.pingInterval)) != nil, client.closing == nil {
                            try? await outbound.write(.text(Engine.ping))
                        }
                    }
                    await read(&messages, client, outbound: outbound)
                    client.close(code: GatewayCode.normal, reason: "normal_closure")
                    group.cancelAll()
                }
            }
        }
        if let refusal {
            let error: JSONValue = ["message": .string(refusal.reason), "data": ["code": .int(Int64(refusal.code))]]
            try? await outbound.write(.text("44" + String(decoding: error.jsonData(), as: UTF8.self)))
            try? await outbound.close(.init(codeNumber: Int(refusal.code)), reason: refusal.reason)
        }
    }

    /// The next Engine.IO message's payload (answering pings on the way).
    private func nextText(_ messages: inout WebSocketInboundMessageStream.AsyncIterator, outbound: WebSocketOutboundWriter) async throws -> String? {
        while let message = try await messages.next() {
            guard case .text(let text) = message else { continue }
            if text == Engine.ping {
                try await outbound.write(.text(Engine.pong))
                continue
            }
            guard text.hasPrefix(Engine.message) else { continue }
            return String(text.dropFirst())
        }
        return nil
    }

    private func read(
        _ messages: inout WebSocketInboundMessageStream.AsyncIterator, _ client: GatewayClient, outbound: WebSocketOutboundWriter
    ) async {
        do {
            while let message = try await messages.next() {
                guard case .text(let text) = message else { continue }
                switch String(text.prefix(1)) {
                case Engine.pong:
                    hub.touch(client)
                case Engine.ping:
                    hub.touch(client)
                    try await outbound.write(.text(Engine.pong))
                case Engine.close:
                    return
                case Engine.message:
                    // Socket.IO packet types: 1 disconnect, 2 event.
                    let packet = text.dropFirst()
                    if packet.hasPrefix("1") { return }
                    guard packet.hasPrefix("2") else { continue }
                    try await event(packet.dropFirst(), from: client, outbound: outbound)
                default:
                    continue
                }
            }
        } catch {
            hub.logger.debug("socket.io connection ended", metadata: ["connection": "\(client.id)", "error": "\(error)"])
        }
    }

    /// `42[<ack id>]["name", data]`: the gateway frame `{"action": name, ...data}`. An acknowledgement asked for is
    /// answered at once and empty; the action's answer arrives as its own event.
    private func event(_ packet: Substring, from client: GatewayClient, outbound: WebSocketOutboundWriter) async throws {
        let ackDigits = packet.prefix { $0.isNumber }
        guard case .array(let items)? = try? JSONValue.parse(Data(packet.dropFirst(ackDigits.count).utf8)),
            let name = items.first?.stringValue
        else {
            client.send(GatewayHub.error(GatewayCode.protocolError, "Protocol Error", ["issue": "An event is [\"name\", data]"]))
            return
        }
        if !ackDigits.isEmpty { try await outbound.write(.text("43\(ackDigits)[]")) }
        var frame: [String: JSONValue] = [:]
        switch items.count > 1 ? items[1] : .null {
        case .object(let members): frame = members
        case .null: break
        case let other: frame["data"] = other
        }
        frame["action"] = .string(name)
        await hub.handle(.object(frame), from: client)
    }

    /// A gateway frame as a Socket.IO event packet: `42["<action>", {...the rest}]`.
    @Sendable static func event(_ frame: OutboundFrame) -> ByteBuffer {
        guard case .object(var members) = frame.value, case .string(let name)? = members.removeValue(forKey: "action") else {
            return ByteBuffer(string: "42[\"message\"," + String(decoding: frame.value.jsonData(), as: UTF8.self) + "]")
        }
        let packet: JSONValue = [.string(name), .object(members)]
        var buffer = ByteBuffer(string: "42")
        buffer.writeImmutableBuffer(packet.jsonBuffer)
        return buffer
    }
}
