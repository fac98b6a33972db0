/// A cog: one feature of a Guildhall deployment (tickets, memes, ...), loaded, unloaded and reloaded at runtime.
///
/// A cog is a type with a static ``manifest`` and a ``setup(_:)`` that registers everything the cog does through the
/// ``CogContext`` it is given: HTTP routes, event listeners, scheduled tasks and bot commands. The host records each
/// registration, so unloading the cog removes all of them before ``teardown()`` runs; a cog never has to undo its
/// own registrations.
///
/// ```swift
/// public struct HelloCog: Cog {
///     public static let manifest = CogManifest(
///         id: "hello", displayName: "Hello", version: "1.0.0",
///         summary: "Says hello.", routePrefixes: ["/api/hello"])
///     public init() {}
///     public func setup(_ context: any CogContext) async throws {
///         context.route(.get, "/api/hello", access: .public, summary: "A greeting") { _, _ in
///             ["message": "hello"]
///         }
///     }
/// }
/// ```
public protocol Cog: Sendable {
    /// What the cog is, what it needs and which paths it owns. Read before any instance exists.
    static var manifest: CogManifest { get }

    /// The cog's versioned database migrations, applied in order before ``setup(_:)`` on every load and by
    /// `guildhall db migrate`. An applied migration is never run again, so never edit one: append a new one.
    static var migrations: [Migration] { get }

    /// Creates an instance. Keep it cheap: the host may create one and discard it when setup fails.
    init()

    /// Registers the cog's routes, listeners, tasks and commands. If it throws, nothing it registered is activated
    /// and, on a reload, the previous instance keeps serving.
    func setup(_ context: any CogContext) async throws

    /// Called once after unload has removed everything the cog registered and stopped its tasks. Release
    /// resources the cog opened itself (files, connections). The default does nothing.
    func teardown() async
}

extension Cog {
    /// No migrations by default.
    public static var migrations: [Migration] { [] }
    /// Nothing to release by default.
    public func teardown() async {}
}

/// The static description of a cog: identity, dependencies, owned paths and configuration.
public struct CogManifest: Sendable {
    /// Stable identifier used in the admin API, config and storage (`"tickets"`). Lowercase, no spaces.
    public var id: String
    /// Human-readable name (`"Tickets"`).
    public var displayName: String
    /// The cog's version, reported by `GET /api/cogs`.
    public var version: String
    /// One sentence on what the cog does.
    public var summary: String
    /// Ids of cogs that must be loaded before this one; they are loaded first at startup and cannot be
    /// unloaded while this cog is loaded.
    public var dependsOn: [String]
    /// Path prefixes this cog owns (`"/api/tickets"`). Every route the cog registers must lie under one of them;
    /// while the cog is not loaded the host answers them with 404 `cog_not_loaded`. Two cogs cannot share one.
    public var routePrefixes: [String]
    /// The cog's configuration section, if it has one.
    public var config: ConfigSection?

    /// Describes a cog; see each property.
    public init(
        id: String, displayName: String, version: String, summary: String,
        dependsOn: [String] = [], routePrefixes: [String] = [], config: ConfigSection? = nil
    ) {
        self.id = id
        self.displayName = displayName
        self.version = version
        self.summary = summary
        self.dependsOn = dependsOn
        self.routePrefixes = routePrefixes
        self.config = config
    }
}
