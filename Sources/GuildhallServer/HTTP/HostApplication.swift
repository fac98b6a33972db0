import Hummingbird
import HummingbirdWebSocket
import NIOCore
import PluginAPI

extension GuildhallHost {
    /// The HTTP application: core routes, the admin APIs and every cog's routes. `onServerRunning` is told the bound
    /// channel (a test that asked for port 0 learns the port from it).
    public func makeApplication(
        port: Int? = nil, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
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
            onServerRunning: onServerRunning, logger: logger)
    }
}
