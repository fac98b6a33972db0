import Foundation
import Hummingbird
import Logging
import PluginAPI

/// `GET /api/logs?limit&cog&level&search`: the recent log records of the host and the cogs (the admin app's logs
/// screen), from the bounded rings `CogLogs` keeps.
struct LogRoutes {
    let logs: CogLogs

    /// `?limit&cog&level&search` (empty values count as absent).
    struct Query: Decodable, Sendable {
        var limit: Int?
        var cog: String?
        var level: String?
        var search: String?
    }

    func register(on routes: CoreRouter) {
        routes.add(
            .get, "/api/logs", access: .admin,
            summary: "Recent log records: ?limit (default 500), ?cog (a cog's id or host), ?level (and above), ?search (any case)",
            query: Query.self
        ) { _, _, query in
            let limit = try Paging(limit: query.limit, offset: nil, defaultLimit: 500, max: 2000).limit
            let level = try query.level.map(Self.level)
            let (entries, sources) = logs.search(source: query.cog, minimum: level, text: query.search, limit: limit)
            return [
                "logs": .array(entries.map { entry in
                    ["timestamp": .string(entry.record.timestamp), "level": .string(entry.record.level.uppercased()),
                     "message": .string(entry.record.message), "cog": .string(entry.source)]
                }),
                "available_cogs": .array(sources.map(JSONValue.string)), "count": .int(Int64(entries.count)),
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
