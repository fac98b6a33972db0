import Foundation

/// A named occurrence on the host's event bus (`"ticket.opened"`, `"cog.loaded"`), with a JSON payload.
public struct Event: Sendable {
    /// Dotted name; the first segment is the area (`ticket`, `cog`, `config`).
    public var name: String
    /// The payload as JSON; read it with ``decode(_:)``.
    public var payload: JSONValue
    /// When it was published.
    public var timestamp: Date
    /// Who published it: a cog id, or `"host"`.
    public var source: String
    /// Ties together events caused by one request or action; inherited from the request id where there is one.
    public var correlationID: String
    /// The guild it happened in, if any. Listeners of a cog disabled for that guild do not receive it.
    public var guildID: Int64?

    /// An event; the bus builds these from `EventPublisher.publish`.
    public init(
        name: String, payload: JSONValue, timestamp: Date = Date(), source: String, correlationID: String, guildID: Int64? = nil
    ) {
        self.name = name
        self.payload = payload
        self.timestamp = timestamp
        self.source = source
        self.correlationID = correlationID
        self.guildID = guildID
    }

    /// Decodes the payload as `type`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try payload.decode(T.self)
    }
}

/// Which events a listener receives: one exact name, or every name under a prefix.
public struct EventPattern: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The exact name, or the prefix including its trailing dot.
    public let text: String
    /// Whether ``text`` is a prefix.
    public let isPrefix: Bool

    /// `"ticket.opened"` matches that name only; `"ticket.*"` matches every name starting `ticket.`; `"*"` all.
    public init(_ pattern: String) {
        if pattern == "*" {
            (text, isPrefix) = ("", true)
        } else if pattern.hasSuffix(".*") {
            (text, isPrefix) = (String(pattern.dropLast()), true)
        } else {
            (text, isPrefix) = (pattern, false)
        }
    }

    /// A pattern written as a literal: `"ticket.*"`.
    public init(stringLiteral value: String) { self.init(value) }

    /// Whether an event called `name` matches.
    public func matches(_ name: String) -> Bool { isPrefix ? name.hasPrefix(text) : name == text }

    /// The pattern as written.
    public var description: String { isPrefix ? text + "*" : text }
}

/// Publishes events on the host's bus. Delivery is asynchronous: `publish` returns before listeners run.
public protocol EventPublisher: Sendable {
    /// Publishes `name` with `payload`, as happening in guild `guild` (nil: the whole deployment). `correlationID`
    /// links it to the request that caused it; nil starts a new one.
    func publish(_ name: String, payload: some Encodable & Sendable, guild: Int64?, correlationID: String?)
}

extension EventPublisher {
    /// Publishes `name` with `payload` for the whole deployment.
    public func publish(_ name: String, payload: some Encodable & Sendable, correlationID: String?) {
        publish(name, payload: payload, guild: nil, correlationID: correlationID)
    }

    /// Publishes `name` with `payload` under a new correlation id.
    public func publish(_ name: String, payload: some Encodable & Sendable) {
        publish(name, payload: payload, guild: nil, correlationID: nil)
    }
}
