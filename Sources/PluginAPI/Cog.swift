/// A cog: one feature of a Guildhall deployment (tickets, memes, ...), loaded, unloaded and reloaded at runtime.
///
/// A cog is a type with a static ``manifest`` and a ``setup(_:)`` that registers everything the cog does through the
/// ``CogContext`` it is given: HTTP routes, gateway actions, event listeners, scheduled tasks and bot commands. The
/// host records each registration, so unloading the cog removes all of them before ``teardown()`` runs; a cog never
/// has to undo its own registrations.
///
/// ```swift
/// public struct HelloCog: Cog {
///     public static let manifest = CogManifest(
///         id: "hello", displayName: "Hello", version: "1.0.0", contract: "2.0",
///         summary: "Says hello.", routePrefixes: ["/api/hello"])
///     public init() {}
///     public func setup(_ context: any CogContext<NoConfiguration>) async throws {
///         context.route(.get, "/api/hello", access: .public, summary: "A greeting",
///                       responses: [.json(.ok, Greeting.self)]) { _ in
///             Greeting(message: "hello")
///         }
///     }
/// }
/// struct Greeting: Codable, ResponseConvertible { var message: String }
/// ```
public protocol Cog: Sendable {
    /// The cog's configuration section type; ``NoConfiguration`` for a cog without settings. The section's name is
    /// ``CogManifest/configSection``.
    associatedtype Configuration: CogConfiguration = NoConfiguration

    /// What the cog is, what it needs and which paths it owns. Read before any instance exists.
    static var manifest: CogManifest { get }

    /// The cog's versioned database migrations, applied in order before ``setup(_:)`` on every load and by
    /// `guildhall db migrate`. An applied migration is never run again, so never edit one: append a new one.
    static var migrations: [Migration] { get }

    /// Creates an instance. Keep it cheap: the host may create one and discard it when setup fails.
    init()

    /// Registers the cog's routes, listeners, tasks and commands. If it throws, nothing it registered is activated
    /// and, on a reload, the previous instance keeps serving.
    func setup(_ context: any CogContext<Configuration>) async throws

    /// Called once after unload has drained and removed everything the cog registered. Release resources the cog
    /// opened itself (files, connections). The default does nothing.
    func teardown() async
}

extension Cog {
    /// No migrations by default.
    public static var migrations: [Migration] { [] }
    /// Nothing to release by default.
    public func teardown() async {}

    /// The cog's configuration section, if its manifest names one.
    package static var configSection: ConfigSection? {
        manifest.configSection.map { ConfigSection.section($0, Configuration.self) }
    }
}

/// The static description of a cog: identity, the contract it was built for, dependencies, owned paths and
/// configuration.
public struct CogManifest: Sendable {
    /// Stable identifier used in the admin API, config and storage (`"tickets"`). Lowercase, no spaces.
    public var id: String
    /// Human-readable name (`"Tickets"`).
    public var displayName: String
    /// The cog's version, reported by `GET /api/cogs`.
    public var version: String
    /// The version of the plugin contract the cog was written for. A host whose contract has another major
    /// version refuses to load the cog, naming both versions.
    public var contract: ContractVersion
    /// The lowest Guildhall version the cog runs on (`"1.2.0"`), if it needs features added after its contract's
    /// first release.
    public var minimumHostVersion: String?
    /// One sentence on what the cog does.
    public var summary: String
    /// A group the admin screens sort cogs into (`"community"`, `"games"`, `"tools"`), if any.
    public var category: String?
    /// What the cog offers, a few words each, for the admin screens (`["Support tickets", "Live chat"]`).
    public var features: [String]
    /// Ids of cogs that must be loaded before this one; they are loaded first at startup and cannot be
    /// unloaded while this cog is loaded.
    public var dependsOn: [String]
    /// Path prefixes this cog owns (`"/api/tickets"`). Every route the cog registers must lie under one of them;
    /// while the cog is not loaded the host answers them with 404 `cog_not_loaded`. Two cogs cannot share one.
    public var routePrefixes: [String]
    /// The name of the cog's configuration section in config.yaml and `/api/config/{section}`, validated by the
    /// cog's ``Cog/Configuration`` type; nil for none.
    public var configSection: String?

    /// Describes a cog; see each property.
    public init(
        id: String, displayName: String, version: String, contract: ContractVersion, summary: String,
        minimumHostVersion: String? = nil, category: String? = nil, features: [String] = [], dependsOn: [String] = [],
        routePrefixes: [String] = [], configSection: String? = nil
    ) {
        self.category = category
        self.features = features
        self.id = id
        self.displayName = displayName
        self.version = version
        self.contract = contract
        self.minimumHostVersion = minimumHostVersion
        self.summary = summary
        self.dependsOn = dependsOn
        self.routePrefixes = routePrefixes
        self.configSection = configSection
    }
}

/// A version of the plugin contract: `major.minor`. Minor versions add to the contract and never break a cog
/// built for an earlier minor version of the same major; a major version may. See docs/plugin-api-changelog.md.
public struct ContractVersion: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// Breaking changes.
    public let major: Int
    /// Additions.
    public let minor: Int

    /// The contract this PluginAPI implements.
    public static let current = ContractVersion(major: 2, minor: 0)

    /// A version.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// `"1.0"`; anything that is not `major.minor` is version 0.0, which no host loads.
    public init(stringLiteral text: String) {
        let parts = text.split(separator: ".").map { Int($0) }
        self.init(major: parts.first.flatMap { $0 } ?? 0, minor: parts.count > 1 ? parts[1] ?? 0 : 0)
    }

    /// `1.0`.
    public var description: String { "\(major).\(minor)" }

    /// Whether a cog built for this version runs on a host implementing `host`: same major, and no newer minor.
    public func runs(on host: ContractVersion) -> Bool { major == host.major && minor <= host.minor }

    /// Orders by major, then minor version.
    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.major, lhs.minor) < (rhs.major, rhs.minor) }
}
