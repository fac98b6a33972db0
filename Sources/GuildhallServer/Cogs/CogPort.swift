import Foundation
import Logging
import PluginAPI

/// Every capability one cog has, written once. A built-in cog's ``HostCogContext`` and an external cog's callback
/// API (``CogHostAPI``) are thin adapters over it: a new capability is a method here, a member of `CogContext` and a
/// route of the callback protocol — nothing else.
///
/// The port acts in the cog's name only: its events carry the cog as their source, it publishes only to topics the
/// cog owns, reads and changes only the cog's own config section and key-value store, and respects each guild's
/// switch for the cog. What an external cog may do is further limited to the permissions its manifest asks for;
/// built-in cogs hold them all.
struct CogPort: Sendable {
    let cog: String
    /// The cog's config section, if it has one.
    let configSection: String?
    let permissions: CogPermissions
    let services: CogServices
    /// The cog's own logger (its records land in its log ring).
    let logger: Logger

    // MARK: Events

    /// Publishes `name` on the bus with the cog as its source. `cog.*` names are the host's.
    func publish(event name: String, payload: JSONValue, guild: Int64?, correlationID: String?) throws {
        guard !name.isEmpty, !name.hasPrefix("cog.") else {
            throw APIError.badRequest("invalid_field", "An event needs a name, and cog.* names are the host's.")
        }
        guard permissions.allows(.publish, name) else { throw denied("events:publish:\(name)") }
        services.bus.publish(name, payload: payload, source: cog, guild: guild, correlationID: correlationID)
    }

    // MARK: Live log

    /// Posts a message into the live log (stored, then delivered to the clients subscribed to its type).
    func postToLiveLog(_ message: JSONValue) async throws -> JSONValue {
        guard permissions.liveLog else { throw denied("live_log:post") }
        return try await services.liveLog.post(message)
    }

    // MARK: Gateway

    /// Sends `frame` to the subscribers of one of the cog's own topics; answers how many received it.
    func publish(topic: String, _ frame: JSONValue) throws -> Int {
        guard permissions.gatewayPublish else { throw denied("gateway:publish") }
        guard services.hub.owner(ofTopic: topic)?.owner == cog else {
            throw APIError(.forbidden, "not_your_topic", "A cog publishes only to the topics it registered.")
        }
        try Self.requireAction(frame)
        return services.hub.publish(topic: topic, frame)
    }

    /// Sends `frame` to every client acting in `guild` (none while the guild has the cog switched off).
    func broadcast(toGuild guild: Int64, _ frame: JSONValue) throws -> Int {
        guard permissions.gatewayPublish else { throw denied("gateway:publish") }
        try Self.requireAction(frame)
        return services.tenants.isOff(cog, in: guild) ? 0 : services.hub.broadcast(toGuild: guild, frame)
    }

    private static func requireAction(_ frame: JSONValue) throws {
        guard frame["action"]?.stringValue != nil else { throw APIError.badRequest("invalid_field", "A frame needs an action.") }
    }

    // MARK: Config

    /// The cog's settings as its configuration type, decoded once per change (the store keeps the decoding: routes
    /// read their settings on every request); the type's defaults without a section.
    func config<Configuration: CogConfiguration>(as type: Configuration.Type) throws -> Configuration {
        guard let section = configSection else { return Configuration() }
        return try services.config.decode(section, as: Configuration.self)
    }

    /// The cog's settings, with `guild`'s overlay laid over them when a guild is named; `{}` without a section.
    func configValue(for guild: Int64?) throws -> JSONValue {
        guard let section = configSection else { return .object([:]) }
        if let guild { return try services.overlays.effective(section, for: guild) }
        return services.config.value(of: section) ?? .object([:])
    }

    /// Lays `changes` over the cog's settings (checked, stored, applied) and announces `config.changed`.
    func updateConfig(_ changes: JSONValue, by actor: String) async throws {
        let section = try requireSection()
        announce(try await services.config.update(section, value: changes, by: actor), of: section)
    }

    /// Puts the cog's settings back to config.yaml's and announces `config.changed`.
    func resetConfig(by actor: String) async throws {
        let section = try requireSection()
        announce(try await services.config.reset(section, by: actor), of: section)
    }

    private func requireSection() throws -> String {
        guard let section = configSection else {
            throw APIError(.internalServerError, "no_config_section", "\(cog) has no config section.")
        }
        return section
    }

    private func announce(_ version: ConfigStore.Version, of section: String) {
        services.bus.announceConfigChange(version, of: section, source: cog, correlationID: nil)
    }

    // MARK: Key-value store

    /// The cog's own key-value store in `guild` (0: the deployment's).
    func keyValues(in guild: Int64) throws -> CogKeyValues {
        guard permissions.keyValue else { throw denied("kv") }
        return CogKeyValues(store: services.keyValues, cog: cog, guild: guild)
    }

    // MARK: People, mail, notifications, calls out, storage

    /// `userID` as they act in guild `guildID`, or nil if they do not (not a member, deactivated, unknown).
    func person(_ userID: Int64, inGuild guildID: Int64) async throws -> Identity? {
        guard permissions.readPeople else { throw denied("people:read") }
        guard let guild = try await services.people.guild(guildID) else { return nil }
        return try await services.people.person(userID, in: guild)
    }

    var people: any PeopleDirectory { services.people }
    var mail: any MailSender { services.mail }
    var notifications: any Notifier { services.notifier }

    /// The cog's namespace of the host's cache (dropped when the cog unloads).
    var cache: any Cache { NamespacedCache(base: services.cache, namespace: "cog:\(cog):") }

    /// Calls to upstreams over the host's one client, with the cog's cache and logger.
    var outbound: any OutboundClient { services.outbound(cache, logger) }

    /// `cogs/<id>/` beside the database, created on first use.
    var dataDirectory: URL {
        let folder = services.dataDirectory.appendingPathComponent("cogs").appendingPathComponent(cog)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    // MARK: Tenancy

    /// Charges `count` events to `guild` and the caller's key; 429 past either budget.
    func chargeEvents(_ count: Int, in guild: GuildScope, by caller: Identity?) async throws {
        try await services.tenants.chargeEvents(count, in: guild, by: caller)
    }

    /// The active guilds that have the cog switched on.
    func activeGuilds() async throws -> [GuildScope] {
        try await services.tenants.activeGuilds(for: cog)
    }

    // MARK: Refusals

    /// 403 `permission_denied` for a capability the manifest does not ask for; noted in the cog's log ring, where
    /// its author looks.
    private func denied(_ permission: String) -> APIError {
        services.logs.append(cog, level: .warning, "refused: the manifest does not ask for \(permission)")
        return APIError(
            .forbidden, "permission_denied", "The cog's manifest does not ask for the permission \(permission).",
            details: ["permission": .string(permission)])
    }
}

/// One cog's key-value store in one guild.
struct CogKeyValues: Sendable {
    let store: CogKeyValueStore
    let cog: String
    let guild: Int64

    func get(_ key: String) async throws -> CogKeyValueStore.Item? { try await store.get(cog: cog, guild: guild, key: key) }

    func list(prefix: String, limit: Int) async throws -> [CogKeyValueStore.Item] {
        try await store.list(cog: cog, guild: guild, prefix: prefix, limit: limit)
    }

    func put(_ key: String, _ value: JSONValue, ifVersion: Int64?, ttl: Double?) async throws -> CogKeyValueStore.Item {
        try await store.put(cog: cog, guild: guild, key: key, value: value, expectedVersion: ifVersion, ttl: ttl)
    }

    func delete(_ key: String, ifVersion: Int64?) async throws -> Bool {
        try await store.delete(cog: cog, guild: guild, key: key, expectedVersion: ifVersion)
    }
}
