import Foundation
import Hummingbird
import Logging
import PluginAPI
import Synchronization

/// A cog instance that set up successfully, with everything it registered made live: its router snapshot, its
/// listeners' ids on the bus, its commands and its task scope.
final class LoadedCog: Sendable {
    let manifest: CogManifest
    let instance: any Cog
    let scope: TaskScope
    let responder: RouterResponder<GuildhallRequestContext>
    let routes: RouteTable
    let listeners: [EventBus.Listener]
    let commands: [BotCommand]
    let tasks: [CogRegistrations.ScheduledTask]
    let configHandlers: ConfigStore.Handlers
    let actions: [String: GatewayHub.Action]
    let topics: [String: GatewayHub.Topic]
    let loadedAt = Date()
    /// Requests this instance is serving; teardown waits for them to finish.
    private let inFlight = Atomic<Int>(0)

    init(
        manifest: CogManifest, instance: any Cog, contents: CogRegistrations.Contents, scope: TaskScope, bus: EventBus,
        stats: CogStats
    ) {
        self.manifest = manifest
        self.instance = instance
        self.scope = scope
        var table = RouteTable()
        for route in contents.routes { table.add(route.info) }
        self.routes = table
        let router = Router(context: GuildhallRequestContext.self)
        router.add(middleware: JSONErrorMiddleware(errors: ErrorTranslator(routes: { [table] in table })))
        for route in contents.routes {
            router.on(RouterPath(route.info.path), method: route.declaration.method, use: route.handler)
        }
        self.responder = router.buildResponder()
        self.listeners = contents.listeners.map { listener in
            EventBus.Listener(
                id: bus.makeListenerID(), owner: manifest.id, pattern: listener.pattern, priority: listener.priority,
                scope: scope, handler: listener.handler, onFailure: { _ in stats.recordListenerFailure() })
        }
        self.commands = contents.commands
        self.tasks = contents.tasks
        self.configHandlers = contents.configHandlers
        self.actions = contents.actions
        self.topics = contents.topics
    }

    /// Serves one request on this instance.
    func respond(to request: Request, context: GuildhallRequestContext) async throws -> Response {
        inFlight.add(1, ordering: .relaxed)
        defer { inFlight.subtract(1, ordering: .relaxed) }
        return try await responder.respond(to: request, context: context)
    }

    /// Starts the scheduled tasks inside the cog's scope.
    func startTasks(stats: CogStats, logger: Logger) {
        for task in tasks {
            scope.launch {
                while !Task.isCancelled {
                    do {
                        try await Task.sleep(for: task.interval)
                    } catch {
                        return
                    }
                    do {
                        try await task.body()
                    } catch is CancellationError {
                        return
                    } catch {
                        stats.recordTaskFailure()
                        logger.error("scheduled task failed", metadata: ["task": "\(task.name)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Stops the tasks and listeners (waiting for running ones), lets requests in flight finish (up to
    /// `drainTimeout`), then runs the cog's teardown.
    func stop(drainTimeout: Duration = .seconds(10)) async {
        await scope.stop()
        let deadline = ContinuousClock.now + drainTimeout
        while inFlight.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
        await instance.teardown()
    }
}


/// Which cog owns which path prefix, and which instance of each cog is mounted now. Swapping instances is one
/// locked assignment, so a request sees either the old instance or the new one, never a mix.
final class CogMounts: Sendable {
    private let owners: [(prefix: String, cog: String)]
    private let mounted = Mutex<[String: LoadedCog]>([:])

    init(prefixes: [String: [String]]) {
        owners = prefixes.flatMap { cog, prefixes in prefixes.map { (prefix: $0, cog: cog) } }
            .sorted { $0.prefix.count > $1.prefix.count }
    }

    /// The cog owning `path`, by longest prefix.
    func owner(of path: String) -> String? {
        owners.first { PathPrefix.path(path, isUnder: $0.prefix) }?.cog
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

/// Sends requests under a cog's prefixes to the cog's mounted instance; 404 `cog_not_loaded` while it has none.
struct CogDispatcher: Sendable {
    let mounts: CogMounts
    let stats: [String: CogStats]

    /// The owning cog's response, or nil for a path no cog owns.
    func respond(to request: Request, context: GuildhallRequestContext) async throws -> Response? {
        guard let cog = mounts.owner(of: request.uri.path) else { return nil }
        guard let instance = mounts.instance(of: cog) else {
            throw APIError(
                .notFound, "cog_not_loaded", "The \(cog) cog is not loaded.", details: ["cog": .string(cog)])
        }
        let start = ContinuousClock.now
        do {
            let response = try await instance.respond(to: request, context: context)
            stats[cog]?.recordRequest(duration: ContinuousClock.now - start, failed: response.status.code >= 500)
            return response
        } catch {
            stats[cog]?.recordRequest(duration: ContinuousClock.now - start, failed: true)
            throw error
        }
    }
}
