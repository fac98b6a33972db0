import Foundation
import Logging
import PluginAPI
import ServiceLifecycle
import Synchronization

/// The host's ``Notifier``: notifications are queued and sent by one background worker, so a cog (or a request)
/// never waits on FCM. For each, the audience's devices are looked up with their owners' switches, each device
/// gets the message, and devices FCM reports gone are forgotten.
final class HostNotifier: Notifier, Service {
    struct Counts: Sendable {
        var sent = 0
        var failed = 0
        var removed = 0
        var dropped = 0
    }

    let devices: PushDevices
    private let sender: FCMSender?
    private let logger: Logger
    private let queue: AsyncStream<(PushAudience, PushNotification)>.Continuation
    private let stream: AsyncStream<(PushAudience, PushNotification)>
    private let counts = Mutex(Counts())

    init(devices: PushDevices, sender: FCMSender?, queueLimit: Int, logger: Logger) {
        self.devices = devices
        self.sender = sender
        self.logger = logger
        (stream, queue) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(max(1, queueLimit)))
    }

    var isConfigured: Bool { sender != nil }
    var figures: Counts { counts.withLock { $0 } }

    func notify(_ audience: PushAudience, _ notification: PushNotification) {
        guard sender != nil else { return }
        if case .dropped = queue.yield((audience, notification)) {
            counts.withLock { $0.dropped += 1 }
            logger.warning("push queue full: a notification was dropped", metadata: ["kind": "\(notification.kind)"])
        }
    }

    /// Sends queued notifications until the host's group shuts down (``stop()``: what is queued then is still sent) or
    /// the task is cancelled.
    func run() async {
        await withGracefulShutdownHandler {
            await deliverQueued()
        } onGracefulShutdown: {
            self.stop()
        }
    }

    private func deliverQueued() async {
        for await (audience, notification) in stream {
            do {
                let recipients = try await devices.recipients(of: audience, kind: notification.kind)
                _ = await deliver(notification, to: recipients.map(\.token))
            } catch {
                logger.error("push recipients not read", metadata: ["error": "\(error)"])
            }
        }
    }

    func stop() { queue.finish() }

    /// Sends `notification` to `tokens` now and answers what became of each (for `POST /api/notifications/test`).
    func deliver(_ notification: PushNotification, to tokens: [String]) async -> [(token: String, outcome: FCMSender.Outcome)] {
        guard let sender else { return tokens.map { ($0, .failed("push is not configured")) } }
        var results: [(String, FCMSender.Outcome)] = []
        for token in tokens {
            let outcome = await sender.send(notification, to: token)
            results.append((token, outcome))
            switch outcome {
            case .sent:
                counts.withLock { $0.sent += 1 }
            case .tokenGone:
                counts.withLock { $0.removed += 1 }
                _ = try? await devices.remove(token: token, userID: nil)
            case .failed(let reason):
                counts.withLock { $0.failed += 1 }
                logger.warning("push not delivered", metadata: ["reason": "\(reason)"])
            }
        }
        return results
    }
}
