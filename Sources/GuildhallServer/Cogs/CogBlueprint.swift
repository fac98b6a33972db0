import Logging
import PluginAPI
import Synchronization

/// A cog the host can load: a Swift type compiled into the executable, or an external cog's folder. The catalogue
/// holds these, so loading, unloading, reloading, dependencies and per-guild switches treat both kinds alike.
protocol CogBlueprint: Sendable {
    var manifest: CogManifest { get }
    var migrations: [Migration] { get }
    /// The cog's configuration section, if its manifest names one.
    var configSection: ConfigSection? { get }
    var kind: CogKind { get }
    /// What the cog asked to be allowed, for the admin to read before loading it (external cogs).
    var permissions: [String] { get }
    /// A new instance, not yet set up.
    func instantiate() -> any CogInstance
}

extension CogBlueprint {
    /// A built-in cog asks for nothing: it is compiled into the host.
    var permissions: [String] { [] }
}

/// How a cog runs: in the host's process, or as a process of its own (docs/external-cogs.md).
enum CogKind: String, Sendable, Encodable {
    case builtIn = "builtin"
    case external
}

/// One instance of a cog, set up by the plugin manager with the context it builds.
protocol CogInstance: Sendable {
    /// Registers what the instance does; if it throws, nothing it registered goes live.
    func setup(_ parts: CogContextParts) async throws
    /// Runs after unload drained everything the instance registered.
    func teardown() async
    /// The instance's own process, if it runs in one (external cogs).
    var process: CogSupervisor.Snapshot? { get }
}

extension CogInstance {
    /// A built-in cog runs in the host's process.
    var process: CogSupervisor.Snapshot? { nil }
}

/// What a cog context is built from; one per instance.
struct CogContextParts: Sendable {
    let manifest: CogManifest
    let services: CogServices
    let registrations: CogRegistrations
    let scope: TaskScope
    let door: CogDoor
    let stats: CogStats
    let logger: Logger
    /// What the cog may do through its port: everything for a built-in cog, its manifest's asks for an external one.
    var permissions = CogPermissions.builtIn

    /// The instance's port: every capability it has.
    var port: CogPort {
        CogPort(cog: manifest.id, configSection: manifest.configSection, permissions: permissions, services: services, logger: logger)
    }

    func context<Configuration: CogConfiguration>(_ type: Configuration.Type) -> HostCogContext<Configuration> {
        HostCogContext<Configuration>(
            manifest: manifest, port: port, registrations: registrations, scope: scope, door: door, stats: stats)
    }
}

/// A cog compiled into the executable.
struct BuiltInCog<C: Cog>: CogBlueprint {
    var manifest: CogManifest { C.manifest }
    var migrations: [Migration] { C.migrations }
    var configSection: ConfigSection? { C.configSection }
    var kind: CogKind { .builtIn }
    func instantiate() -> any CogInstance { Instance(cog: C()) }

    struct Instance: CogInstance {
        let cog: C
        func setup(_ parts: CogContextParts) async throws { try await cog.setup(parts.context(C.Configuration.self)) }
        func teardown() async { await cog.teardown() }
    }
}

/// The blueprint of a built-in cog type.
func builtInBlueprint(_ type: any Cog.Type) -> any CogBlueprint {
    func open<T: Cog>(_ type: T.Type) -> any CogBlueprint { BuiltInCog<T>() }
    return open(type)
}

/// Each cog's counters, created with the cog's first use (external cogs join the catalogue at run time).
final class CogStatsTable: Sendable {
    private let table = Mutex<[String: CogStats]>([:])

    subscript(cog: String) -> CogStats {
        table.withLock { table in
            if let stats = table[cog] { return stats }
            let stats = CogStats()
            table[cog] = stats
            return stats
        }
    }
}
