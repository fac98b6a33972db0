import Foundation
import PluginAPI

/// The combat log document's answer shape: every response names the guild it is about.
enum Answer {
    static func guild(_ guild: GuildScope, data: JSONValue, paging: Paging? = nil, total: Int? = nil) -> JSONValue {
        var answer: [String: JSONValue] = ["guild_id": .int(guild.id), "guild_name": .string(guild.name), "data": data]
        if let paging, let total {
            answer["pagination"] = [
                "limit": .int(Int64(paging.limit)), "offset": .int(Int64(paging.offset)), "total": .int(Int64(total)),
                "has_more": .bool(paging.hasMore(total: total)),
            ]
        }
        return .object(answer)
    }

    static func encode(_ value: some Encodable) throws -> JSONValue { try JSONValue(encoding: value) }
}

/// The path of a route about one record.
struct RecordPath: Decodable, Sendable {
    var id: Int64
}

/// Dates in queries: an ISO 8601 time or a `YYYY-MM-DD` day.
enum QueryDate {
    /// `text`'s time (for a day, its start or with `endOfDay` its last millisecond), else 400 naming `name`.
    static func parse(_ text: String?, _ name: String, endOfDay: Bool = false) throws -> Date? {
        guard let text else { return nil }
        if let date = Timestamp.date(from: text) { return date }
        if text.count == 10, let day = Timestamp.date(from: text + "T00:00:00.000Z") {
            return endOfDay ? day.addingTimeInterval(86_399.999) : day
        }
        throw invalid(name, "a date (2026-02-16 or 2026-02-16T23:02:12.178Z)")
    }

    static func invalid(_ name: String, _ expected: String) -> APIError {
        APIError(.badRequest, "invalid_field", "\(name) must be \(expected).", details: ["field": .string(name), "in": "query"])
    }
}
