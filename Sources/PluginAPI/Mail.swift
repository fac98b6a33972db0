/// A plain-text e-mail.
public struct Mail: Sendable, Equatable {
    /// Recipients' addresses.
    public var to: [String]
    /// The subject line.
    public var subject: String
    /// The body, plain text.
    public var text: String

    /// A message to `to`.
    public init(to: [String], subject: String, text: String) {
        self.to = to
        self.subject = subject
        self.text = text
    }
}

/// Sends e-mail through the deployment's mail server (the host's `smtp` settings). The sender address is the
/// deployment's; a cog only says to whom and what.
public protocol MailSender: Sendable {
    /// Whether the deployment has a mail server configured; ``send(_:)`` throws ``MailError/notConfigured`` otherwise.
    var isConfigured: Bool { get }
    /// Sends `mail`; returns once the mail server accepted it. Throws ``MailError`` if it did not.
    func send(_ mail: Mail) async throws
}

/// Why mail was not sent.
public enum MailError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The deployment has no `smtp.host`.
    case notConfigured
    /// An address is empty or has a line break or no `@`.
    case invalidAddress(String)
    /// The server could not be reached or the conversation broke off.
    case unreachable(String)
    /// The server refused a step with this reply.
    case refused(String)

    public var description: String {
        switch self {
        case .notConfigured: "no mail server is configured (smtp.host)"
        case .invalidAddress(let address): "not an e-mail address: \(address)"
        case .unreachable(let reason): "the mail server could not be reached: \(reason)"
        case .refused(let reply): "the mail server refused: \(reply)"
        }
    }
}
