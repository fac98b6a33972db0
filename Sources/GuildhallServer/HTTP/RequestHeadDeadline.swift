import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// Closes a connection whose first request head has not arrived whole within `timeout` of opening — an idle socket,
/// or one sending its headers a byte at a time (slowloris) — whatever it sends meanwhile. Hummingbird's own idle
/// timeout takes over from the first request on; before it, its handler is not in the pipeline yet.
final class RequestHeadDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    /// How much of `\r\n\r\n` (the end of a head) the bytes read so far end with; 4 once the head is complete (then
    /// the handler removes itself and `handlerRemoved` cancels the deadline).
    private var matched = 0

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        for byte in unwrapInboundIn(data).readableBytesView {
            let expected: UInt8 = matched % 2 == 0 ? 0x0D : 0x0A
            matched = byte == expected ? matched + 1 : (byte == 0x0D ? 1 : 0)
            if matched == 4 { break }
        }
        context.fireChannelRead(data)
        // Its work is done once a head is whole: it leaves the pipeline, so later reads skip a hop.
        if matched == 4 { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { context.close(promise: nil) }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with WebSocket upgrades, every connection closed after `idleTimeoutSeconds` without a request: before
    /// its first head arrives whole (``RequestHeadDeadline``) and between requests (Hummingbird's idle timeout).
    static func guarded(
        webSocketRouter: Router<GatewayRequestContext>, idleTimeoutSeconds: Double, ws: WebSocketServerConfiguration
    ) -> HTTPServerBuilder {
        let webSocketResponder = webSocketRouter.buildResponder()
        let timeout = TimeAmount.milliseconds(Int64(idleTimeoutSeconds * 1000))
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(http1: .init(idleTimeout: timeout), ws: ws)
        return HTTPServerBuilder { responder in
            DeadlineGuardedChannel(
                inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: configuration),
                headTimeout: timeout)
        }
    }
}

/// The host's HTTP and WebSocket channel with ``RequestHeadDeadline`` in front of it.
struct DeadlineGuardedChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    let inner: HTTP1WebSocketUpgradeChannel
    let headTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(RequestHeadDeadline(timeout: headTimeout), position: .first)
        }.flatMap {
            inner.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
