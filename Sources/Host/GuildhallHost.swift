import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import PluginAPI
import ServiceLifecycle

/// One Guildhall deployment: storage, auth, config, the event bus and the plugin manager, and the HTTP
/// application that serves them. The executable builds one from config.yaml and the built-in cogs; tests build
/// one from a temporary folder and test cogs.
public final class GuildhallHost: Sendable {
    /// The version reported by the health check and `guildhall --version`.
    public static let version = "0.1.0"

    public let config: HostConfig
    public let database: SQLiteDatabase
    public let bus: EventBus
    public let configStore: ConfigStore
    public let users: UserStore
    public let tokens: TokenService
    public let plugins: PluginManager
    public let commands: CommandRegistry
    public let cache: LRUCache
    let gate: AccessGate
    let httpClient: HTTPClient
    let logger: Logger

    /// Opens the database (creating it), applies the host's migrations, creates the users the environment asks
    /// for and prepares (but does not load) the cogs of `catalogue`.
    public init(config: HostConfig, catalogue: [any Cog.Type], logger: Logger) async throws {
        let catalogue = try Catalogue(catalogue)
        self.config = config
        self.logger = logger
        database = try SQLiteDatabase(path: config.database.path)
        try await Migrator(database: database).apply(HostMigrations.all, owner: "host")
        cache = LRUCache(capacity: config.cache.capacity)
        bus = EventBus(logger: logger)
        let sections = HostSections.all + catalogue.cogs.values.compactMap { $0.manifest.config }
        configStore = try await ConfigStore(sections: sections, file: config, database: database, logger: logger)
        users = UserStore(database: database, bcryptCost: UInt8(config.auth.bcryptCost))
        let secret = try Self.signingSecret(config: config, logger: logger)
        tokens = await TokenService(secret: secret, lifetime: .seconds(config.auth.tokenTTLHours * 3600))
        gate = AccessGate(tokens: tokens, users: users, cache: cache)
        commands = CommandRegistry()
        httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let services = CogServices(
            database: database, cache: cache, httpClient: httpClient, bus: bus, config: configStore, gate: gate,
            logger: logger)
        plugins = PluginManager(catalogue: catalogue, services: services, commands: commands)
        for user in config.bootstrapUsers {
            try await users.upsert(username: user.username, password: user.password, role: user.role)
        }
        if config.bootstrapUsers.isEmpty,
            try await database.read({ try $0.scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'") }) == 0
        {
            logger.warning("no admin user: set API_ADMIN_PASS (and API_ADMIN_USER) or run `guildhall user add NAME --role admin`")
        }
    }

    /// Loads the cogs the deployment wants. Call before serving.
    public func start() async throws {
        try await plugins.startUp(defaultEnabled: config.plugins.enabled)
    }

    /// The HTTP application: core routes, the admin APIs and every cog's routes.
    public func makeApplication(port: Int? = nil) -> some ApplicationProtocol {
        let core = CoreRouter(
            gate: gate, maxBodyBytes: config.server.maxBodyBytes, corsOrigins: config.server.corsOrigins,
            mounts: plugins.mounts, stats: plugins.stats)
        let perAddress = RateLimiter(limit: config.auth.loginAttemptsPerIP, window: .seconds(config.auth.loginWindowSeconds))
        let perUsername = RateLimiter(limit: config.auth.loginFailuresPerUser, window: .seconds(config.auth.loginWindowSeconds))
        SystemRoutes(plugins: plugins, coreRoutes: core.table).register(on: core)
        AuthRoutes(users: users, tokens: tokens, gate: gate, perAddress: perAddress, perUsername: perUsername).register(on: core)
        CogRoutes(plugins: plugins, database: database).register(on: core)
        ConfigRoutes(store: configStore, bus: bus).register(on: core)
        MetricsEndpoint.bootstrap()
        MetricsEndpoint.register(on: core, cache: cache)
        return Application(
            router: core.router,
            configuration: .init(address: .hostname(config.server.host, port: port ?? config.server.port), serverName: "Guildhall"),
            logger: logger)
    }

    /// Serves until SIGTERM or SIGINT, then drains requests, stops the cogs in reverse dependency order and closes
    /// the database.
    public func run() async throws {
        try await start()
        let application = makeApplication()
        let group = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try await shutDown()
    }

    /// Stops the cogs in reverse dependency order, finishes event deliveries and closes the database.
    public func shutDown() async throws {
        await plugins.shutDown()
        await bus.stop()
        try await httpClient.shutdown()
        try database.close()
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
