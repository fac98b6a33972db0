import Hummingbird
import PluginAPI
import Synchronization

/// The routes registered so far, readable while requests are served.
final class SharedRouteTable: Sendable {
    private let table = Mutex(RouteTable())

    var snapshot: RouteTable { table.withLock { $0 } }

    func add(_ route: RouteInfo) { table.withLock { $0.add(route) } }
}

/// The host's own routes, each registered with the access it requires and recorded in the route table.
/// Used while the application is built, then discarded.
final class CoreRouter {
    let router: Router<GuildhallRequestContext>
    let gate: AccessGate
    let table = SharedRouteTable()

    /// Creates the router with the host's middleware chain, which must be in place before any route is added.
    init(
        gate: AccessGate, maxBodyBytes: Int, corsOrigins: [String], mounts: CogMounts, stats: [String: CogStats],
        analytics: AnalyticsRecorder
    ) {
        self.gate = gate
        let router = Router(context: GuildhallRequestContext.self)
        if !corsOrigins.isEmpty { router.add(middleware: OriginPolicyMiddleware(origins: Set(corsOrigins))) }
        router.add(
            middleware: FrontDoorMiddleware(
                maxBodyBytes: maxBodyBytes, cogs: CogDispatcher(mounts: mounts, stats: stats),
                errors: ErrorTranslator(routes: { [table] in table.snapshot }), metrics: RequestMetrics(),
                analytics: analytics))
        self.router = router
    }

    /// Registers a core route; `handler` runs only for callers `access` admits, with their identity and guild set.
    func add<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        handler: @escaping @Sendable (Request, GuildhallRequestContext) async throws -> Output
    ) {
        table.add(RouteInfo(method: method.rawValue, path: path, access: access.label, summary: summary, cog: nil))
        let gate = self.gate
        router.on(RouterPath(path), method: method) { request, context in
            try await gate.serve(request, context: context, access: access, cog: nil) { request, context in
                try await handler(request, context).response(from: request, context: context)
            }
        }
    }
}
