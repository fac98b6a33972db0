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

    func register(on routes: CoreRouter) {
        routes.add(.get, "/api/stats", access: .admin, summary: "Users, sessions and actions: ?days=7|30|90 (all time without)") {
            request, _ in
            let days = try Self.integer(request, "days")
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
            summary: "Logins, logouts and tracked activities, newest first: ?skip, ?limit (≤ 500), ?user_id, ?action"
        ) { request, _ in
            let skip = try Self.integer(request, "skip") ?? 0, limit = try Self.integer(request, "limit") ?? 50
            guard skip >= 0, (1...500).contains(limit) else {
                throw APIError(.badRequest, "invalid_field", "skip must be ≥ 0 and limit 1 to 500.", details: ["field": "limit"])
            }
            let userID = try Self.integer(request, "user_id").map(Int64.init)
            let action = request.uri.queryParameters["action"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            return try await store.activities(skip: skip, limit: limit, userID: userID, action: action)
        }
        routes.add(
            .get, "/api/v1/analytics/users/top", access: .admin, summary: "The most active users: ?limit (≤ 100), ?days"
        ) { request, _ in
            let limit = try Self.integer(request, "limit") ?? 10
            guard (1...100).contains(limit) else {
                throw APIError(.badRequest, "invalid_field", "limit must be 1 to 100.", details: ["field": "limit"])
            }
            return try await store.topUsers(limit: limit, days: try Self.days(request))
        }
        routes.add(
            .get, "/api/v1/analytics/conversations", access: .admin,
            summary: "Ticket conversations: ?start_date, ?end_date (ISO 8601 or YYYY-MM-DD), ?limit (≤ 500)"
        ) { request, _ in
            let limit = try Self.integer(request, "limit") ?? 100
            guard (1...500).contains(limit) else {
                throw APIError(.badRequest, "invalid_field", "limit must be 1 to 500.", details: ["field": "limit"])
            }
            return try await store.conversations(
                start: try Self.date(request, "start_date"), end: try Self.date(request, "end_date"), limit: limit)
        }
        routes.add(
            .get, "/api/v1/analytics/api-usage", access: .admin,
            summary: "Per endpoint: requests, error rate, p50/p95 latency: ?days"
        ) { request, _ in
            try await store.apiUsage(days: try Self.days(request))
        }
        routes.add(
            .get, "/api/v1/analytics/daily-stats", access: .admin, summary: "Daily figures the scheduled job aggregated: ?days (default 30)"
        ) { request, _ in
            try await store.dailyStats(days: try Self.days(request) ?? 30)
        }
        routes.add(
            .post, "/api/v1/analytics/track/activity", access: .admin,
            summary: "Record an activity {action, user_id?, endpoint?, extra_data?}"
        ) { request, context in
            let activity = try await request.decodeJSON(TrackedActivity.self, context: context)
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

    private static func integer(_ request: Request, _ name: String) throws -> Int? {
        try Paging.integer(request, name)
    }

    /// `?days`, a positive number of days; nil (all time) without.
    private static func days(_ request: Request) throws -> Int? {
        guard let days = try integer(request, "days") else { return nil }
        guard (1...3660).contains(days) else {
            throw APIError(.badRequest, "invalid_field", "days must be 1 to 3660.", details: ["field": "days"])
        }
        return days
    }

    private static func date(_ request: Request, _ name: String) throws -> Date? {
        guard let text = request.uri.queryParameters[name[...]].map(String.init), !text.isEmpty else { return nil }
        if let date = Timestamp.date(from: text) ?? Timestamp.date(from: text + "T00:00:00Z") { return date }
        throw APIError(
            .badRequest, "invalid_field", "\(name) must be an ISO 8601 date (2026-11-29 or 2026-11-29T12:00:00Z).",
            details: ["field": .string(name)])
    }
}

extension ClientInfo {
    /// What the client sends about itself: the admin app's `X-App-Version`, `X-Platform`, `X-Device-Info` and
    /// `X-Session-ID`, its address and user agent.
    init(_ request: Request, _ context: GuildhallRequestContext) {
        func header(_ name: HTTPField.Name, limit: Int = 256) -> String? {
            guard let value = request.headers[name], !value.isEmpty else { return nil }
            return String(value.prefix(limit))
        }
        self.init(
            appVersion: header(.appVersion, limit: 64), platform: header(.platform, limit: 64), deviceInfo: header(.deviceInfo),
            sessionID: header(.sessionID, limit: 128), ip: context.remoteAddress, userAgent: header(.userAgent))
    }
}

extension HTTPField.Name {
    static let appVersion = Self("X-App-Version")!
    static let platform = Self("X-Platform")!
    static let deviceInfo = Self("X-Device-Info")!
    static let sessionID = Self("X-Session-ID")!
}
