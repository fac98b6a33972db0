import Foundation
import Hummingbird
import Logging
import PluginAPI

/// `GET /api/logs?limit&cog&level&search`: the recent log records of the host and the cogs (the admin app's logs
/// screen), from the bounded rings `CogLogs` keeps.
struct LogRoutes {
    let logs: CogLogs

    func register(on routes: CoreRouter) {
        routes.add(
            .get, "/api/logs", access: .admin,
            summary: "Recent log records: ?limit (default 500), ?cog (a cog's id or host), ?level (and above), ?search (any case)"
        ) { request, _ in
            let limit = try Paging(request, defaultLimit: 500, max: 2000).limit
            let query = request.uri.queryParameters
            let source = query["cog"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            let level = try query["level"].map(String.init).flatMap { $0.isEmpty ? nil : try Self.level($0) }
            let search = query["search"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            let entries = logs.search(source: source, minimum: level, text: search, limit: limit)
            return [
                "logs": .array(entries.map { entry in
                    ["timestamp": .string(entry.record.timestamp), "level": .string(entry.record.level.uppercased()),
                     "message": .string(entry.record.message), "cog": .string(entry.source)]
                }),
                "available_cogs": .array(logs.sources.map(JSONValue.string)), "count": .int(Int64(entries.count)),
            ] as JSONValue
        }
    }

    /// A level by name, in any case (`WARN` for warning too); 400 `invalid_field` otherwise.
    static func level(_ name: String) throws -> Logger.Level {
        let lowered = name.lowercased()
        if let level = Logger.Level(rawValue: lowered == "warn" ? "warning" : lowered) { return level }
        throw APIError(
            .badRequest, "invalid_field", "level must be one of: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")).",
            details: ["field": "level"])
    }
}
