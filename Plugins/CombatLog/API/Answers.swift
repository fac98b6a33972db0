import Foundation
import PluginAPI

/// The combat log document's answer shape: every response names the guild it is about.
enum Answer {
    static func guild(_ guild: GuildScope, data: JSONValue, paging: Paging? = nil, total: Int? = nil) -> JSONValue {
        var answer: [String: JSONValue] = ["guild_id": .int(guild.id), "guild_name": .string(guild.name), "data": data]
        if let paging, let total {
            answer["pagination"] = [
                "limit": .int(Int64(paging.limit)), "offset": .int(Int64(paging.offset)), "total": .int(Int64(total)),
                "has_more": .bool(paging.offset + paging.limit < total),
            ]
        }
        return .object(answer)
    }

    static func encode(_ value: some Encodable) throws -> JSONValue { try JSONValueEncoder().encode(value) }
}

/// Query-string values beyond paging.
enum Query {
    static func text(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[name[...]].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `true`/`false`/`1`/`0`, else 400 naming the parameter.
    static func bool(_ request: Request, _ name: String) throws -> Bool? {
        guard let text = text(request, name) else { return nil }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw invalid(name, "true or false")
        }
    }

    /// An ISO 8601 time or a `YYYY-MM-DD` day (its start, or with `endOfDay` its last millisecond), else 400.
    static func date(_ request: Request, _ name: String, endOfDay: Bool = false) throws -> Date? {
        guard let text = text(request, name) else { return nil }
        if let date = Timestamp.date(from: text) { return date }
        if text.count == 10, let day = Timestamp.date(from: text + "T00:00:00.000Z") {
            return endOfDay ? day.addingTimeInterval(86_399.999) : day
        }
        throw invalid(name, "a date (2026-02-16 or 2026-02-16T23:02:12.178Z)")
    }

    static func id(_ context: GuildhallRequestContext, _ name: String = "id") throws -> Int64 {
        guard let id = context.parameters.get(name, as: Int64.self) else {
            throw APIError.badRequest("invalid_id", "\(name) must be an integer id.")
        }
        return id
    }

    static func invalid(_ name: String, _ expected: String) -> APIError {
        APIError(.badRequest, "invalid_query", "\(name) must be \(expected).", details: ["field": .string(name)])
    }
}
