import PluginAPI

/// The cogs a host can load, checked once at startup: unique ids, known dependencies without cycles, and path
/// prefixes that no two cogs (nor the host's core routes) share.
struct Catalogue: Sendable {
    let cogs: [String: any CogBlueprint]
    /// Every id in dependency order: each cog after the cogs it depends on.
    let dependencyOrder: [String]

    /// Prefixes of the host's own routes, which no cog may claim.
    static let reservedPrefixes = ["/api/cogs", "/api/config", "/api/auth", "/api/users", "/api/health", "/health", "/api/routes", "/metrics", "/api/live-log", "/api/bot", "/ws", "/socket.io", "/api/v1/admin/guilds", "/api/v1/guilds", "/api/v1/guild"]

    /// The host's own config sections, which no cog may claim (an external cog's section is named by its id).
    static let reservedSections = Set(HostConfig.infrastructureKeys + HostSections.all.map(\.name))

    /// Host prefixes under which a cog may add a resource per item, `<prefix>/*/<name>`, for names the host does not
    /// use itself (CombatLog's `/api/v1/admin/guilds/*/activity`).
    static let openPrefixes: [String: Set<String>] = ["/api/v1/admin/guilds": ["members", "api-keys"]]

    /// Whether `prefix` is a cog's resource under one of the ``openPrefixes``.
    static func isOpenResource(_ prefix: String, under reserved: String) -> Bool {
        guard let taken = openPrefixes[reserved], prefix.hasPrefix(reserved + "/*/") else { return false }
        let rest = prefix.dropFirst(reserved.count + 3).split(separator: "/")
        return rest.count == 1 && !taken.contains(String(rest[0]))
    }

    /// The catalogue of built-in cog types.
    init(_ types: [any Cog.Type]) throws {
        try self.init(blueprints: types.map(builtInBlueprint))
    }

    init(blueprints: [any CogBlueprint]) throws {
        var cogs: [String: any CogBlueprint] = [:]
        var problems: [String] = []
        var prefixOwners: [String: String] = [:]
        var sectionOwners: [String: String] = [:]
        for type in blueprints {
            let manifest = type.manifest
            if cogs[manifest.id] != nil { problems.append("two cogs have the id '\(manifest.id)'") }
            if let section = manifest.configSection {
                // A section is read, secrets unmasked, by the cog that owns it: a second owner would read another's.
                if Self.reservedSections.contains(section) {
                    problems.append("cog '\(manifest.id)': the config section '\(section)' is the host's")
                } else if let other = sectionOwners[section] {
                    problems.append("cogs '\(other)' and '\(manifest.id)' both claim the config section '\(section)'")
                }
                sectionOwners[section] = manifest.id
            }
            cogs[manifest.id] = type
            for prefix in manifest.routePrefixes {
                if !prefix.hasPrefix("/") || prefix.count < 2 {
                    problems.append("cog '\(manifest.id)': prefix '\(prefix)' must start with / and name a path")
                }
                if let (claimed, other) = prefixOwners.first(where: {
                    $0.value != manifest.id && (PathPrefix.path(prefix, isUnder: $0.key) || PathPrefix.path($0.key, isUnder: prefix))
                }) {
                    problems.append(
                        claimed == prefix
                            ? "cogs '\(other)' and '\(manifest.id)' both claim \(prefix)"
                            : "cog '\(manifest.id)' claims \(prefix), which overlaps \(claimed) of cog '\(other)'")
                }
                if let reserved = Self.reservedPrefixes.first(where: {
                    (PathPrefix.path(prefix, isUnder: $0) || PathPrefix.path($0, isUnder: prefix)) && !Self.isOpenResource(prefix, under: $0)
                }) {
                    problems.append("cog '\(manifest.id)': prefix \(prefix) overlaps the host's \(reserved)")
                }
                prefixOwners[prefix] = manifest.id
            }
        }
        for (id, type) in cogs {
            for dependency in type.manifest.dependsOn where cogs[dependency] == nil {
                problems.append("cog '\(id)' depends on '\(dependency)', which is not in the catalogue")
            }
        }
        var order: [String] = []
        var state: [String: Bool] = [:]  // false: visiting, true: done
        func visit(_ id: String, path: [String]) {
            if state[id] == true { return }
            if state[id] == false {
                problems.append("dependency cycle: \((path + [id]).joined(separator: " -> "))")
                return
            }
            state[id] = false
            for dependency in (cogs[id]?.manifest.dependsOn ?? []).sorted() where cogs[dependency] != nil {
                visit(dependency, path: path + [id])
            }
            state[id] = true
            order.append(id)
        }
        for id in cogs.keys.sorted() { visit(id, path: []) }
        guard problems.isEmpty else { throw CatalogueError(problems: problems) }
        self.cogs = cogs
        self.dependencyOrder = order
    }

    func manifest(_ id: String) -> CogManifest? { cogs[id]?.manifest }

    /// Every blueprint, in dependency order.
    var blueprints: [any CogBlueprint] { dependencyOrder.compactMap { cogs[$0] } }

    /// This catalogue with `blueprint` added or put in place of the one of the same id; throws when the result
    /// breaks a rule (a prefix taken, a dependency missing).
    func replacing(_ blueprint: any CogBlueprint) throws -> Catalogue {
        try Catalogue(blueprints: blueprints.filter { $0.manifest.id != blueprint.manifest.id } + [blueprint])
    }

    /// This catalogue without `id`.
    func removing(_ id: String) throws -> Catalogue {
        try Catalogue(blueprints: blueprints.filter { $0.manifest.id != id })
    }

    /// The cogs that depend on `id` directly or through others, in dependency order.
    func dependants(of id: String) -> [String] {
        var found: Set<String> = []
        var frontier = [id]
        while let next = frontier.popLast() {
            for (other, type) in cogs where type.manifest.dependsOn.contains(next) && !found.contains(other) {
                found.insert(other)
                frontier.append(other)
            }
        }
        return dependencyOrder.filter(found.contains)
    }
}

/// The catalogue cannot be used as it is.
public struct CatalogueError: Error, CustomStringConvertible {
    public var problems: [String]
    public var description: String { "invalid cog catalogue: " + problems.joined(separator: "; ") }
}
