import Foundation
import Hummingbird
import PluginAPI

/// The analytics endpoints, admin only: document 004's `GET /api/stats` and `/api/active-sessions`, the admin app's
/// `GET /api/admin/active-sessions` (the same answer), and document 003's `/api/v1/analytics/*`.
struct AnalyticsRoutes {
    let store: AnalyticsStore
    let recorder: AnalyticsRecorder

    struct TrackedActivity: Decodable {
        var action: String
        var userID: Int64?
        var endpoint: String?
        var extraData: JSONValue?
        enum CodingKeys: String, CodingKey {
            case action, endpoint
            case userID = "user_id", extraData = "extra_data"
        }
    }

    /// `?days`: the period, in days back from now; all time without.
    struct PeriodQuery: Decodable, Sendable {
        var days: Int?
    }

    struct ActivitiesQuery: Decodable, Sendable {
        var skip: Int?
        var limit: Int?
        var userID: Int64?
        var action: String?
        enum CodingKeys: String, CodingKey { case skip, limit, action, userID = "user_id" }
    }

    struct TopQuery: Decodable, Sendable {
        var limit: Int?
        var days: Int?
    }

    /// Dates as ISO 8601 (`2026-11-29T12:00:00Z`) or days (`2026-11-29`).
    struct ConversationsQuery: Decodable, Sendable {
        var startDate: String?
        var endDate: String?
        var limit: Int?
        enum CodingKeys: String, CodingKey { case limit, startDate = "start_date", endDate = "end_date" }
    }

    func register(on routes: CoreRouter) {
        routes.add(
            .get, "/api/stats", access: .admin, summary: "Users, sessions and actions: ?days=7|30|90 (all time without)",
            query: PeriodQuery.self
        ) { _, _, query in
            let days = query.days
            if let days, ![7, 30, 90].contains(days) {
                throw APIError(.badRequest, "invalid_field", "days must be 7, 30 or 90 (or absent for all time).", details: ["field": "days"])
            }
            return try await store.overview(days: days)
        }
        for path in ["/api/active-sessions", "/api/admin/active-sessions"] {
            routes.add(.get, path, access: .admin, summary: "Sessions with a request within the session timeout, and recent logins") {
                _, _ in
                await recorder.flush()
                return try await store.activeSessions()
            }
        }
        routes.add(.get, "/api/v1/analytics/summary", access: .admin, summary: "Users, sessions, requests, errors, conversations") {
            _, _ in
            try await store.summary()
        }
        routes.add(
            .get, "/api/v1/analytics/users/activities", access: .admin,
            summary: "Logins, logouts and tracked activities, newest first: ?skip, ?limit (≤ 500), ?user_id, ?action",
            query: ActivitiesQuery.self
        ) { _, _, query in
            let paging = try Paging(limit: query.limit, offset: query.skip, defaultLimit: 50, max: 500)
            return try await store.activities(skip: paging.offset, limit: paging.limit, userID: query.userID, action: query.action)
        }
        routes.add(
            .get, "/api/v1/analytics/users/top", access: .admin, summary: "The most active users: ?limit (≤ 100), ?days",
            query: TopQuery.self
        ) { _, _, query in
            let limit = try Paging(limit: query.limit, offset: nil, defaultLimit: 10, max: 100).limit
            return try await store.topUsers(limit: limit, days: try Self.days(query.days))
        }
        routes.add(
            .get, "/api/v1/analytics/conversations", access: .admin,
            summary: "Ticket conversations: ?start_date, ?end_date (ISO 8601 or YYYY-MM-DD), ?limit (≤ 500)",
            query: ConversationsQuery.self
        ) { _, _, query in
            let limit = try Paging(limit: query.limit, offset: nil, defaultLimit: 100, max: 500).limit
            return try await store.conversations(
                start: try Self.date(query.startDate, "start_date"), end: try Self.date(query.endDate, "end_date"), limit: limit)
        }
        routes.add(
            .get, "/api/v1/analytics/api-usage", access: .admin,
            summary: "Per endpoint: requests, error rate, p50/p95 latency: ?days", query: PeriodQuery.self
        ) { _, _, query in
            try await store.apiUsage(days: try Self.days(query.days))
        }
        routes.add(
            .get, "/api/v1/analytics/daily-stats", access: .admin, summary: "Daily figures the scheduled job aggregated: ?days (default 30)",
            query: PeriodQuery.self
        ) { _, _, query in
            try await store.dailyStats(days: try Self.days(query.days) ?? 30)
        }
        routes.add(
            .post, "/api/v1/analytics/track/activity", access: .admin,
            summary: "Record an activity {action, user_id?, endpoint?, extra_data?}", body: TrackedActivity.self
        ) { request, context, activity in
            let caller = try context.requireIdentity()
            let action = activity.action.trimmingCharacters(in: .whitespaces)
            guard !action.isEmpty, action.count <= 64 else {
                throw APIError(.badRequest, "invalid_field", "action must be 1 to 64 characters.", details: ["field": "action"])
            }
            recorder.record(
                ActivityRecord(
                    at: Date(), userID: activity.userID ?? caller.userID,
                    username: activity.userID == nil ? caller.username : nil, action: action, endpoint: activity.endpoint,
                    client: ClientInfo(request, context), extraData: activity.extraData))
            await recorder.flush()
            return JSONResponse(.created, ["recorded": true, "action": .string(action)] as JSONValue)
        }
    }

    /// `?days`, a positive number of days; nil (all time) without.
    private static func days(_ days: Int?) throws -> Int? {
        guard let days else { return nil }
        guard (1...3660).contains(days) else {
            throw APIError(.badRequest, "invalid_field", "days must be 1 to 3660.", details: ["field": "days"])
        }
        return days
    }

    private static func date(_ text: String?, _ name: String) throws -> Date? {
        guard let text else { return nil }
        if let date = Timestamp.date(from: text) ?? Timestamp.date(from: text + "T00:00:00Z") { return date }
        throw APIError(
            .badRequest, "invalid_field", "\(name) must be an ISO 8601 date (2026-11-29 or 2026-11-29T12:00:00Z).",
            details: ["field": .string(name)])
    }
}

extension ClientInfo {
    /// What the client sends about itself: the admin app's `X-App-Version`, `X-Platform`, `X-Device-Info` and
    /// `X-Session-ID`, its address and user agent. Without `full`, only what the per-minute figures group by (app
    /// version and platform): an anonymous request has no session to describe, and reading the rest cost a health
    /// check a tenth of its time.
    init(_ request: Request, _ context: GuildhallRequestContext, full: Bool = true) {
        func header(_ name: HTTPField.Name, limit: Int = 256) -> String? {
            guard let value = request.headers[name], !value.isEmpty else { return nil }
            return value.utf8.count <= limit ? value : String(value.prefix(limit))
        }
        self.init(appVersion: header(.appVersion, limit: 64), platform: header(.platform, limit: 64))
        guard full else { return }
        deviceInfo = header(.deviceInfo)
        sessionID = header(.sessionID, limit: 128)
        ip = context.remoteAddress
        userAgent = header(.userAgent)
    }
}

extension HTTPField.Name {
    static let appVersion = Self("X-App-Version")!
    static let platform = Self("X-Platform")!
    static let deviceInfo = Self("X-Device-Info")!
    static let sessionID = Self("X-Session-ID")!
}
