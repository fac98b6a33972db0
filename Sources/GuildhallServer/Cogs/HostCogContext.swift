import Foundation
import Hummingbird
import Logging
import PluginAPI

/// The services every cog port is built over; one per host. A class: every port and context holds it, and reading
/// one service must not copy (and retain) them all.
final class CogServices: Sendable {
    let database: any PluginAPI.Database
    let cache: LRUCache
    let bus: EventBus
    let config: ConfigStore
    let overlays: GuildConfigOverlays
    /// How a request to a cog's route is let in.
    let admission: RequestAdmission
    var tenants: TenantPolicy { admission.tenants }
    let hub: GatewayHub
    let liveLog: LiveLogService
    /// External cogs' key-value stores.
    let keyValues: CogKeyValueStore
    /// Each cog's recent log records.
    let logs: CogLogs
    let people: any PeopleDirectory
    let mail: any MailSender
    let notifier: any Notifier
    /// Makes a cog's outbound client (sharing the host's HTTP client and upstream circuits) for its cache and logger.
    let outbound: @Sendable (_ cache: any Cache, _ logger: Logger) -> any OutboundClient
    /// The folder beside the database; each cog gets `cogs/<id>/` in it.
    let dataDirectory: URL
    let logger: Logger

    init(
        database: any PluginAPI.Database, cache: LRUCache, bus: EventBus, config: ConfigStore, overlays: GuildConfigOverlays,
        admission: RequestAdmission, hub: GatewayHub, liveLog: LiveLogService, keyValues: CogKeyValueStore, logs: CogLogs,
        people: any PeopleDirectory, mail: any MailSender, notifier: any Notifier,
        outbound: @escaping @Sendable (_ cache: any Cache, _ logger: Logger) -> any OutboundClient, dataDirectory: URL,
        logger: Logger
    ) {
        self.database = database
        self.cache = cache
        self.bus = bus
        self.config = config
        self.overlays = overlays
        self.admission = admission
        self.hub = hub
        self.liveLog = liveLog
        self.keyValues = keyValues
        self.logs = logs
        self.people = people
        self.mail = mail
        self.notifier = notifier
        self.outbound = outbound
        self.dataDirectory = dataDirectory
        self.logger = logger
    }
}

/// The context one cog instance is set up with: a thin adapter of the contract's `CogContext` over the instance's
/// ``CogPort``. What the cog registers is recorded (checked by ``RegistrationRules``), not applied: the plugin
/// manager makes it live as a unit once setup has returned.
struct HostCogContext<Configuration: CogConfiguration>: CogContext {
    let manifest: CogManifest
    let port: CogPort
    let registrations: CogRegistrations
    /// The instance's task scope: its spawned work runs here, drained and cancelled at unload.
    let scope: TaskScope
    /// The instance's door: all work in the instance passes it.
    let door: CogDoor
    let stats: CogStats

    var cogID: String { manifest.id }
    var logger: Logger { port.logger }
    private var services: CogServices { port.services }
    var database: any PluginAPI.Database { services.database }
    var cache: any Cache { port.cache }
    var events: any EventPublisher { CogEventPublisher(port: port) }
    var liveLog: any LiveLogPublisher { CogLiveLog(port: port) }
    var people: any PeopleDirectory { port.people }
    var mail: any MailSender { port.mail }
    var notifications: any Notifier { port.notifications }
    var outbound: any OutboundClient { port.outbound }
    var dataDirectory: URL { port.dataDirectory }

    func add(_ route: RouteDeclaration) {
        let path = CogHTTP.routerPath(route.path)
        let info = RouteInfo(method: route.method.rawValue, path: path, access: route.access.label, summary: route.summary, cog: manifest.id)
        let admission = services.admission, door = self.door, cog = manifest.id, names = route.parameterNames
        let prefixes = manifest.routePrefixes
        record { contents in
            if let problem = RegistrationRules.route(route, prefixes: prefixes, registered: contents.routes.map(\.declaration)) {
                return contents.problems.append(problem)
            }
            contents.routes.append(
                .init(info: info, declaration: route) { request, context in
                    try await admission.serve(request, context: context, access: route.access, cog: cog) { request, context in
                        let call = CogHTTP.request(from: request, context: context, parameterNames: names)
                        return CogHTTP.response(try await route.handle(call), door: door)
                    }
                })
        }
    }

    func listen(_ pattern: EventPattern, priority: Int, handler: @escaping @Sendable (Event) async throws -> Void) {
        record { $0.listeners.append(.init(pattern: pattern, priority: priority, handler: handler)) }
    }

    func schedule(_ name: String, every interval: Duration, body: @escaping @Sendable () async throws -> Void) {
        record { contents in
            if let problem = RegistrationRules.task(name, every: interval) { return contents.problems.append(problem) }
            contents.tasks.append(.init(name: name, interval: interval, body: body))
        }
    }

    func schedule(
        _ name: String, every interval: Duration, forEachGuild body: @escaping @Sendable (GuildScope) async throws -> Void
    ) {
        let port = self.port, logger = self.logger
        schedule(name, every: interval) {
            var failed: [Int64] = []
            for guild in try await port.activeGuilds() {
                do {
                    try await body(guild)
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    failed.append(guild.id)
                    logger.error("scheduled task failed for a guild", metadata: ["task": "\(name)", "guild": "\(guild.id)", "error": "\(error)"])
                }
            }
            if !failed.isEmpty { throw GuildRunsFailed(guilds: failed) }
        }
    }

    func spawn(_ name: String, _ work: @escaping @Sendable () async throws -> Void) -> Bool {
        let logger = self.logger, stats = self.stats, door = self.door
        guard door.isOpen else { return false }
        return scope.launch {
            do {
                try await door.enter { try await work() }
            } catch is CancellationError, is CogUnavailable {
            } catch {
                stats.recordTaskFailure()
                logger.error("background work failed", metadata: ["work": "\(name)", "error": "\(error)"])
            }
        }
    }

    func command(_ command: BotCommand) {
        record { contents in
            if let problem = RegistrationRules.command(command.name, registered: contents.commands.map(\.name)) {
                return contents.problems.append(problem)
            }
            contents.commands.append(command)
        }
    }

    func action(_ name: String, access: Access, handler: @escaping @Sendable (GatewayCall) async throws -> JSONValue?) {
        let hub = services.hub
        record { contents in
            if let problem = RegistrationRules.action(name, registered: contents.actions.keys) { return contents.problems.append(problem) }
            contents.actions[name] = GatewayHub.Action(owner: manifest.id, access: access, door: door) { client, frame in
                try await handler(
                    GatewayCall(
                        caller: client.identity, body: frame, connectionID: client.id, guild: client.guild,
                        join: { try await hub.join(client, topic: $0) }, leave: { hub.leave(client, topic: $0) },
                        send: { client.send($0) }))
            }
        }
    }

    func topic(_ prefix: String, rule: @escaping TopicRule) {
        record { contents in
            if let problem = RegistrationRules.topic(prefix) { return contents.problems.append(problem) }
            contents.topics[prefix] = GatewayHub.Topic(owner: manifest.id, rule: rule)
        }
    }

    func publish(topic: String, _ frame: JSONValue) -> Int {
        delivered { try port.publish(topic: topic, frame) }
    }

    func broadcast(toGuild guild: Int64, _ frame: JSONValue) -> Int {
        delivered { try port.broadcast(toGuild: guild, frame) }
    }

    /// How many clients a publication reached; a refused one (not the cog's topic, no action) is logged and reaches none.
    private func delivered(_ publish: () throws -> Int) -> Int {
        do {
            return try publish()
        } catch {
            logger.warning("gateway frame not sent", metadata: ["error": "\(error)"])
            return 0
        }
    }

    func config() throws -> Configuration {
        try port.config(as: Configuration.self)
    }

    func config(for guild: GuildScope) throws -> Configuration {
        try ConfigSection.decode(Configuration.self, from: port.configValue(for: guild.id))
    }

    func updateConfig(_ changes: JSONValue, by caller: Identity) async throws -> Configuration {
        try await port.updateConfig(changes, by: caller.username)
        return try config()
    }

    func resetConfig(by caller: Identity) async throws -> Configuration {
        try await port.resetConfig(by: caller.username)
        return try config()
    }

    func now() -> Date { Date() }

    func validateConfig(_ check: @escaping @Sendable (Configuration) throws -> Void) {
        record { contents in
            if let problem = RegistrationRules.configHandler("validateConfig", section: manifest.configSection) {
                return contents.problems.append(problem)
            }
            contents.configHandlers.validators.append { value in try check(ConfigSection.decode(Configuration.self, from: value)) }
        }
    }

    /// Registers a handler told of each runtime change with the section's whole value (external cogs, whose settings
    /// the host holds as JSON).
    func onConfigValueApplied(_ handler: @escaping @Sendable (JSONValue) async -> Void) {
        record { contents in contents.configHandlers.appliers.append(handler) }
    }

    func onConfigApplied(_ handler: @escaping @Sendable (Configuration) async -> Void) {
        record { contents in
            if let problem = RegistrationRules.configHandler("onConfigApplied", section: manifest.configSection) {
                return contents.problems.append(problem)
            }
            contents.configHandlers.appliers.append { value in
                guard let config = try? ConfigSection.decode(Configuration.self, from: value) else { return }
                await handler(config)
            }
        }
    }

    func figures(_ read: @escaping @Sendable () async throws -> [String: JSONValue]) {
        record { contents in contents.figures.append(read) }
    }

    func guildData(
        exporting: @escaping @Sendable (GuildScope) async throws -> JSONValue,
        importing: @escaping @Sendable (GuildScope, JSONValue) async throws -> Void
    ) {
        let door = self.door
        record { contents in
            contents.guildData = GuildDataHandlers(
                export: { guild in try await door.enter { try await exporting(guild) } },
                import: { guild, data in try await door.enter { try await importing(guild, data) } })
        }
    }

    func chargeEvents(_ count: Int, in guild: GuildScope, by caller: Identity?) async throws {
        try await port.chargeEvents(count, in: guild, by: caller)
    }

    private func record(_ change: (inout CogRegistrations.Contents) -> Void) {
        if !registrations.record(change) {
            logger.warning("registration after setup ignored: register routes, listeners, tasks and commands in setup")
        }
    }
}

/// Some guilds' runs of a per-guild task failed (each is logged); counted as one failure of the task.
struct GuildRunsFailed: Error, CustomStringConvertible {
    let guilds: [Int64]
    var description: String { "failed for guilds \(guilds.map(String.init).joined(separator: ", "))" }
}

/// Publishes on the bus in a cog's name, through its port.
struct CogEventPublisher: EventPublisher {
    let port: CogPort

    /// Publishes the payload with the contract's snake_case keys; a refused or unencodable event is logged.
    func publish(_ name: String, payload: some Encodable & Sendable, guild: Int64?, correlationID: String?) {
        do {
            try port.publish(event: name, payload: try JSONValue(encoding: payload), guild: guild, correlationID: correlationID)
        } catch {
            port.logger.error("event not published", metadata: ["event": "\(name)", "error": "\(error)"])
        }
    }
}

/// Posts into the live log in a cog's name, through its port.
struct CogLiveLog: LiveLogPublisher {
    let port: CogPort
    func post(_ message: JSONValue) async throws -> JSONValue { try await port.postToLiveLog(message) }
}
