/// One call of a cog's gateway action: a connected client sent `{"action": name, ...}`.
public struct GatewayCall: Sendable {
    /// Who sent it.
    public let caller: Identity
    /// The whole frame the client sent, `action` included.
    public let body: JSONValue
    /// The connection it came on; stable while the client stays connected.
    public let connectionID: String
    /// The guild the connection acts in (a key's guild, or the one the person connected for), if resolved.
    public let guild: GuildScope?

    private let joinTopic: @Sendable (String) async throws -> Void
    private let leaveTopic: @Sendable (String) -> Void
    private let reply: @Sendable (JSONValue) -> Void

    /// Made by the host for each call.
    public init(
        caller: Identity, body: JSONValue, connectionID: String, guild: GuildScope?,
        join: @escaping @Sendable (String) async throws -> Void, leave: @escaping @Sendable (String) -> Void,
        send: @escaping @Sendable (JSONValue) -> Void
    ) {
        self.caller = caller
        self.body = body
        self.connectionID = connectionID
        self.guild = guild
        self.joinTopic = join
        self.leaveTopic = leave
        self.reply = send
    }

    /// Subscribes the caller's connection to `topic`, if the topic's owner admits the caller; throws
    /// ``APIError`` (403 or 404) otherwise.
    public func join(_ topic: String) async throws { try await joinTopic(topic) }

    /// Unsubscribes the caller's connection from `topic`.
    public func leave(_ topic: String) { leaveTopic(topic) }

    /// Sends `frame` (an object with an `action` member) to the caller's connection only.
    public func send(_ frame: JSONValue) { reply(frame) }

    /// The member `key` of the frame as a string, or a 400 naming it.
    public func string(_ key: String) throws -> String {
        guard let value = body[key]?.stringValue else {
            throw APIError(.badRequest, "invalid_field", "'\(key)' must be a string.", details: ["field": .string(key)])
        }
        return value
    }

    /// The member `key` of the frame as an integer, or a 400 naming it.
    public func integer(_ key: String) throws -> Int64 {
        switch body[key] {
        case .int(let value)?: return value
        case .string(let text)?: if let value = Int64(text) { return value }
        default: break
        }
        throw APIError(.badRequest, "invalid_field", "'\(key)' must be an integer.", details: ["field": .string(key)])
    }
}

/// Decides whether `identity`, connected for `guild`, may subscribe to a topic (the full topic name is passed,
/// `ticket:12`). Check the topic's data against the guild as a route checks its rows.
public typealias TopicRule = @Sendable (_ identity: Identity, _ guild: GuildScope?, _ topic: String) async throws -> Bool

/// The six message types of the live log.
public enum LiveLogType: String, Codable, Sendable, CaseIterable {
    /// A chat message by a user.
    case user
    /// Something the system reports (`user_joined`, `cog.loaded`, ...).
    case system
    /// A direct message between two users, seen by them and admins only.
    case dm
    /// A raid's progress.
    case raid
    /// A party's changes.
    case party
    /// A guild's events, seen by its members and admins only.
    case guild
}

/// Publishes messages into the live log: validated, stored, searchable, and delivered to the subscribers allowed to
/// see them.
public protocol LiveLogPublisher: Sendable {
    /// Posts `message` (an object with `type` and that type's fields; `id` and `timestamp` are assigned) and answers
    /// the stored message. Throws ``APIError`` 400 naming a missing or wrong field.
    @discardableResult
    func post(_ message: JSONValue) async throws -> JSONValue
}
