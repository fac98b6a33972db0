import Foundation
import PluginAPI

extension PluginManager {
    /// Every cog of the catalogue, by name.
    public func entries() -> [Entry] {
        catalogue.cogs.keys.sorted().compactMap(entry)
    }

    /// One cog's entry, or nil if it is not in the catalogue.
    public func entry(_ id: String) -> Entry? {
        let catalogue = self.catalogue
        guard let blueprint = catalogue.cogs[id] else { return nil }
        let manifest = blueprint.manifest
        var status = statuses.withLock { $0[id] ?? Status() }
        let instance = mounts.instance(of: id)
        let process = instance?.instance.process
        if let process, process.phase == .failed {  // a supervised process that failed for good fails its cog
            status = Status(state: .failed, error: process.error)
        }
        let compatible = (try? Compatibility.check(manifest)) != nil
        let dependenciesLoaded = manifest.dependsOn.allSatisfy { mounts.instance(of: $0) != nil }
        let dependantsLoaded = catalogue.dependants(of: id).contains { mounts.instance(of: $0) != nil }
        return Entry(
            name: id, displayName: manifest.displayName, loaded: instance != nil, state: status.state,
            version: manifest.version, contractVersion: manifest.contract.description, summary: manifest.summary,
            category: manifest.category, features: manifest.features, dependsOn: manifest.dependsOn,
            routePrefixes: manifest.routePrefixes, loadedAt: instance?.loadedAt, error: status.error,
            stats: stats[id].snapshot,
            status: !compatible ? .disabled : status.state == .failed ? .error : instance != nil ? .loaded : .unloaded,
            canLoad: compatible && instance == nil && dependenciesLoaded, canUnload: instance != nil && !dependantsLoaded,
            canReload: instance != nil, kind: blueprint.kind, permissions: blueprint.permissions, process: process)
    }

    /// A cog as `GET /api/cogs` reports it: to the host's own API and to the HazeBot admin app's cogs screen, which
    /// reads `status`, `description`, `category`, `features` and the `can_*` switches.
    public struct Entry: Encodable, Sendable {
        /// The cog's standing as the admin app shows it.
        public enum Standing: String, Encodable, Sendable {
            /// Serving.
            case loaded
            /// Not loaded; it can be.
            case unloaded
            /// It cannot run on this host (built for another contract or a newer host).
            case disabled
            /// Its last load failed.
            case error
        }

        public var name: String
        public var displayName: String
        public var loaded: Bool
        public var state: State
        public var version: String
        /// The plugin contract version the cog was built for.
        public var contractVersion: String
        public var summary: String
        public var category: String?
        public var features: [String]
        public var dependsOn: [String]
        public var routePrefixes: [String]
        public var loadedAt: Date?
        public var error: String?
        public var stats: CogStats.Snapshot
        public var status: Standing
        /// Whether a load would be tried now: not loaded, compatible, its dependencies loaded.
        public var canLoad: Bool
        /// Whether an unload would go ahead without cascading: loaded, and nothing loaded depends on it.
        public var canUnload: Bool
        /// Whether it can be reloaded: loaded.
        public var canReload: Bool
        /// `builtin` (in the host's process) or `external` (a process of its own).
        var kind: CogKind = .builtIn
        /// What an external cog asked to be allowed (the admin reads them before loading it); empty for built-in cogs.
        public var permissions: [String] = []
        /// An external cog's process while it is loaded.
        var process: CogSupervisor.Snapshot?

        enum CodingKeys: String, CodingKey {
            case name, loaded, state, version, summary, error, stats, status, description, icon, category, features
            case displayName = "display_name"
            case contractVersion = "contract_version"
            case dependsOn = "depends_on"
            case routePrefixes = "route_prefixes"
            case loadedAt = "loaded_at"
            case errorMessage = "error_message"
            case canLoad = "can_load", canUnload = "can_unload", canReload = "can_reload"
            case kind, permissions, process
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(displayName, forKey: .displayName)
            try container.encode(loaded, forKey: .loaded)
            try container.encode(state, forKey: .state)
            try container.encode(status, forKey: .status)
            try container.encode(version, forKey: .version)
            try container.encode(contractVersion, forKey: .contractVersion)
            try container.encode(summary, forKey: .summary)
            try container.encode(summary, forKey: .description)
            try container.encode(nil as String?, forKey: .icon)
            try container.encode(category, forKey: .category)
            try container.encode(features, forKey: .features)
            try container.encode(dependsOn, forKey: .dependsOn)
            try container.encode(routePrefixes, forKey: .routePrefixes)
            try container.encode(loadedAt.map(Timestamp.string(from:)), forKey: .loadedAt)  // null while unloaded
            try container.encode(error, forKey: .error)
            try container.encode(error, forKey: .errorMessage)
            try container.encode(canLoad, forKey: .canLoad)
            try container.encode(canUnload, forKey: .canUnload)
            try container.encode(canReload, forKey: .canReload)
            try container.encode(stats, forKey: .stats)
            try container.encode(kind, forKey: .kind)
            try container.encode(permissions, forKey: .permissions)
            if let process { try container.encode(process, forKey: .process) }
        }
    }
}
