import Hummingbird
import PluginAPI
import Synchronization

/// The routes registered so far, readable while requests are served.
final class SharedRouteTable: Sendable {
    private let table = Mutex(RouteTable())

    var snapshot: RouteTable { table.withLock { $0 } }

    func add(_ route: RouteInfo) { table.withLock { $0.add(route) } }
}

/// The host's own routes, each registered with the access it requires and the types of its query and body, and
/// recorded in the route table and the API description. Used while the application is built, then discarded.
final class CoreRouter {
    let router: Router<GuildhallRequestContext>
    let admission: RequestAdmission
    let table = SharedRouteTable()
    /// The host's routes as the API description shows them.
    private(set) var operations: [APIDescription.Operation] = []

    /// Creates the router with the host's middleware chain, which must be in place before any route is added.
    init(
        admission: RequestAdmission, maxBodyBytes: Int, corsOrigins: [String], mounts: CogMounts, stats: CogStatsTable,
        analytics: AnalyticsRecorder
    ) {
        self.admission = admission
        let router = Router(context: GuildhallRequestContext.self)
        if !corsOrigins.isEmpty { router.add(middleware: OriginPolicyMiddleware(origins: Set(corsOrigins))) }
        router.add(
            middleware: FrontDoorMiddleware(
                maxBodyBytes: maxBodyBytes, cogs: CogDispatcher(mounts: mounts, stats: stats, entry: admission.entry),
                errors: ErrorTranslator(routes: { [table] in table.snapshot }), metrics: RequestMetrics(),
                analytics: analytics))
        self.router = router
    }

    /// Registers a core route that reads neither query nor body; `handler` runs only for callers `access` admits,
    /// with their identity and guild set.
    func add<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String, responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (Request, GuildhallRequestContext) async throws -> Output
    ) {
        add(method, path, access: access, summary: summary, query: None.self, responses: responses) { request, context, _ in
            try await handler(request, context)
        }
    }

    /// Registers a core route whose query string is decoded strictly as `Query` (400 `invalid_field` naming a bad
    /// parameter) before `handler` runs.
    func add<Query: Decodable & Sendable, Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String, query: Query.Type,
        responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (Request, GuildhallRequestContext, Query) async throws -> Output
    ) {
        describe(method, path, access: access, summary: summary, query: SchemaProbe.schema(of: Query.self), body: nil, responses: responses)
        let admission = self.admission
        // A GET route answers HEAD too (the front door sends no body back): the router matches by method.
        for method in method == .get ? [HTTPRequest.Method.get, .head] : [method] {
            router.on(RouterPath(path), method: method) { request, context in
                try await admission.serve(request, context: context, access: access, cog: nil) { request, context in
                    // Routes without a query skip building the items (a health check is polled hard).
                    let query =
                        Query.self == None.self
                        ? None() as! Query
                        : try RequestDecoding.query(
                            Query.self, from: QueryItems(request.uri.queryParameters.map { (String($0.key), String($0.value)) }))
                    return try await handler(request, context, query).response(from: request, context: context)
                }
            }
        }
    }

    /// Registers a core route whose JSON body is decoded strictly as `Body` (400 `invalid_json`, `invalid_field`
    /// naming the member, 413 past the size limit) before `handler` runs.
    func add<Body: Decodable & Sendable, Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String, body: Body.Type,
        responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (Request, GuildhallRequestContext, Body) async throws -> Output
    ) {
        describe(method, path, access: access, summary: summary, query: [:], body: SchemaProbe.schema(of: Body.self), responses: responses)
        let admission = self.admission
        router.on(RouterPath(path), method: method) { request, context in
            try await admission.serve(request, context: context, access: access, cog: nil) { request, context in
                let body = try await request.decodeJSON(Body.self, context: context)
                return try await handler(request, context, body).response(from: request, context: context)
            }
        }
    }

    private func describe(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String, query: JSONValue, body: JSONValue?,
        responses: [ResponseDescription]
    ) {
        table.add(RouteInfo(method: method.rawValue, path: path, access: access.label, summary: summary, cog: nil))
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
        }
        let parameters = segments.filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
        operations.append(
            APIDescription.Operation(
                tag: "host", method: method.rawValue, path: segments.joined(separator: "/"), access: access, summary: summary,
                parametersSchema: [
                    "type": "object", "properties": .object(Dictionary(uniqueKeysWithValues: parameters.map { ($0, ["type": "string"]) })),
                ],
                querySchema: query, bodySchema: body, streamedBodyTypes: [], responses: responses))
    }
}
