import Foundation
import Logging
import PluginAPI
import Synchronization

/// Loads, unloads and reloads cogs while the service runs.
///
/// Operations run one at a time. A cog is set up completely before anything it registered goes live; a reload
/// swaps the new instances in only once all of them set up, otherwise the old ones keep serving. Which cogs are
/// loaded is kept in the database so that a restart restores it, and every operation is audited and published.
public final class PluginManager: Sendable {
    /// Where a cog is in its life.
    public enum State: String, Codable, Sendable, CaseIterable {
        case available, loading, loaded, failed, unloading
    }

    struct Status {
        var state: State = .available
        var error: String?
    }

    /// The cogs there are; external cogs join and leave it at run time (install, uninstall).
    var catalogue: Catalogue { catalogueBox.withLock { $0 } }
    private let catalogueBox: Mutex<Catalogue>
    let mounts: CogMounts
    let stats = CogStatsTable()
    private let services: CogServices
    private let commands: CommandRegistry
    let statuses: Mutex<[String: Status]>
    private let lock = AsyncLock()
    /// How long stopping an instance waits for its work in flight.
    private let drainTimeout: Duration

    init(catalogue: Catalogue, services: CogServices, commands: CommandRegistry, drainTimeout: Duration) {
        self.catalogueBox = Mutex(catalogue)
        self.drainTimeout = drainTimeout
        self.services = services
        self.commands = commands
        let mounts = CogMounts(prefixes: catalogue.cogs.mapValues { $0.manifest.routePrefixes })
        self.mounts = mounts
        services.bus.readCogListeners { mounts.all.flatMap(\.listeners) }
        self.statuses = Mutex(catalogue.cogs.mapValues { _ in Status() })
    }

    // MARK: - Reading

    /// The recent log records of cog `id`: what it logged and what was done to it.
    func logs(of id: String, limit: Int) -> [CogLogs.Record] {
        services.logs.recent(id, limit: limit)
    }

    /// How many cogs are loaded.
    public var loadedCount: Int { mounts.all.count }

    /// An OpenAPI 3.1 description of `hostRoutes` and every loaded cog's routes, from their declarations.
    func apiDescription(hostRoutes: [APIDescription.Operation] = []) -> JSONValue {
        let cogRoutes = mounts.all.flatMap { instance in
            instance.declarations.map { APIDescription.Operation(cog: instance.manifest.id, declaration: $0) }
        }
        return APIDescription.document(of: hostRoutes + cogRoutes, title: "Guildhall", version: GuildhallHost.version)
    }

    // MARK: - Operations

    /// Loads `id` if its dependencies are loaded.
    public func load(_ id: String, by actor: String) async -> Outcome {
        await lock.withLock { await self.performLoad(id, actor: actor) }
    }

    /// Unloads `id`; with `cascade`, unloads the cogs that depend on it first, else refuses while they are loaded.
    public func unload(_ id: String, cascade: Bool, by actor: String) async -> Outcome {
        await lock.withLock { await self.performUnload(id, cascade: cascade, actor: actor) }
    }

    /// Replaces `id`'s instance with a new one; with `cascade`, also its loaded dependants, as one unit.
    public func reload(_ id: String, cascade: Bool, by actor: String) async -> Outcome {
        await lock.withLock { await self.performReload(id, cascade: cascade, actor: actor) }
    }

    /// Puts external cog `blueprint` in the catalogue: a new cog (not loaded; the admin reads its permissions, then
    /// loads it), or a new version of an installed one, which is reloaded if it is loaded. If that reload fails the
    /// old version keeps serving, the catalogue keeps it, and `restore` puts its files back.
    func install(_ blueprint: any CogBlueprint, by actor: String, restore: @Sendable () -> Void) async -> Outcome {
        await lock.withLock {
            let id = blueprint.manifest.id
            let current = self.catalogue
            if let existing = current.cogs[id], existing.kind == .builtIn {
                restore()
                return await self.finish(
                    .refused(code: "builtin_cog", reason: "\(id) is a built-in cog's id", cogs: [id]), "install", [id], actor)
            }
            do {
                let next = try current.replacing(blueprint)
                if let section = blueprint.configSection { try await self.services.config.add(section) }
                self.setCatalogue(next)
            } catch {
                restore()
                return await self.finish(.refused(code: "invalid_cog", reason: "\(error)", cogs: [id]), "install", [id], actor)
            }
            guard self.mounts.instance(of: id) != nil else { return await self.finish(.installed, "install", [id], actor) }
            let outcome = await self.performReload(id, cascade: false, actor: actor)
            guard outcome.succeeded else {
                self.setCatalogue(current)
                restore()
                return outcome
            }
            return await self.finish(.installed, "install", [id], actor)
        }
    }

    /// Takes external cog `id` out of the catalogue once it is unloaded and nothing installed depends on it;
    /// `remove` deletes its files. Its stored data (key-value store, config versions) stays for a reinstall.
    func uninstall(_ id: String, by actor: String, remove: @Sendable () throws -> Void) async -> Outcome {
        await lock.withLock {
            let current = self.catalogue
            guard let blueprint = current.cogs[id] else { return await self.finish(.notFound, "uninstall", [id], actor) }
            guard blueprint.kind == .external else {
                return await self.finish(
                    .refused(code: "builtin_cog", reason: "\(id) is built in; it can be unloaded, not uninstalled", cogs: [id]),
                    "uninstall", [id], actor)
            }
            guard self.mounts.instance(of: id) == nil else {
                return await self.finish(
                    .refused(code: "cog_loaded", reason: "\(id) is loaded; unload it first", cogs: [id]), "uninstall", [id], actor)
            }
            do {
                let next = try current.removing(id)
                try remove()
                self.setCatalogue(next)
                _ = try await self.services.database.write { try $0.execute("DELETE FROM cog_states WHERE cog = ?", [id]) }
            } catch {
                return await self.finish(.refused(code: "cog_needed", reason: "\(error)", cogs: [id]), "uninstall", [id], actor)
            }
            return await self.finish(.uninstalled, "uninstall", [id], actor)
        }
    }

    private func setCatalogue(_ next: Catalogue) {
        catalogueBox.withLock { $0 = next }
        mounts.setPrefixes(next.cogs.mapValues { $0.manifest.routePrefixes })
    }

    /// Loads the cogs the deployment wants, in dependency order: the admin's stored choices, else config.yaml's
    /// `plugins.enabled` for cogs never chosen.
    public func startUp(defaultEnabled: [String]) async throws {
        let stored = try await services.database.read { connection in
            try connection.rows("SELECT cog, enabled FROM cog_states", [])
        }
        var chosen = Set(defaultEnabled)
        for row in stored {
            guard case .text(let cog)? = row["cog"], case .integer(let enabled)? = row["enabled"] else { continue }
            if enabled == 1 { chosen.insert(cog) } else { chosen.remove(cog) }
        }
        let wanted = chosen
        for unknown in wanted.subtracting(catalogue.cogs.keys).sorted() {
            services.logger.warning("enabled cog is not in the catalogue", metadata: ["cog": "\(unknown)"])
        }
        await lock.withLock {
            for id in self.catalogue.dependencyOrder where wanted.contains(id) {
                let outcome = await self.performLoad(id, actor: "startup", persist: false)
                if !outcome.succeeded {
                    self.services.logger.error("cog did not load at startup", metadata: ["cog": "\(id)", "outcome": "\(outcome)"])
                }
            }
        }
    }

    /// Unloads every cog in reverse dependency order without changing what the deployment wants (shutdown).
    public func shutDown() async {
        await lock.withLock {
            for id in self.catalogue.dependencyOrder.reversed() {
                guard let instance = self.mounts.instance(of: id) else { continue }
                self.setStatus(id, .unloading)
                self.deactivate([id: instance])
                await instance.stop(drainTimeout: drainTimeout, logger: services.logger)
                self.setStatus(id, .available)
            }
        }
    }

    // MARK: - Implementation (called with the lock held)

    private func performLoad(_ id: String, actor: String, persist: Bool = true) async -> Outcome {
        guard let type = catalogue.cogs[id] else { return await finish(.notFound, "load", [id], actor) }
        guard mounts.instance(of: id) == nil else { return await finish(.alreadyLoaded, "load", [id], actor) }
        let missing = type.manifest.dependsOn.filter { mounts.instance(of: $0) == nil }
        guard missing.isEmpty else {
            let reason = "\(id) depends on \(missing.joined(separator: ", ")), which \(missing.count == 1 ? "is" : "are") not loaded"
            return await finish(.refused(code: "dependency_not_loaded", reason: reason, cogs: missing), "load", [id], actor)
        }
        do {
            try Compatibility.check(type.manifest)
        } catch {
            setStatus(id, .failed, error: "\(error)")
            return await finish(.refused(code: "incompatible_cog", reason: "\(error)", cogs: [id]), "load", [id], actor)
        }
        setStatus(id, .loading)
        do {
            let instance = try await prepare(type)
            activate([id: instance])
            setStatus(id, .loaded)
            if persist { try await persistChoice(id, enabled: true, actor: actor) }
            return await finish(.loaded, "load", [id], actor)
        } catch {
            setStatus(id, .failed, error: "\(error)")
            return await finish(.failed(reason: "\(error)"), "load", [id], actor)
        }
    }

    private func performUnload(_ id: String, cascade: Bool, actor: String) async -> Outcome {
        guard catalogue.cogs[id] != nil else { return await finish(.notFound, "unload", [id], actor) }
        guard mounts.instance(of: id) != nil else { return await finish(.notLoaded, "unload", [id], actor) }
        let dependants = catalogue.dependants(of: id).filter { mounts.instance(of: $0) != nil }
        if !dependants.isEmpty && !cascade {
            let reason = "\(dependants.joined(separator: ", ")) \(dependants.count == 1 ? "depends" : "depend") on \(id); unload \(dependants.count == 1 ? "it" : "them") first or pass cascade"
            return await finish(.refused(code: "has_dependants", reason: reason, cogs: dependants), "unload", [id], actor)
        }
        for cog in (dependants + [id]).reversed() {
            guard let instance = mounts.instance(of: cog) else { continue }
            setStatus(cog, .unloading)
            deactivate([cog: instance])
            await instance.stop(drainTimeout: drainTimeout, logger: services.logger)
            services.cache.removeAll(withPrefix: "cog:\(cog):")
            setStatus(cog, .available)
            do {
                try await persistChoice(cog, enabled: false, actor: actor)
            } catch {
                services.logger.error("unloaded cog not remembered", metadata: ["cog": "\(cog)", "error": "\(error)"])
            }
        }
        return await finish(.unloaded, "unload", dependants + [id], actor)
    }

    private func performReload(_ id: String, cascade: Bool, actor: String) async -> Outcome {
        guard catalogue.cogs[id] != nil else { return await finish(.notFound, "reload", [id], actor) }
        guard mounts.instance(of: id) != nil else { return await finish(.notLoaded, "reload", [id], actor) }
        let unit = [id] + (cascade ? catalogue.dependants(of: id).filter { mounts.instance(of: $0) != nil } : [])
        var prepared: [String: LoadedCog] = [:]
        for cog in catalogue.dependencyOrder where unit.contains(cog) {
            do {
                prepared[cog] = try await prepare(catalogue.cogs[cog]!)
            } catch {
                // Nothing of the new instances went live; stop the ones already built and keep the old ones serving.
                for instance in prepared.values { await instance.stop(drainTimeout: .zero) }
                let reason = unit.count == 1 ? "\(error)" : "\(cog): \(error)"
                setStatus(id, .loaded, error: "reload failed: \(reason)")
                return await finish(.failed(reason: reason), "reload", unit, actor)
            }
        }
        let old = Dictionary(uniqueKeysWithValues: unit.compactMap { cog in mounts.instance(of: cog).map { (cog, $0) } })
        activate(prepared)
        for cog in unit { setStatus(cog, .loaded) }
        for instance in old.values { await instance.stop(drainTimeout: drainTimeout, logger: services.logger) }
        return await finish(.reloaded, "reload", unit, actor)
    }

    /// Checks the cog's contract, applies its migrations, creates an instance and runs its setup; answers the
    /// instance, not yet live.
    private func prepare(_ blueprint: any CogBlueprint) async throws -> LoadedCog {
        let manifest = blueprint.manifest
        try Compatibility.check(manifest)  // also for reloads, which never pass through performLoad
        try await Migrator(database: services.database).apply(blueprint.migrations, owner: manifest.id)
        let instance = blueprint.instantiate()
        let registrations = CogRegistrations()
        let scope = TaskScope()
        let door = CogDoor(cog: manifest.id)
        let parts = CogContextParts(
            manifest: manifest, services: services, registrations: registrations, scope: scope, door: door,
            stats: stats[manifest.id], logger: services.logs.logger(for: manifest.id, base: services.logger))
        do {
            try await instance.setup(parts)
        } catch {
            _ = registrations.seal()
            await door.drain(within: .zero, scope: scope)
            await instance.teardown()
            throw error
        }
        let contents = registrations.seal()
        let taken = commands.conflicts(contents.commands, owner: manifest.id)
        let takenActions = services.hub.takenActions(Array(contents.actions.keys), owner: manifest.id)
        let takenTopics = contents.topics.keys.filter { services.hub.owner(ofTopic: $0).map { $0.owner != manifest.id } ?? false }
        let problems = contents.problems + taken.map { "command \($0) belongs to another cog" }
            + takenActions.map { "gateway action \($0) belongs to another cog or the host" }
            + takenTopics.map { "topic \($0) belongs to another cog" }
        guard problems.isEmpty else {
            await door.drain(within: .zero, scope: scope)
            await instance.teardown()
            throw RegistrationProblems(problems: problems)
        }
        return LoadedCog(
            manifest: manifest, instance: instance, contents: contents, scope: scope, door: door, bus: services.bus,
            stats: stats[manifest.id])
    }

    /// Makes new instances live: one swap of the mounts moves their routes and their listeners together (the bus
    /// reads listeners from the mounts); commands, actions and topics follow in their registries. Then starts their
    /// tasks.
    private func activate(_ new: [String: LoadedCog]) {
        mounts.apply(new.mapValues { $0 })
        for (cog, instance) in new {
            commands.replace(owner: cog, door: instance.door, with: instance.commands)
            services.hub.setActions(instance.actions, owner: cog)
            services.hub.setTopics(instance.topics, owner: cog)
            if let section = instance.manifest.configSection {
                services.config.setHandlers(instance.configHandlers, for: section)
            }
            instance.startTasks(stats: stats[cog], logger: services.logger)
        }
    }

    /// Takes instances out of service: routes and listeners (one swap), commands, actions, topics and config handlers.
    private func deactivate(_ instances: [String: LoadedCog]) {
        mounts.apply(instances.mapValues { _ in nil })
        for (cog, instance) in instances {
            commands.replace(owner: cog, with: [])
            services.hub.removeAll(of: cog)
            if let section = instance.manifest.configSection { services.config.setHandlers(.init(), for: section) }
        }
    }

    private func setStatus(_ id: String, _ state: State, error: String? = nil) {
        statuses.withLock { $0[id] = Status(state: state, error: error) }
    }

    private func persistChoice(_ id: String, enabled: Bool, actor: String) async throws {
        _ = try await services.database.write { connection in
            try connection.execute(
                """
                INSERT INTO cog_states (cog, enabled, changed_by, changed_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (cog) DO UPDATE SET enabled = excluded.enabled, changed_by = excluded.changed_by,
                    changed_at = excluded.changed_at
                """, [id, enabled, actor, Date()])
        }
    }

    /// Audits every outcome, publishes the ones that changed something, and answers it.
    private func finish(_ outcome: Outcome, _ action: String, _ cogs: [String], _ actor: String) async -> Outcome {
        let detail: String? =
            switch outcome {
            case .failed(let reason), .refused(_, let reason, _): reason
            default: nil
            }
        let result = outcome.name
        for cog in cogs where catalogue.cogs[cog] != nil {  // a ring per cog of the catalogue, never per name asked for
            services.logs.append(
                cog, level: outcome.succeeded ? .info : .warning,
                "\(action) by \(actor): \(result)" + (detail.map { " — \($0)" } ?? ""))
        }
        do {
            _ = try await services.database.write { connection in
                try connection.execute(
                    "INSERT INTO cog_audit (at, actor, action, cogs, result, detail) VALUES (?, ?, ?, ?, ?, ?)",
                    [Date(), actor, action, cogs.joined(separator: ","), result, detail])
            }
        } catch {
            services.logger.error("cog audit not written", metadata: ["error": "\(error)"])
        }
        let event: String? =
            switch outcome {
            case .loaded: "cog.loaded"
            case .unloaded: "cog.unloaded"
            case .reloaded: "cog.reloaded"
            case .failed: "cog.failed"
            default: nil
            }
        if let event {
            for cog in cogs {
                services.bus.publish(
                    event,
                    payload: CogEventPayload(
                        cog: cog, operation: action, actor: actor, version: catalogue.manifest(cog)?.version, error: detail),
                    source: "host", correlationID: nil)
            }
        }
        return outcome
    }
}
