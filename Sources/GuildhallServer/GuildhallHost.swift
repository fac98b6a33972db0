import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import PluginAPI
import ServiceLifecycle

/// One Guildhall deployment: storage, auth, config, the event bus and the plugin manager, and the HTTP
/// application that serves them. The executable builds one from config.yaml and the built-in cogs; tests build
/// one from a temporary folder and test cogs.
public final class GuildhallHost: Service, Sendable {
    /// The version reported by the health check and `guildhall --version`.
    public static let version = "1.0.0"

    public let config: HostConfig
    public let database: SQLiteDatabase
    public let bus: EventBus
    public let configStore: ConfigStore
    public let users: UserStore
    public let tokens: TokenService
    public let plugins: PluginManager
    public let commands: CommandRegistry
    public let cache: LRUCache
    public let guilds: GuildStore
    public let apiKeys: APIKeyStore
    let switches: GuildCogSwitches
    let overlays: GuildConfigOverlays
    let authenticator: Authenticator
    let tenants: TenantPolicy
    /// How a request to any route is let in.
    let admission: RequestAdmission
    let hub: GatewayHub
    let liveLog: LiveLogService
    let dispatcher: CommandDispatcher
    /// Opens when the cogs have loaded at start.
    let readiness = Readiness()
    /// The host's one client for calls out (upstreams, push, Discord sign-in, external cogs' sockets); shut down last.
    let httpClient: HTTPClient
    let logger: Logger
    /// Recent log records of the host and each cog, for `GET /api/logs` and `GET /api/cogs/{name}/logs`.
    let logs: CogLogs
    /// What analytics records, buffered and written off the request path.
    let analytics: AnalyticsRecorder
    let notifier: HostNotifier
    /// Upstream circuits of every cog's outbound calls.
    let outboundBreakers: CircuitBreakers
    /// External cogs' processes, sockets and callbacks.
    let external: ExternalRuntime
    let startedAt = ContinuousClock.now
    /// The key tokens (and Discord sign-in states) are signed with.
    let signingSecret: String

    /// Opens the database (creating it), applies the host's migrations, creates the users the environment asks
    /// for and prepares (but does not load) the cogs of `catalogue`.
    public init(config: HostConfig, catalogue: [any Cog.Type], logger: Logger) async throws {
        let builtIn = try Catalogue(catalogue)
        self.config = config
        var file: LogFile?
        if !config.logging.file.isEmpty {
            file = LogFile(path: config.logging.file, maxBytes: config.logging.maxBytes)
            if file == nil { throw ConfigFileError(file: config.source, problems: ["key 'logging.file': \(config.logging.file) cannot be opened for writing"]) }
        }
        logs = CogLogs(file: file)
        let logger = logs.hostLogger(base: logger)
        self.logger = logger
        database = try SQLiteDatabase(path: config.database.path)
        try await Migrator(database: database).apply(HostMigrations.all, owner: "host")
        cache = LRUCache(capacity: config.cache.capacity)
        guilds = GuildStore(database: database, cache: cache)
        apiKeys = APIKeyStore(database: database, cache: cache)
        let switches = try await GuildCogSwitches(database: database)
        self.switches = switches
        let cogIsOff: @Sendable (String, Int64) -> Bool = { switches.isOff($0, for: $1) }
        bus = EventBus(logger: logger, isOff: cogIsOff)
        let pluginsDirectory = Self.pluginsDirectory(config)
        let (externalCogs, externalProblems) = ExternalRuntime.discover(in: pluginsDirectory)
        for problem in externalProblems { logger.error("external cog left out", metadata: ["problem": "\(problem)"]) }
        let sections = HostSections.all + builtIn.cogs.values.compactMap { $0.configSection }
            + externalCogs.filter { builtIn.cogs[$0.cog.id] == nil }.compactMap(\.configSection)
        configStore = try await ConfigStore(sections: sections, file: config, database: database, logger: logger)
        overlays = try await GuildConfigOverlays(database: database, store: configStore)
        users = UserStore(database: database, bcryptCost: UInt8(config.auth.bcryptCost))
        let secret = try Self.signingSecret(config: config, logger: logger)
        signingSecret = secret
        tokens = await TokenService(secret: secret, lifetime: .seconds(config.auth.tokenTTLHours * 3600))
        authenticator = Authenticator(
            tokens: tokens, users: users, cache: cache, guilds: guilds, keys: apiKeys,
            revocations: try await TokenRevocations(database: database))
        let tenants = TenantPolicy(guilds: guilds, keys: apiKeys, switches: switches, limits: TenantLimits(defaults: config.tenancy))
        self.tenants = tenants
        let entry = CogEntry(tenants: tenants, logger: logger)
        admission = RequestAdmission(authenticator: authenticator, tenants: tenants, entry: entry)
        commands = CommandRegistry()
        httpClient = Self.makeHTTPClient()
        outboundBreakers = CircuitBreakers(
            threshold: config.outbound.breakerFailures, cooldown: .seconds(config.outbound.breakerCooldownSeconds))
        analytics = AnalyticsRecorder(settings: config.analytics, database: database, logger: logger)
        notifier = HostNotifier(
            devices: PushDevices(database: database),
            sender: try await FCMSender.make(settings: config.push, http: httpClient),
            queueLimit: config.push.queueLimit, logger: logger)
        let community = CommunitySettings(config: configStore, overlays: overlays)
        hub = GatewayHub(
            limits: .init(
                messagesPerMinute: config.gateway.messagesPerMinute, commandsPerMinute: config.gateway.commandsPerMinute,
                connectionsPerAddress: config.gateway.maxConnectionsPerIP),
            logger: logger,
            isCommand: { frame, guild in
                guard frame["action"] == "send", let content = frame["content"]?.stringValue else { return false }
                return community.isCommand(content, in: guild)
            }, entry: entry)
        liveLog = LiveLogService(store: LiveLogStore(database: database), hub: hub, historyLimit: config.liveLog.maxQueryLimit)
        dispatcher = CommandDispatcher(registry: commands, settings: community, liveLog: liveLog, entry: entry, tenants: tenants)
        let http = httpClient, breakers = outboundBreakers, outboundSettings = config.outbound
        let services = CogServices(
            database: database, cache: cache, bus: bus, config: configStore, overlays: overlays, admission: admission, hub: hub,
            liveLog: liveLog, keyValues: CogKeyValueStore(database: database), logs: logs,
            people: HostPeopleDirectory(users: users, guilds: guilds), mail: SMTPMailer(settings: config.smtp), notifier: notifier,
            outbound: { cache, logger in
                HostOutboundClient(
                    http: http, cache: cache, breakers: breakers, settings: outboundSettings,
                    userAgent: { "Guildhall/\(GuildhallHost.version) (\(community.general(for: nil).botName))" }, logger: logger)
            },
            dataDirectory: URL(fileURLWithPath: config.database.path).deletingLastPathComponent(), logger: logger)
        external = try ExternalRuntime(
            settings: .init(
                healthInterval: .milliseconds(Int64(config.plugins.healthIntervalSeconds * 1000)),
                startTimeout: .milliseconds(Int64(config.plugins.startTimeoutSeconds * 1000)),
                isolation: CogIsolation(firstUID: UInt32(config.plugins.cogUserBase), allowUnisolated: config.plugins.allowUnisolatedCogs)),
            pluginsDirectory: pluginsDirectory, services: services, client: httpClient)
        if case .none(let reason) = external.settings.isolation.mode, !externalCogs.isEmpty {
            logger.warning(
                "external cogs run without isolation", metadata: ["reason": "\(reason)", "allowed": "\(config.plugins.allowUnisolatedCogs)"])
        }
        var catalogue = builtIn
        for manifest in externalCogs {
            do {
                guard builtIn.cogs[manifest.cog.id] == nil, !Catalogue.reservedSections.contains(manifest.cog.id) else {
                    throw ExternalSetupError(description: "the id '\(manifest.cog.id)' is taken by the host or a built-in cog")
                }
                catalogue = try catalogue.replacing(ExternalCog(definition: manifest, runtime: external))
            } catch {
                logger.error("external cog left out", metadata: ["cog": "\(manifest.cog.id)", "problem": "\(error)"])
            }
        }
        plugins = PluginManager(
            catalogue: catalogue, services: services, commands: commands,
            drainTimeout: .milliseconds(Int64(max(0, config.plugins.drainTimeoutSeconds) * 1000)))
        hub.setActions(liveLog.actions.merging(["send": dispatcher.sendAction]) { $1 }, owner: "host")
        let manager = plugins
        commands.replace(owner: "host", with: dispatcher.hostCommands(plugins: { manager.entries() }))
        bus.add([Self.cogStateReporter(bus: bus, liveLog: liveLog), analytics.conversationListener(bus: bus)])
        for user in config.bootstrapUsers {
            try await users.upsert(username: user.username, password: user.password, role: user.role)
        }
        if config.bootstrapUsers.isEmpty,
            try await database.read({ try $0.scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'") }) == 0
        {
            logger.warning("no admin user: set API_ADMIN_PASS (and API_ADMIN_USER) or run `guildhall user add NAME --role admin`")
        }
    }

    /// Posts `content` as a chat message from `identity` and runs it if it is a command; answers the reply, or
    /// nil for a plain message. Used by `guildhall chat --embedded`.
    public func chat(_ content: String, as identity: Identity) async throws -> String? {
        let guild = try await tenants.guild(of: .init(identity: identity), explicit: nil, required: false)
        return try await dispatcher.chat(content, channel: nil, caller: identity, guild: guild, correlationID: UUID().uuidString)
            .outcome?.reply
    }

    /// Moves one guild's data between deployments.
    var guildTransfer: GuildTransfer {
        GuildTransfer(guilds: guilds, users: users, database: database, switches: switches, overlays: overlays, plugins: plugins)
    }

    /// Guild `id`'s data as an export file's JSON (see ``GuildTransfer``).
    public func exportGuild(_ id: Int64) async throws -> JSONValue { try await guildTransfer.export(id) }

    /// Creates the exported guild in this deployment; answers what was imported and what was left out.
    public func importGuild(_ document: JSONValue, by actor: String) async throws -> JSONValue {
        try await guildTransfer.import(document, by: actor)
    }

    /// Reports cog state changes into the live log as system messages for admins.
    static func cogStateReporter(bus: EventBus, liveLog: LiveLogService) -> EventBus.Listener {
        EventBus.Listener(
            id: bus.makeListenerID(), owner: "host", pattern: "cog.*", priority: 0, scope: nil,
            handler: { event in
                guard case .object(let data) = event.payload else { return }
                await liveLog.system(
                    event.name, data: data, severity: event.name == "cog.failed" ? "error" : "info", audience: "admins")
            }, onFailure: { _ in })
    }
}
