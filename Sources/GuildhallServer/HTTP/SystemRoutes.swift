import Foundation
import Hummingbird
import PluginAPI

/// Health checks and the route listing.
struct SystemRoutes {
    let plugins: PluginManager
    let coreRoutes: SharedRouteTable

    struct RouteList: ResponseEncodable {
        var routes: [RouteInfo]
    }

    func register(on routes: CoreRouter) {
        for path in ["/api/health", "/health"] {
            routes.add(.get, path, access: .public, summary: "Liveness: ok, the version and how many cogs are loaded") { _, _ in
                // Built as a JSON value, not through Encodable: health checks are polled hard and this halves their cost.
                [
                    "status": "ok", "timestamp": .string(Timestamp.string(from: Date())), "version": .string(GuildhallHost.version),
                    "cogs_loaded": .int(Int64(plugins.loadedCount)),
                ] as JSONValue
            }
        }
        routes.add(.get, "/api/routes", access: .admin, summary: "Every route the host and the loaded cogs serve") { _, _ in
            let cogRoutes = plugins.mounts.all.flatMap(\.routes.routes)
            return RouteList(routes: (coreRoutes.snapshot.routes + cogRoutes).sorted { ($0.path, $0.method) < ($1.path, $1.method) })
        }
    }
}
