import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import PluginAPI

/// The services every cog context hands out; one per host.
struct CogServices: Sendable {
    let database: any PluginAPI.Database
    let cache: LRUCache
    let httpClient: HTTPClient
    let bus: EventBus
    let config: ConfigStore
    let gate: AccessGate
    let hub: GatewayHub
    let liveLog: LiveLogService
    let overlays: GuildConfigOverlays
    /// Each cog's recent log records.
    let logs: CogLogs
    let people: any PeopleDirectory
    let mail: any MailSender
    let notifier: any Notifier
    /// Upstream circuits, shared by every cog calling the same upstream.
    let breakers: CircuitBreakers
    let outboundSettings: OutboundSettings
    /// `Guildhall/<version> (<bot name>)`, read at each call so a renamed bot is named at once.
    let userAgent: @Sendable () -> String
    /// The folder beside the database; each cog gets `cogs/<id>/` in it.
    let dataDirectory: URL
    let logger: Logger
}

/// The context one cog instance is set up with: it records registrations instead of applying them.
struct HostCogContext<Configuration: CogConfiguration>: CogContext {
    let manifest: CogManifest
    let services: CogServices
    let registrations: CogRegistrations
    /// The instance's task scope: its spawned work runs here, drained and cancelled at unload.
    let scope: TaskScope
    /// The instance's door: every handler registered here runs through it.
    let gate: CogGate
    let stats: CogStats
    /// The cog's logger, which also feeds its log ring; built once per instance.
    let logger: Logger

    var cogID: String { manifest.id }
    var database: any PluginAPI.Database { services.database }
    var cache: any Cache { NamespacedCache(base: services.cache, namespace: "cog:\(manifest.id):") }
    var httpClient: HTTPClient { services.httpClient }
    var events: any EventPublisher { CogEventPublisher(bus: services.bus, source: manifest.id, logger: logger) }
    var liveLog: any LiveLogPublisher { services.liveLog }
    var people: any PeopleDirectory { services.people }
    var mail: any MailSender { services.mail }
    var notifications: any Notifier { services.notifier }
    var outbound: any OutboundClient {
        HostOutboundClient(
            http: HostOutboundClient.sharedHTTPClient, cache: cache, breakers: services.breakers, settings: services.outboundSettings,
            userAgent: services.userAgent, logger: logger)
    }
    var dataDirectory: URL {
        let folder = services.dataDirectory.appendingPathComponent("cogs").appendingPathComponent(manifest.id)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    func add(_ route: RouteDeclaration) {
        let path = CogHTTP.routerPath(route.path)
        let info = RouteInfo(method: route.method.rawValue, path: path, access: route.access.label, summary: route.summary, cog: manifest.id)
        let access = services.gate, door = gate, cog = manifest.id, names = route.parameterNames
        record { contents in
            guard manifest.routePrefixes.contains(where: { PathPrefix.path(path, isUnder: $0) }) else {
                contents.problems.append(
                    "route \(route.method) \(route.path) lies outside the declared prefixes \(manifest.routePrefixes)")
                return
            }
            guard !contents.routes.contains(where: { $0.info.method == info.method && $0.info.path == path }) else {
                contents.problems.append("route \(route.method) \(route.path) is registered twice")
                return
            }
            contents.routes.append(
                .init(info: info, declaration: route) { request, context in
                    try await access.serve(request, context: context, access: route.access, cog: cog) { request, context in
                        let call = CogHTTP.request(from: request, context: context, parameterNames: names)
                        return CogHTTP.response(try await door.run { try await route.handle(call) }, gate: door)
                    }
                })
        }
    }

    func listen(_ pattern: EventPattern, priority: Int, handler: @escaping @Sendable (Event) async throws -> Void) {
        record { $0.listeners.append(.init(pattern: pattern, priority: priority, handler: handler)) }
    }

    func schedule(_ name: String, every interval: Duration, body: @escaping @Sendable () async throws -> Void) {
        record { contents in
            guard interval > .zero else {
                contents.problems.append("task \(name) needs an interval above zero")
                return
            }
            contents.tasks.append(.init(name: name, interval: interval, body: body))
        }
    }

    func schedule(
        _ name: String, every interval: Duration, forEachGuild body: @escaping @Sendable (GuildScope) async throws -> Void
    ) {
        let guilds = services.gate.guilds, switches = services.gate.switches, cog = manifest.id, logger = self.logger
        schedule(name, every: interval) {
            var failed: [Int64] = []
            for guild in try await guilds.all() where guild.isActive && !switches.isOff(cog, for: guild.id) {
                do {
                    try await body(GuildScope(id: guild.id, name: guild.name))
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
        let logger = self.logger, stats = self.stats, gate = self.gate
        guard gate.isOpen else { return false }
        return scope.launch {
            do {
                try await gate.enter { try await work() }
            } catch is CancellationError, is CogUnavailable {
            } catch {
                stats.recordTaskFailure()
                logger.error("background work failed", metadata: ["work": "\(name)", "error": "\(error)"])
            }
        }
    }

    func command(_ command: BotCommand) {
        record { contents in
            guard !contents.commands.contains(where: { $0.name.lowercased() == command.name.lowercased() }) else {
                contents.problems.append("command \(command.name) is registered twice")
                return
            }
            var gated = command
            let door = gate
            gated.handler = { invocation in try await door.run { try await command.handler(invocation) } }
            contents.commands.append(gated)
        }
    }

    func action(_ name: String, access: Access, handler: @escaping @Sendable (GatewayCall) async throws -> JSONValue?) {
        let hub = services.hub, door = gate
        record { contents in
            guard contents.actions[name] == nil else {
                contents.problems.append("action \(name) is registered twice")
                return
            }
            contents.actions[name] = GatewayHub.Action(owner: manifest.id, access: access) { client, frame in
                let call = GatewayCall(
                    caller: client.identity, body: frame, connectionID: client.id, guild: client.guild,
                    join: { try await hub.join(client, topic: $0) }, leave: { hub.leave(client, topic: $0) },
                    send: { client.send($0) })
                return try await door.run { try await handler(call) }
            }
        }
    }

    func topic(_ prefix: String, rule: @escaping TopicRule) {
        record { contents in
            guard !prefix.isEmpty, !prefix.contains(":") else {
                contents.problems.append("topic prefix '\(prefix)' must be a non-empty name without ':'")
                return
            }
            contents.topics[prefix] = GatewayHub.Topic(owner: manifest.id, rule: rule)
        }
    }

    func publish(topic: String, _ frame: JSONValue) -> Int {
        guard services.hub.owner(ofTopic: topic)?.owner == manifest.id else {
            logger.warning("publish to a topic the cog does not own ignored", metadata: ["topic": "\(topic)"])
            return 0
        }
        return services.hub.publish(topic: topic, frame)
    }

    func broadcast(toGuild guild: Int64, _ frame: JSONValue) -> Int {
        guard !services.gate.switches.isOff(manifest.id, for: guild) else { return 0 }
        return services.hub.broadcast(toGuild: guild, frame)
    }

    func config() throws -> Configuration {
        guard let section = manifest.configSection else { return Configuration() }
        return try services.config.decode(section, as: Configuration.self)
    }

    func config(for guild: GuildScope) throws -> Configuration {
        guard let section = manifest.configSection else { return Configuration() }
        return try ConfigSection.decode(Configuration.self, from: services.overlays.effective(section, for: guild.id))
    }

    func updateConfig(_ changes: JSONValue, by caller: Identity) async throws -> Configuration {
        try await changedConfig(by: caller) { section in try await services.config.update(section, value: changes, by: caller.username) }
    }

    func resetConfig(by caller: Identity) async throws -> Configuration {
        try await changedConfig(by: caller) { section in try await services.config.reset(section, by: caller.username) }
    }

    /// Runs `change` on the cog's section, tells the bus (`config.changed`, as the config API does) and answers
    /// the settings now in force.
    private func changedConfig(
        by caller: Identity, _ change: (String) async throws -> ConfigStore.Version
    ) async throws -> Configuration {
        guard let section = manifest.configSection else {
            throw APIError(.internalServerError, "no_config_section", "\(manifest.id) has no config section.")
        }
        let version = try await change(section)
        services.bus.publish(
            "config.changed", payload: ["section": .string(section), "version": .int(Int64(version.version)), "changed_by": .string(caller.username)] as JSONValue,
            source: manifest.id, correlationID: nil)
        return try config()
    }

    func now() -> Date { Date() }

    func validateConfig(_ check: @escaping @Sendable (Configuration) throws -> Void) {
        record { contents in
            guard manifest.configSection != nil else {
                contents.problems.append("validateConfig needs a config section in the manifest")
                return
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
            guard manifest.configSection != nil else {
                contents.problems.append("onConfigApplied needs a config section in the manifest")
                return
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
        let gate = self.gate
        record { contents in
            contents.guildData = GuildDataHandlers(
                export: { guild in try await gate.enter { try await exporting(guild) } },
                import: { guild, data in try await gate.enter { try await importing(guild, data) } })
        }
    }

    func chargeEvents(_ count: Int, in guild: GuildScope, by caller: Identity?) async throws {
        let gate = services.gate
        guard let record = try await gate.guilds.cached(guild.id) else {
            throw APIError.notFound("guild_not_found", "There is no guild \(guild.id).")
        }
        var key: APIKey?
        if let grant = caller?.apiKey { key = try await gate.keys.find(id: grant.id) }
        try gate.limits.charge(events: count, key: key, in: record)
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

/// Publishes on the bus in a cog's name.
struct CogEventPublisher: EventPublisher {
    let bus: EventBus
    let source: String
    let logger: Logger

    /// Publishes the payload with the contract's snake_case keys.
    func publish(_ name: String, payload: some Encodable & Sendable, guild: Int64?, correlationID: String?) {
        do {
            bus.publish(name, payload: try JSONValue(encoding: payload), source: source, guild: guild, correlationID: correlationID)
        } catch {
            logger.error("event payload does not encode", metadata: ["event": "\(name)", "error": "\(error)"])
        }
    }
}

enum PathPrefix {
    /// Whether `path` is `prefix` itself or lies below it, segment-wise (`/api/tickets/1`, not `/api/ticketsx`).
    /// A `*` segment of the prefix matches any one segment (`/api/v1/admin/guilds/*/activity`).
    ///
    /// Every request that reaches the host asks this of each cog prefix, so it compares UTF-8 bytes and allocates
    /// nothing (Foundation's `contains` and `split` here once cost an eighth of the server's CPU).
    static func path(_ path: some StringProtocol, isUnder prefix: String) -> Bool {
        let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*")
        let bytes = path.utf8, wanted = prefix.utf8
        var index = bytes.startIndex, want = wanted.startIndex
        var previous: UInt8 = 0
        while want != wanted.endIndex {
            let expected = wanted[want]
            if expected == star, previous == slash {
                // Any one non-empty segment.
                guard index != bytes.endIndex, bytes[index] != slash else { return false }
                while index != bytes.endIndex, bytes[index] != slash { bytes.formIndex(after: &index) }
            } else {
                guard index != bytes.endIndex, bytes[index] == expected else { return false }
                bytes.formIndex(after: &index)
            }
            previous = expected
            wanted.formIndex(after: &want)
        }
        return index == bytes.endIndex || previous == slash || bytes[index] == slash
    }
}
