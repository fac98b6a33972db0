import Foundation
import Logging
import PluginAPI
import Synchronization

/// The error codes of the live-log protocol.
enum GatewayCode {
    static let normal: UInt16 = 1000
    static let goingAway: UInt16 = 1001
    static let protocolError: UInt16 = 1002
    static let unsupportedData: UInt16 = 1003
    static let policyViolation: UInt16 = 1008
    static let tooBig: UInt16 = 1009
    static let serverError: UInt16 = 1011
    static let authenticationFailed: UInt16 = 4000
    static let invalidToken: UInt16 = 4001
    static let tokenExpired: UInt16 = 4002
    static let rateLimited: UInt16 = 4003
}

/// The gateway's core: connected clients, the actions they may call and the topics they may join. It speaks in
/// JSON values and knows no transport; a transport turns its frames into ``handle(_:from:)`` calls and writes out
/// the client's frame queue.
final class GatewayHub: Sendable {
    /// An action handler of the host's own: it sees the client itself (its subscriptions).
    typealias HostAction = @Sendable (GatewayClient, JSONValue) async throws -> JSONValue?

    struct Action: Sendable {
        let owner: String
        let access: Access
        /// The door of the cog instance that registered it; nil for the host's own actions.
        var door: CogDoor? = nil
        let handler: HostAction
    }

    struct Topic: Sendable {
        let owner: String
        let rule: TopicRule
    }

    struct Limits: Sendable {
        var messagesPerMinute: Int
        var commandsPerMinute: Int
        var connectionsPerAddress: Int
        var window: Duration = .seconds(60)
    }

    let limits: Limits
    let logger: Logger
    /// Frames in and out since start, for `/metrics` and `/api/admin/stats`.
    let traffic = GatewayTraffic()
    private let clients = Mutex<[String: GatewayClient]>([:])
    private let perAddress = Mutex<[String: Int]>([:])
    private let actions = Mutex<[String: Action]>([:])
    private let topics = Mutex<[String: Topic]>([:])
    /// Decides whether a frame from a client acting in a guild is a bot command (counted against the command limit).
    let isCommand: @Sendable (JSONValue, GuildScope?) -> Bool
    /// How an action enters its cog (access, the guild's switch, the instance's door).
    let entry: CogEntry

    init(
        limits: Limits, logger: Logger, isCommand: @escaping @Sendable (JSONValue, GuildScope?) -> Bool,
        entry: CogEntry
    ) {
        self.limits = limits
        self.logger = logger
        self.isCommand = isCommand
        self.entry = entry
    }

    // MARK: Clients

    /// Admits a client unless its address has too many connections; answers false if refused.
    func admit(_ client: GatewayClient) -> Bool {
        let admitted = reserve(client.address)
        if admitted { clients.withLock { $0[client.id] = client } }
        return admitted
    }

    func remove(_ client: GatewayClient) {
        guard clients.withLock({ $0.removeValue(forKey: client.id) }) != nil else { return }
        release(client.address)
    }

    /// Counts one more open socket of `address` unless it has as many as it may; answers false if refused. Sockets
    /// not yet admitted as clients (a Socket.IO socket before its connect packet) count too.
    func reserve(_ address: String) -> Bool {
        perAddress.withLock { counts in
            guard counts[address, default: 0] < limits.connectionsPerAddress else { return false }
            counts[address, default: 0] += 1
            return true
        }
    }

    /// How many sockets of `address` are counted now.
    func socketCount(of address: String) -> Int {
        perAddress.withLock { $0[address, default: 0] }
    }

    /// Counts one open socket of `address` less.
    func release(_ address: String) {
        perAddress.withLock { counts in
            counts[address, default: 1] -= 1
            if counts[address] == 0 { counts[address] = nil }
        }
    }

    var connected: [GatewayClient] { clients.withLock { Array($0.values) } }

    /// How many connections `userID` has open.
    func connectionCount(of userID: Int64) -> Int {
        clients.withLock { $0.values.filter { $0.identity.userID == userID }.count }
    }

    /// Notes that `client` is alive (a transport's own heartbeat, which carries no frame for ``handle(_:from:)``).
    func touch(_ client: GatewayClient) {
        client.state.withLock { $0.lastSeen = .now }
    }

    /// Closes the connections opened with the token whose digest is `digest` (it was signed out); answers how many.
    @discardableResult
    func closeConnections(tokenDigest digest: String, reason: String) -> Int {
        closeConnections(reason: reason) { $0.tokenDigest == digest }
    }

    /// Closes every connection of person `userID` (deactivated or deleted); answers how many.
    @discardableResult
    func closeConnections(userID: Int64, reason: String) -> Int {
        closeConnections(reason: reason) { $0.identity.apiKey == nil && $0.identity.userID == userID }
    }

    /// Closes the connections of person `userID` that were let in with another role than `role` (their role
    /// changed: they receive by the role they connected with); answers how many. They reconnect with the new one.
    @discardableResult
    func closeConnections(userID: Int64, notHolding role: Role) -> Int {
        closeConnections(reason: "role_changed") { $0.identity.apiKey == nil && $0.identity.userID == userID && $0.identity.role != role }
    }

    /// Tells the matching clients why (`disconnected {reason}`) and closes them as holding an invalid credential.
    private func closeConnections(reason: String, where matches: (GatewayClient) -> Bool) -> Int {
        let matching = connected.filter(matches)
        for client in matching {
            client.send(["action": "disconnected", "reason": .string(reason)])
            client.close(code: GatewayCode.invalidToken, reason: reason)
        }
        return matching.count
    }

    /// Closes every connection as going away: the server is shutting down, and nothing should wait on them.
    func closeAllGoingAway() {
        for client in connected { client.close(code: GatewayCode.goingAway, reason: "server shutting down") }
    }

    /// Closes the clients silent for longer than `timeout` (the heartbeat).
    func closeSilent(longerThan timeout: Duration) {
        let now = ContinuousClock.now
        for client in connected where client.state.withLock({ now - $0.lastSeen > timeout }) {
            client.send(["action": "disconnected", "reason": "connection_timeout"])
            client.close(code: GatewayCode.goingAway, reason: "connection_timeout")
        }
    }

    // MARK: Actions and topics

    /// Registers `actions` for `owner`, replacing the owner's previous ones.
    func setActions(_ new: [String: Action], owner: String) {
        actions.withLock { table in
            table = table.filter { $0.value.owner != owner }
            table.merge(new) { _, replacement in replacement }
        }
    }

    /// The action names another owner already has.
    func takenActions(_ names: [String], owner: String) -> [String] {
        actions.withLock { table in names.filter { table[$0].map { $0.owner != owner } ?? false } }
    }

    /// Registers `prefixes` for `owner`, replacing the owner's previous ones.
    func setTopics(_ new: [String: Topic], owner: String) {
        topics.withLock { table in
            table = table.filter { $0.value.owner != owner }
            table.merge(new) { _, replacement in replacement }
        }
    }

    /// Removes `owner`'s actions and topics, telling each subscriber of those topics that they closed.
    func removeAll(of owner: String) {
        setActions([:], owner: owner)
        let closed = topics.withLock { table in
            let prefixes = table.filter { $0.value.owner == owner }.map(\.key)
            for prefix in prefixes { table[prefix] = nil }
            return prefixes
        }
        guard !closed.isEmpty else { return }
        for client in connected {
            let gone = client.state.withLock { state -> [String] in
                let gone = state.topics.filter { topic in closed.contains { Self.topic(topic, isUnder: $0) } }
                state.topics.subtract(gone)
                return gone.sorted()
            }
            for topic in gone { client.send(["action": "topic_closed", "topic": .string(topic)]) }
        }
    }

    /// The topic entry owning `topic` (`ticket` owns `ticket:12`).
    func owner(ofTopic topic: String) -> Topic? {
        topics.withLock { table in table.first { Self.topic(topic, isUnder: $0.key) }?.value }
    }

    static func topic(_ topic: String, isUnder prefix: String) -> Bool {
        topic == prefix || topic.hasPrefix(prefix + ":")
    }

    /// Subscribes `client` to `topic` if its owner's rule admits the client.
    func join(_ client: GatewayClient, topic: String) async throws {
        guard let entry = owner(ofTopic: topic) else {
            throw APIError.notFound("unknown_topic", "There is no topic '\(topic)'.")
        }
        // The topic's own rule decides who joins; the entry adds the guild's switch of the owning cog.
        try self.entry.admit(entry.owner, access: .public, caller: client.identity, guild: client.guild)
        guard try await entry.rule(client.identity, client.guild, topic) else {
            throw APIError.forbidden("You may not join '\(topic)'.")
        }
        client.state.withLock { _ = $0.topics.insert(topic) }
    }

    func leave(_ client: GatewayClient, topic: String) {
        client.state.withLock { _ = $0.topics.remove(topic) }
    }

    /// Sends `frame` to every client subscribed to `topic`; answers how many.
    @discardableResult
    func publish(topic: String, _ frame: JSONValue) -> Int {
        let outbound = OutboundFrame(frame)
        var count = 0
        for client in connected where client.state.withLock({ $0.topics.contains(topic) }) {
            client.send(outbound)
            count += 1
        }
        return count
    }

    /// Sends `frame` to every client acting in guild `guild`; answers how many.
    @discardableResult
    func broadcast(toGuild guild: Int64, _ frame: JSONValue) -> Int {
        let outbound = OutboundFrame(frame)
        var count = 0
        for client in connected where client.guild?.id == guild {
            client.send(outbound)
            count += 1
        }
        return count
    }

    /// Sends a live-log message to every client subscribed to its type that may see it; answers how many.
    func deliver(_ stored: LiveLogStore.Stored) -> Int {
        let outbound = OutboundFrame(stored.message)
        var count = 0
        for client in connected {
            guard client.state.withLock({ $0.messageTypes.contains(stored.type) }),
                client.reader.sees(
                    type: stored.type, authorID: stored.authorID, recipientID: stored.recipientID, guildID: stored.guildID,
                    audience: stored.audience)
            else { continue }
            client.send(outbound)
            count += 1
        }
        return count
    }

    // MARK: Frames

    /// Handles one frame from `client`: rate limits, then the named action; answers go to the client's queue.
    func handle(_ frame: JSONValue, from client: GatewayClient) async {
        traffic.framesIn.add(1, ordering: .relaxed)
        let now = ContinuousClock.now
        let command = isCommand(frame, client.guild)
        let (messages, resetIn, commands) = client.state.withLock { state in
            state.lastSeen = now
            let counted = state.messages.count(at: now, window: limits.window)
            let commands = command ? state.commands.count(at: now, window: limits.window).count : 0
            return (counted.count, counted.resetIn, commands)
        }
        if messages > limits.messagesPerMinute || commands > limits.commandsPerMinute {
            let limit = messages > limits.messagesPerMinute ? limits.messagesPerMinute : limits.commandsPerMinute
            client.send(
                Self.error(
                    GatewayCode.rateLimited, "Rate limit exceeded",
                    ["limit": .int(Int64(limit)), "window_seconds": .int(limits.window.components.seconds),
                     "reset_in_seconds": .int(max(1, resetIn.components.seconds))]))
            return
        }
        if messages == limits.messagesPerMinute * 95 / 100 {
            client.send([
                "action": "rate_limit", "current_requests": .int(Int64(messages)), "limit": .int(Int64(limits.messagesPerMinute)),
                "window_seconds": .int(limits.window.components.seconds), "reset_in_seconds": .int(max(1, resetIn.components.seconds)),
            ])
        }
        guard case .object = frame, let name = frame["action"]?.stringValue else {
            client.send(Self.error(GatewayCode.protocolError, "Protocol Error", ["field": "action", "issue": "Missing action"]))
            return
        }
        do {
            let reply = try await entry.run(caller: client.identity, guild: client.guild) {
                guard let action = actions.withLock({ $0[name] }) else {
                    throw APIError(
                        .badRequest, "unknown_action", "Protocol Error",
                        details: ["field": "action", "issue": .string("Unknown action '\(name)'")])
                }
                return CogEntry.Target(cog: action.owner, access: action.access, door: action.door) {
                    try await action.handler(client, frame)
                }
            }
            if let reply { client.send(reply) }
        } catch {
            client.send(Self.error(for: error, action: name))
        }
    }

    /// `{"action": "error", "error_code", "error_message", "details"}`.
    static func error(_ code: UInt16, _ message: String, _ details: [String: JSONValue] = [:]) -> JSONValue {
        ["action": "error", "error_code": .int(Int64(code)), "error_message": .string(message), "details": .object(details)]
    }

    static func error(for error: APIError, action: String) -> JSONValue {
        let code: UInt16 =
            switch error.status.code {
            case 401, 403: GatewayCode.policyViolation
            case 429: GatewayCode.rateLimited
            case 500...: GatewayCode.serverError
            default: GatewayCode.protocolError
            }
        var details = error.details
        details["error"] = .string(error.code)
        details["action"] = .string(action)
        return Self.error(code, error.message, details)
    }
}

/// Gateway frames counted since start.
final class GatewayTraffic: Sendable {
    let framesIn = Atomic<Int>(0)
    let framesOut = Atomic<Int>(0)
}
