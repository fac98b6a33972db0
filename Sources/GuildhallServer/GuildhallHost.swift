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
    /// The host's own background work: the gateway heartbeat and the live log's retention.
    private let tasks = TaskScope()
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
    private let signingSecret: String

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

    /// Loads the cogs the deployment wants and starts the host's background tasks. Call before serving.
    public func start() async throws {
        let keyValues = external.services.keyValues
        external.startCallbackServer(CogHostAPI(grants: external.callbacks, logger: logger))
        try await plugins.startUp(defaultEnabled: config.plugins.enabled)
        let hub = self.hub, liveLog = self.liveLog, logger = self.logger
        let heartbeat = Duration.seconds(config.gateway.heartbeatTimeoutSeconds)
        let retention = TimeInterval(config.liveLog.retentionDays * 86_400)
        tasks.launch {
            while (try? await Task.sleep(for: heartbeat / 4)) != nil {
                hub.closeSilent(longerThan: heartbeat)
            }
        }
        let analytics = self.analytics, notifier = self.notifier
        tasks.launch { await analytics.runFlushLoop() }
        tasks.launch { await notifier.run() }
        let analyticsStore = AnalyticsStore(database: database, settings: config.analytics)
        tasks.launch { [weak self] in
            repeat {
                guard let self else { return }
                await Self.analyticsHousekeeping(store: analyticsStore, figures: self.systemFigures(), logger: logger)
            } while (try? await Task.sleep(for: .seconds(3600))) != nil
        }
        tasks.launch {
            while (try? await Task.sleep(for: .seconds(3600))) != nil {
                do {
                    try await keyValues.purgeExpired()
                } catch {
                    logger.error("external cogs' expired keys not purged", metadata: ["error": "\(error)"])
                }
            }
        }
        tasks.launch {
            repeat {
                do {
                    let purged = try await liveLog.store.purge(olderThan: Date().addingTimeInterval(-retention))
                    if purged > 0 { logger.info("live log retention", metadata: ["purged": "\(purged)"]) }
                } catch {
                    logger.error("live log retention failed", metadata: ["error": "\(error)"])
                }
            } while (try? await Task.sleep(for: .seconds(3600))) != nil
        }
    }

    /// Posts `content` as a chat message from `identity` and runs it if it is a command; answers the reply, or
    /// nil for a plain message. Used by `guildhall chat --embedded`.
    public func chat(_ content: String, as identity: Identity) async throws -> String? {
        let guild = try await tenants.guild(of: .init(identity: identity), explicit: nil, required: false)
        return try await dispatcher.chat(content, channel: nil, caller: identity, guild: guild, correlationID: UUID().uuidString)
            .outcome?.reply
    }

    /// The hourly analytics job: folds yesterday and today into daily figures, ends idle sessions, deletes what is
    /// past retention and stores a system snapshot.
    static func analyticsHousekeeping(store: AnalyticsStore, figures: SystemFigures, logger: Logger) async {
        do {
            let today = Date()
            for day in [today.addingTimeInterval(-86_400), today] {
                try await store.aggregate(day: String(Timestamp.string(from: day).prefix(10)))
            }
            try await store.tidy()
            try await store.snapshot(figures)
        } catch {
            logger.error("analytics housekeeping failed", metadata: ["error": "\(error)"])
        }
    }

    /// The process's figures now: uptime, memory, connections, cogs and the bus's counts.
    func systemFigures() -> SystemFigures {
        SystemFigures(
            at: Date(), uptimeSeconds: (ContinuousClock.now - startedAt).components.seconds,
            residentBytes: Self.residentBytes(), gatewayConnections: Int64(hub.connected.count),
            cogsLoaded: Int64(plugins.loadedCount), eventsPublished: Int64(bus.totals.published.load(ordering: .relaxed)),
            eventsDelivered: Int64(bus.totals.delivered.load(ordering: .relaxed)),
            eventsFailed: Int64(bus.totals.failed.load(ordering: .relaxed)))
    }

    /// Resident memory from /proc (0 where there is none).
    static func residentBytes() -> Int64 {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int64($0) })
        else { return 0 }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
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

    /// The HTTP application: core routes, the admin APIs and every cog's routes.
    public func makeApplication(port: Int? = nil) -> some ApplicationProtocol {
        let core = CoreRouter(
            admission: admission, maxBodyBytes: config.server.maxBodyBytes, corsOrigins: config.server.corsOrigins,
            mounts: plugins.mounts, stats: plugins.stats, analytics: analytics)
        let perAddress = RateLimiter(limit: config.auth.loginAttemptsPerIP, window: .seconds(config.auth.loginWindowSeconds))
        let perUsername = RateLimiter(limit: config.auth.loginFailuresPerUser, window: .seconds(config.auth.loginWindowSeconds))
        SystemRoutes(plugins: plugins, coreRoutes: core.table).register(on: core)
        AuthRoutes(
            users: users, tokens: tokens, authenticator: authenticator, hub: hub, analytics: analytics, perAddress: perAddress, perUsername: perUsername,
            allowRegistration: config.auth.allowRegistration
        ).register(on: core)
        AnalyticsRoutes(store: AnalyticsStore(database: database, settings: config.analytics), recorder: analytics).register(on: core)
        AdminRoutes(
            plugins: plugins, database: database, bus: bus, hub: hub, liveLog: liveLog, notifier: notifier, recorder: analytics,
            figures: { [unowned self] in self.systemFigures() }
        ).register(on: core)
        NotificationRoutes(notifier: notifier).register(on: core)
        DiscordRoutes(
            discord: DiscordSignIn(settings: config.discord, secret: signingSecret, http: httpClient),
            users: users, authenticator: authenticator, hub: hub, tokens: tokens, analytics: analytics
        ).register(on: core)
        UserRoutes(users: users, authenticator: authenticator, hub: hub).register(on: core)
        LogRoutes(logs: logs).register(on: core)
        CogRoutes(plugins: plugins, database: database, external: external, maxInstallBytes: config.plugins.maxInstallBytes)
            .register(on: core)
        ConfigRoutes(store: configStore, bus: bus).register(on: core)
        LiveLogRoutes(liveLog: liveLog, dispatcher: dispatcher, hub: hub, guilds: guilds, tenants: tenants).register(on: core)
        GuildRoutes(guilds: guilds).register(on: core)
        TenancyRoutes(
            guilds: guilds, keys: apiKeys, switches: switches, overlays: overlays, config: configStore, plugins: plugins,
            settings: config.tenancy
        ).register(on: core)
        MetricsEndpoint.bootstrap()
        let counters = ScrapedCounters()
        MetricsEndpoint.register(on: core) { [unowned self] in self.recordScrapeMetrics(counters: counters) }
        guildTransfer.register(on: core)
        APIDocsRoutes(plugins: plugins).register(on: core)
        let webSocketRouter = Router(context: GatewayRequestContext.self)
        let door = GatewayDoor(
            hub: hub, authenticator: authenticator, tenants: tenants, guilds: guilds, presence: GatewayPresence(hub: hub, liveLog: liveLog), settings: config.gateway)
        let transport = JSONWebSocketTransport(door: door)
        transport.register(on: webSocketRouter)
        SocketIOTransport(door: door).register(on: webSocketRouter)
        return Application(
            router: core.router,
            server: .guarded(
                webSocketRouter: webSocketRouter, idleTimeoutSeconds: config.server.idleTimeoutSeconds,
                ws: .init(maxFrameSize: transport.protocolLimit, autoPing: .enabled(timePeriod: .seconds(30)))),
            configuration: .init(address: .hostname(config.server.host, port: port ?? config.server.port), serverName: "Guildhall"),
            logger: logger)
    }

    /// Serves until SIGTERM or SIGINT: the host and its HTTP server run as two services of one `ServiceGroup`.
    /// On a signal the server stops accepting and drains its requests first, then the host stops its cogs; if
    /// either service fails, the other is cancelled and the host still shuts down.
    public func serve() async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: self), .init(service: makeApplication())],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The host as a swift-service-lifecycle `Service`: loads the cogs and starts its background work, runs until
    /// the group shuts down gracefully or is cancelled, then — on every path, a failure of another service
    /// included — stops the cogs in reverse dependency order and closes the database. Put it before the HTTP
    /// server in the group, so the server drains first.
    public func run() async throws {
        do {
            try await start()
            try? await gracefulShutdown()
        } catch {
            await shutDownIgnoringCancellation()
            throw error
        }
        await shutDownIgnoringCancellation()
    }

    /// Shuts down in a task of its own: a cancelled service still drains its cogs for their full bound.
    private func shutDownIgnoringCancellation() async {
        let logger = self.logger
        await Task {
            do {
                try await self.shutDown()
            } catch {
                logger.error("shutdown failed", metadata: ["error": "\(error)"])
            }
        }.value
    }

    /// Stops the cogs in reverse dependency order, finishes event deliveries and closes the database.
    public func shutDown() async throws {
        notifier.stop()
        await tasks.stop()
        closeGatewayConnections()
        await plugins.shutDown()
        await external.shutDown()
        await bus.stop()
        try await httpClient.shutdown()
        try database.close()
    }

    /// Closes every gateway connection as going away (the server is shutting down), so nothing waits on them.
    public func closeGatewayConnections() {
        for client in hub.connected { client.close(code: GatewayCode.goingAway, reason: "server shutting down") }
    }

    /// The host's client for calls out. It fails a connection that cannot be made at once instead of retrying it
    /// until the deadline: the outbound client retries itself (with backoff and a circuit), and a cog's supervisor
    /// polls its process's socket.
    static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// `plugins.directory`, else `plugins/` beside the database: where external cogs are installed.
    static func pluginsDirectory(_ config: HostConfig) -> URL {
        config.plugins.directory.isEmpty
            ? URL(fileURLWithPath: config.database.path).deletingLastPathComponent().appendingPathComponent("plugins")
            : URL(fileURLWithPath: config.plugins.directory)
    }

    /// SECRET_KEY / `auth.secret_key`, else a random key generated once and kept beside the database (mode 0600).
    static func signingSecret(config: HostConfig, logger: Logger) throws -> String {
        if !config.auth.secretKey.isEmpty { return config.auth.secretKey }
        let file = URL(fileURLWithPath: config.database.path).deletingLastPathComponent().appendingPathComponent("secret.key")
        if let existing = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
            existing.count >= 32
        {
            return existing
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<48).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = Data(bytes).base64EncodedString()
        guard
            FileManager.default.createFile(
                atPath: file.path, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw ConfigFileError(file: file.path, problems: ["cannot write the generated signing key; set SECRET_KEY"])
        }
        logger.notice("generated a token signing key", metadata: ["file": "\(file.path)"])
        return secret
    }
}
