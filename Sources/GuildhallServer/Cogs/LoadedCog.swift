import Foundation
import Hummingbird
import Logging
import PluginAPI
import Synchronization

/// A cog instance that set up successfully, with everything it registered made live: its router snapshot, its
/// listeners' ids on the bus, its commands, its task scope and the door all of them pass.
final class LoadedCog: Sendable {
    let manifest: CogManifest
    let instance: any CogInstance
    let scope: TaskScope
    let door: CogDoor
    let responder: RouterResponder<GuildhallRequestContext>
    let routes: RouteTable
    /// The routes as the cog declared them, for the API description.
    let declarations: [RouteDeclaration]
    let listeners: [EventBus.Listener]
    let commands: [BotCommand]
    let tasks: [CogRegistrations.ScheduledTask]
    let configHandlers: ConfigStore.Handlers
    /// What the cog reports in `GET /api/admin/stats`.
    let figures: [@Sendable () async throws -> [String: JSONValue]]
    let guildData: GuildDataHandlers?
    let actions: [String: GatewayHub.Action]
    let topics: [String: GatewayHub.Topic]
    let loadedAt = Date()

    init(
        manifest: CogManifest, instance: any CogInstance, contents: CogRegistrations.Contents, scope: TaskScope, door: CogDoor,
        bus: EventBus, stats: CogStats
    ) {
        self.manifest = manifest
        self.instance = instance
        self.scope = scope
        self.door = door
        var table = RouteTable()
        for route in contents.routes { table.add(route.info) }
        self.routes = table
        self.declarations = contents.routes.map(\.declaration)
        let router = Router(context: GuildhallRequestContext.self)
        router.add(middleware: JSONErrorMiddleware(errors: ErrorTranslator(routes: { [table] in table })))
        for route in contents.routes {
            router.on(RouterPath(route.info.path), method: route.declaration.method, use: route.handler)
        }
        self.responder = router.buildResponder()
        self.listeners = contents.listeners.map { listener in
            EventBus.Listener(
                id: bus.makeListenerID(), owner: manifest.id, pattern: listener.pattern, priority: listener.priority,
                scope: scope,
                handler: { event in
                    do {
                        try await door.enter { try await listener.handler(event) }
                    } catch is CogUnavailable {
                        // Unloading: the event is not this instance's to handle any more.
                    }
                }, onFailure: { _ in stats.recordListenerFailure() })
        }
        self.commands = contents.commands
        self.tasks = contents.tasks
        self.configHandlers = contents.configHandlers
        self.figures = contents.figures
        self.guildData = contents.guildData
        self.actions = contents.actions
        self.topics = contents.topics
    }

    /// Serves one request on this instance.
    func respond(to request: Request, context: GuildhallRequestContext) async throws -> Response {
        try await responder.respond(to: request, context: context)
    }

    /// Starts the scheduled tasks inside the cog's scope.
    func startTasks(stats: CogStats, logger: Logger) {
        let door = self.door
        for task in tasks {
            scope.launch {
                while !Task.isCancelled {
                    do {
                        try await Task.sleep(for: task.interval)
                    } catch {
                        return
                    }
                    do {
                        try await door.enter { try await task.body() }
                    } catch is CancellationError, is CogUnavailable {
                        return
                    } catch {
                        stats.recordTaskFailure()
                        logger.error("scheduled task failed", metadata: ["task": "\(task.name)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Closes the instance's door and waits for the work inside — requests, actions, commands, listeners, task runs,
    /// spawned work — to finish, up to `drainTimeout`; cancels what remains, then runs the cog's teardown.
    func stop(drainTimeout: Duration, logger: Logger? = nil) async {
        let cancelled = await door.drain(within: drainTimeout, scope: scope)
        if cancelled > 0 {
            logger?.warning("cancelled work still running at unload", metadata: ["cog": "\(manifest.id)", "pieces": "\(cancelled)"])
        }
        await instance.teardown()
    }
}


/// Which cog owns which path prefix, and which instance of each cog is mounted now. Swapping instances is one
/// locked assignment, so a request sees either the old instance or the new one, never a mix.
final class CogMounts: Sendable {
    private let owners: Mutex<[(prefix: String, cog: String)]>
    private let mounted = Mutex<[String: LoadedCog]>([:])

    init(prefixes: [String: [String]]) {
        owners = Mutex(Self.owners(prefixes))
    }

    /// Takes the prefixes of a changed catalogue (a cog installed or uninstalled).
    func setPrefixes(_ prefixes: [String: [String]]) {
        let table = Self.owners(prefixes)
        owners.withLock { $0 = table }
    }

    private static func owners(_ prefixes: [String: [String]]) -> [(prefix: String, cog: String)] {
        prefixes.flatMap { cog, prefixes in prefixes.map { (prefix: $0, cog: cog) } }
            .sorted { $0.prefix.count > $1.prefix.count }
    }

    /// The cog owning `path`, by longest prefix.
    func owner(of path: String) -> String? {
        owners.withLock { owners in owners.first { PathPrefix.path(path, isUnder: $0.prefix) }?.cog }
    }

    func instance(of cog: String) -> LoadedCog? {
        mounted.withLock { $0[cog] }
    }

    var all: [LoadedCog] { mounted.withLock { Array($0.values) } }

    /// Mounts, replaces (a value) or unmounts (nil) several cogs in one step.
    func apply(_ changes: [String: LoadedCog?]) {
        mounted.withLock { table in
            for (cog, instance) in changes { table[cog] = instance }
        }
    }
}

/// Sends requests under a cog's prefixes to the cog's mounted instance, through the one ``CogEntry``: 404
/// `cog_not_loaded` while it has none, and a request that met an instance whose door had just closed (a reload
/// swapped it out) is served by the instance mounted now. The caller is admitted inside the instance, where the
/// route and so its access are known.
struct CogDispatcher: Sendable {
    let mounts: CogMounts
    let stats: CogStatsTable
    let entry: CogEntry

    /// The owning cog's response, or nil for a path no cog owns.
    func respond(to request: Request, context: GuildhallRequestContext) async throws -> Response? {
        guard let cog = mounts.owner(of: request.uri.path) else { return nil }
        let start = ContinuousClock.now
        do {
            let response = try await entry.run(caller: nil, guild: nil) {
                guard let instance = mounts.instance(of: cog) else { throw Self.notLoaded(cog) }
                return CogEntry.Target(cog: cog, access: nil, door: instance.door) {
                    try await instance.respond(to: request, context: context)
                }
            }
            stats[cog].recordRequest(duration: ContinuousClock.now - start, failed: response.status.code >= 500)
            return response
        } catch {
            // A cog that is not loaded served nothing: its figures stay as they were.
            if error.code != "cog_not_loaded" { stats[cog].recordRequest(duration: ContinuousClock.now - start, failed: true) }
            throw error
        }
    }

    static func notLoaded(_ cog: String) -> APIError {
        APIError(.notFound, "cog_not_loaded", "The \(cog) cog is not loaded.", details: ["cog": .string(cog)])
    }
}
