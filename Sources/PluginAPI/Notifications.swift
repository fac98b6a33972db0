/// A push notification to people's devices (contract 1.2).
public struct PushNotification: Sendable, Equatable {
    /// The kind, which each person can switch off in their notification settings: `ticket_new_messages`,
    /// `ticket_mentions`, `ticket_created`, `ticket_assigned`, `broadcast`, or a cog's own (people can switch off
    /// every kind with `notifications_enabled`).
    public var kind: String
    public var title: String
    public var body: String
    /// String values delivered with the notification for the app to act on (`ticket_id`, `open_tab`, ...).
    public var data: [String: String]

    /// A notification of `kind`.
    public init(kind: String, title: String, body: String, data: [String: String] = [:]) {
        self.kind = kind
        self.title = title
        self.body = body
        self.data = data
    }
}

/// Who a push notification is for.
public enum PushAudience: Sendable, Equatable {
    /// These users (by user id).
    case users([Int64])
    /// Every admin and moderator.
    case staff
    /// Everyone with a registered device.
    case everyone
}

/// Sends push notifications to the devices people registered (the host's `push` settings: Firebase Cloud
/// Messaging). Each person's switches are honoured; devices the push service reports gone are forgotten.
public protocol Notifier: Sendable {
    /// Queues `notification` for `audience` and returns at once: delivery happens off the caller's path, and a
    /// deployment without push configured drops it. Never throws.
    func notify(_ audience: PushAudience, _ notification: PushNotification)
}
