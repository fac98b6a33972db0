import Foundation
import PluginAPI

/// Reads what ``AnalyticsRecorder`` stored, for the analytics endpoints, and keeps it tidy: the daily job folds each
/// day into `analytics_daily`, snapshots the system, ends timed-out sessions and deletes records past retention.
struct AnalyticsStore: Sendable {
    let database: any PluginAPI.Database
    let settings: AnalyticsSettings

    private func cutoff(days: Int?, now: Date = Date()) -> String {
        guard let days else { return "" }
        return Timestamp.string(from: now.addingTimeInterval(-Double(days) * 86_400))
    }

    private var activeSince: String {
        Timestamp.string(from: Date().addingTimeInterval(-TimeInterval(settings.sessionTimeoutMinutes * 60)))
    }

    // MARK: - Document 004

    /// `GET /api/stats`: users, sessions and actions over the last `days` (all time when nil).
    func overview(days: Int?) async throws -> JSONValue {
        let since = cutoff(days: days), weekAgo = cutoff(days: 7)
        return try await database.read { connection in
            let users = try connection.scalar("SELECT COUNT(*) FROM users") ?? 0
            let active = try connection.scalar(
                "SELECT COUNT(DISTINCT user_id) FROM analytics_sessions WHERE last_activity >= ?", [since]) ?? 0
            let activeWeek = try connection.scalar(
                "SELECT COUNT(DISTINCT user_id) FROM analytics_sessions WHERE last_activity >= ?", [weekAgo]) ?? 0
            let sessions = try connection.scalar("SELECT COUNT(*) FROM analytics_sessions WHERE started_at >= ?", [since]) ?? 0
            let duration = try connection.rows(
                """
                SELECT avg((julianday(coalesce(ended_at, last_activity)) - julianday(started_at)) * 86400) AS seconds
                FROM analytics_sessions WHERE started_at >= ?
                """, [since]
            ).first?["seconds"]?.doubleValue ?? 0
            let actions = try connection.scalar(
                "SELECT coalesce(sum(count), 0) FROM analytics_api_usage WHERE minute >= ? AND user_id != 0", [since]) ?? 0
            let logins = try connection.scalar(
                "SELECT COUNT(*) FROM analytics_activities WHERE action = 'login' AND at >= ?", [since]) ?? 0
            return [
                "days": days.map { .int(Int64($0)) } ?? .null,
                "total_users": .int(users), "active_users": .int(active), "active_users_7d": .int(activeWeek),
                "total_sessions": .int(sessions), "avg_session_duration": .int(Int64(duration.rounded())),
                "total_actions": .int(actions), "total_logins": .int(logins),
            ]
        }
    }

    /// The sessions with a request within the session timeout, newest first, with what the admin app and
    /// document 004 read of each, and the latest logins and logouts.
    func activeSessions(now: Date = Date()) async throws -> JSONValue {
        let since = activeSince
        let (rows, recent) = try await database.read { connection in
            (
                try connection.rows(
                    """
                    SELECT id, user_id, username, role, started_at, last_activity, request_count, ip, user_agent,
                        app_version, platform, device_info, last_endpoint
                    FROM analytics_sessions WHERE ended_at IS NULL AND last_activity >= ? ORDER BY last_activity DESC LIMIT 500
                    """, [since]),
                try connection.rows(
                    "SELECT username, action, endpoint, at FROM analytics_activities ORDER BY id DESC LIMIT 20", [])
            )
        }
        let sessions: [JSONValue] = rows.map { row in
            let started = row["started_at"]?.stringValue.flatMap(Timestamp.date(from:)) ?? now
            let last = row["last_activity"]?.stringValue.flatMap(Timestamp.date(from:)) ?? now
            let device = row["device_info"]?.stringValue
            return [
                "session_id": .string("sess_\(row["id"]?.intValue ?? 0)"),
                "user_id": .string(String(row["user_id"]?.intValue ?? 0)),
                "discord_id": .string(String(row["user_id"]?.intValue ?? 0)),
                "username": .string(row["username"]?.stringValue ?? ""), "role": .string(row["role"]?.stringValue ?? "user"),
                "started_at": .string(Timestamp.string(from: started)),
                "last_activity": .string(Timestamp.string(from: last)), "last_seen": .string(Timestamp.string(from: last)),
                "seconds_ago": .int(Int64(max(0, now.timeIntervalSince(last)).rounded())),
                "duration": .int(Int64(max(0, last.timeIntervalSince(started)).rounded())),
                "request_count": .int(row["request_count"]?.intValue ?? 0),
                "ip": Self.text(row["ip"]), "user_agent": Self.text(row["user_agent"]),
                "last_endpoint": Self.text(row["last_endpoint"]), "app_version": Self.text(row["app_version"]),
                "platform": Self.text(row["platform"]), "device_info": Self.text(row["device_info"]),
                "is_emulator": .bool(Self.isEmulator(device)),
            ]
        }
        let activity: [JSONValue] = recent.map { row in
            [
                "username": Self.text(row["username"]), "display_name": Self.text(row["username"]), "avatar_url": .null,
                "action": Self.text(row["action"]), "endpoint": Self.text(row["endpoint"]), "timestamp": Self.text(row["at"]),
            ]
        }
        return [
            "total_active": .int(Int64(sessions.count)), "sessions": .array(sessions), "recent_activity": .array(activity),
            "checked_at": .string(Timestamp.string(from: now)),
        ]
    }

    /// Whether a device description names an emulator or simulator, as the admin app's live users screen marks them.
    static func isEmulator(_ device: String?) -> Bool {
        guard let device = device?.lowercased() else { return false }
        return ["emulator", "simulator", "sdk_gphone", "generic_x86", "android sdk built for"].contains { device.contains($0) }
    }

    private static func text(_ value: SQLValue?) -> JSONValue {
        guard let value, value != .null else { return .null }
        return value.json
    }

    // MARK: - Document 003

    func summary() async throws -> JSONValue {
        let since = activeSince, today = Timestamp.string(from: Calendar.utc.startOfDay(for: Date()))
        return try await database.read { connection in
            let usage = try connection.rows(
                "SELECT coalesce(sum(count), 0) AS requests, coalesce(sum(CASE WHEN status >= 500 THEN count END), 0) AS errors, coalesce(sum(latency_total_ms), 0) AS total FROM analytics_api_usage",
                [])[0]
            let requests = usage["requests"]?.intValue ?? 0, errors = usage["errors"]?.intValue ?? 0
            return [
                "total_users": .int(try connection.scalar("SELECT COUNT(*) FROM users") ?? 0),
                "active_users_today": .int(
                    try connection.scalar("SELECT COUNT(DISTINCT user_id) FROM analytics_sessions WHERE last_activity >= ?", [today]) ?? 0),
                "active_sessions": .int(
                    try connection.scalar(
                        "SELECT COUNT(*) FROM analytics_sessions WHERE ended_at IS NULL AND last_activity >= ?", [since]) ?? 0),
                "total_sessions": .int(try connection.scalar("SELECT COUNT(*) FROM analytics_sessions") ?? 0),
                "total_logins": .int(try connection.scalar("SELECT COUNT(*) FROM analytics_activities WHERE action = 'login'") ?? 0),
                "total_requests": .int(requests),
                "error_rate": .double(requests == 0 ? 0 : Double(errors) / Double(requests)),
                "avg_latency_ms": .double(requests == 0 ? 0 : (usage["total"]?.doubleValue ?? 0) / Double(requests)),
                "total_conversations": .int(try connection.scalar("SELECT COUNT(*) FROM analytics_conversations") ?? 0),
                "total_messages": .int(try connection.scalar("SELECT coalesce(sum(messages), 0) FROM analytics_conversations") ?? 0),
            ]
        }
    }

    /// Logins, logouts and tracked activities, newest first.
    func activities(skip: Int, limit: Int, userID: Int64?, action: String?) async throws -> JSONValue {
        var conditions: [String] = [], arguments: [any SQLBindable] = []
        if let userID { conditions.append("user_id = ?"); arguments.append(userID) }
        if let action { conditions.append("action = ?"); arguments.append(action) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let (total, rows) = try await database.read { [arguments] connection in
            (
                try connection.scalar("SELECT COUNT(*) FROM analytics_activities \(filter)", arguments) ?? 0,
                try connection.rows(
                    """
                    SELECT id, at, user_id, username, action, endpoint, ip, user_agent, app_version, platform, device_info,
                        extra_data FROM analytics_activities \(filter) ORDER BY id DESC LIMIT ? OFFSET ?
                    """, arguments + [limit, skip])
            )
        }
        let items: [JSONValue] = rows.map { row in
            var item = row.mapValues(\.json)
            item["timestamp"] = item.removeValue(forKey: "at") ?? .null
            if let extra = row["extra_data"]?.stringValue { item["extra_data"] = (try? JSONValue(parsing: Data(extra.utf8))) ?? .string(extra) }
            return .object(item)
        }
        return ["activities": .array(items), "total": .int(total), "skip": .int(Int64(skip)), "limit": .int(Int64(limit))]
    }

    /// The users with the most requests over `days`, with their logins and when they were last seen.
    func topUsers(limit: Int, days: Int?) async throws -> JSONValue {
        let since = cutoff(days: days)
        let rows = try await database.read { connection in
            try connection.rows(
                """
                SELECT u.user_id, coalesce(users.username, '(deleted)') AS username, u.requests,
                    (SELECT COUNT(*) FROM analytics_activities a WHERE a.user_id = u.user_id AND a.action = 'login' AND a.at >= ?) AS logins,
                    (SELECT max(last_activity) FROM analytics_sessions s WHERE s.user_id = u.user_id) AS last_seen
                FROM (SELECT user_id, sum(count) AS requests FROM analytics_api_usage WHERE user_id != 0 AND minute >= ?
                      GROUP BY user_id) u
                LEFT JOIN users ON users.id = u.user_id
                ORDER BY u.requests DESC, u.user_id LIMIT ?
                """, [since, since, limit])
        }
        return ["users": .array(rows.map { .object($0.mapValues(\.json)) }), "days": days.map { .int(Int64($0)) } ?? .null]
    }

    /// Ticket conversations opened between `start` and `end`: messages, participants, first response time.
    func conversations(start: Date?, end: Date?, limit: Int) async throws -> JSONValue {
        let from = start.map(Timestamp.string(from:)) ?? "", to = end.map(Timestamp.string(from:)) ?? "9999"
        let (rows, totals) = try await database.read { connection in
            (
                try connection.rows(
                    """
                    SELECT conversation_id, kind, guild_id, opened_at, last_message_at, closed_at, messages, participants,
                        first_response_seconds FROM analytics_conversations
                    WHERE opened_at >= ? AND opened_at < ? ORDER BY opened_at DESC LIMIT ?
                    """, [from, to, limit]),
                try connection.rows(
                    """
                    SELECT COUNT(*) AS conversations, coalesce(sum(messages), 0) AS messages,
                        avg(first_response_seconds) AS first_response
                    FROM analytics_conversations WHERE opened_at >= ? AND opened_at < ?
                    """, [from, to])[0]
            )
        }
        let count = totals["conversations"]?.intValue ?? 0, messages = totals["messages"]?.intValue ?? 0
        let items: [JSONValue] = rows.map { row in
            var item = row.mapValues(\.json)
            let ids = (row["participants"]?.stringValue ?? "").split(separator: ",").compactMap { Int64($0) }
            item["participants"] = .array(ids.map { .string(String($0)) })
            item["participant_count"] = .int(Int64(ids.count))
            item["last_author_id"] = nil
            return .object(item)
        }
        return [
            "conversations": .array(items), "total": .int(count), "total_messages": .int(messages),
            "avg_messages": .double(count == 0 ? 0 : Double(messages) / Double(count)),
            "avg_first_response_seconds": totals["first_response"]?.json ?? .null,
        ]
    }

    /// Per endpoint (method and route template) over `days`: requests, errors (5xx), error rate, latencies.
    func apiUsage(days: Int?) async throws -> JSONValue {
        let since = cutoff(days: days)
        let buckets = LatencyBuckets.columns.map { "sum(\($0)) AS \($0)" }.joined(separator: ", ")
        let rows = try await database.read { connection in
            try connection.rows(
                """
                SELECT method, route, sum(count) AS count, sum(CASE WHEN status >= 500 THEN count ELSE 0 END) AS errors,
                    sum(CASE WHEN status >= 400 AND status < 500 THEN count ELSE 0 END) AS client_errors,
                    sum(latency_total_ms) AS total_ms, max(latency_max_ms) AS max_ms, \(buckets)
                FROM analytics_api_usage WHERE minute >= ? GROUP BY method, route ORDER BY count DESC
                """, [since])
        }
        let endpoints: [JSONValue] = rows.map { row in
            let count = row["count"]?.intValue ?? 0, errors = row["errors"]?.intValue ?? 0
            let histogram = LatencyBuckets.columns.map { row[$0]?.intValue ?? 0 }
            func rounded(_ value: Double?) -> JSONValue { value.map { .double(($0 * 1000).rounded() / 1000) } ?? .null }
            return [
                "method": row["method"]?.json ?? .null, "endpoint": row["route"]?.json ?? .null,
                "count": .int(count), "errors": .int(errors), "client_errors": row["client_errors"]?.json ?? .int(0),
                "error_rate": .double(count == 0 ? 0 : Double(errors) / Double(count)),
                "avg_ms": rounded(count == 0 ? nil : (row["total_ms"]?.doubleValue ?? 0) / Double(count)),
                "p50_ms": rounded(LatencyBuckets.quantile(0.5, of: histogram)),
                "p95_ms": rounded(LatencyBuckets.quantile(0.95, of: histogram)),
                "max_ms": rounded(row["max_ms"]?.doubleValue),
            ]
        }
        return ["endpoints": .array(endpoints), "days": days.map { .int(Int64($0)) } ?? .null]
    }

    /// The daily figures the scheduled job aggregated, newest first.
    func dailyStats(days: Int) async throws -> JSONValue {
        let since = String(cutoff(days: days).prefix(10))
        let rows = try await database.read { connection in
            try connection.rows("SELECT * FROM analytics_daily WHERE day >= ? ORDER BY day DESC", [since])
        }
        return ["days": .array(rows.map { .object($0.mapValues(\.json)) })]
    }

    // MARK: - Housekeeping

    /// Folds `day` (`YYYY-MM-DD`, UTC) into `analytics_daily`, replacing what an earlier run wrote for it.
    func aggregate(day: String) async throws {
        let start = "\(day)T00:00:00.000Z", end = "\(day)T99"
        _ = try await database.write { connection in
            try connection.execute(
                """
                INSERT INTO analytics_daily (day, requests, errors, avg_latency_ms, active_users, logins, sessions,
                    avg_session_seconds, conversations, messages, updated_at)
                SELECT ?,
                    (SELECT coalesce(sum(count), 0) FROM analytics_api_usage WHERE minute >= ?1 AND minute < ?2),
                    (SELECT coalesce(sum(count), 0) FROM analytics_api_usage WHERE minute >= ?1 AND minute < ?2 AND status >= 500),
                    (SELECT coalesce(sum(latency_total_ms) / nullif(sum(count), 0), 0) FROM analytics_api_usage
                        WHERE minute >= ?1 AND minute < ?2),
                    (SELECT COUNT(DISTINCT user_id) FROM analytics_api_usage WHERE minute >= ?1 AND minute < ?2 AND user_id != 0),
                    (SELECT COUNT(*) FROM analytics_activities WHERE at >= ?1 AND at < ?2 AND action = 'login'),
                    (SELECT COUNT(*) FROM analytics_sessions WHERE started_at >= ?1 AND started_at < ?2),
                    (SELECT coalesce(avg((julianday(coalesce(ended_at, last_activity)) - julianday(started_at)) * 86400), 0)
                        FROM analytics_sessions WHERE started_at >= ?1 AND started_at < ?2),
                    (SELECT COUNT(*) FROM analytics_conversations WHERE opened_at >= ?1 AND opened_at < ?2),
                    (SELECT COUNT(*) FROM analytics_messages WHERE at >= ?1 AND at < ?2),
                    ?3
                ON CONFLICT (day) DO UPDATE SET requests = excluded.requests, errors = excluded.errors,
                    avg_latency_ms = excluded.avg_latency_ms, active_users = excluded.active_users, logins = excluded.logins,
                    sessions = excluded.sessions, avg_session_seconds = excluded.avg_session_seconds,
                    conversations = excluded.conversations, messages = excluded.messages, updated_at = excluded.updated_at
                """.replacingOccurrences(of: "SELECT ?,", with: "SELECT ?4,"),
                [start, end, Date(), day])
        }
    }

    /// Ends sessions idle past the timeout and deletes records older than the retention.
    func tidy(now: Date = Date()) async throws {
        let idle = Timestamp.string(from: now.addingTimeInterval(-TimeInterval(settings.sessionTimeoutMinutes * 60)))
        let old = Timestamp.string(from: now.addingTimeInterval(-Double(settings.retentionDays) * 86_400))
        try await database.write { connection in
            try connection.execute("UPDATE analytics_sessions SET ended_at = last_activity WHERE ended_at IS NULL AND last_activity < ?", [idle])
            try connection.execute("DELETE FROM analytics_sessions WHERE last_activity < ?", [old])
            try connection.execute("DELETE FROM analytics_api_usage WHERE minute < ?", [old])
            try connection.execute("DELETE FROM analytics_activities WHERE at < ?", [old])
            try connection.execute("DELETE FROM analytics_messages WHERE at < ?", [old])
            try connection.execute("DELETE FROM analytics_system WHERE at < ?", [old])
            try connection.execute("DELETE FROM analytics_conversations WHERE opened_at < ? AND closed_at IS NOT NULL", [old])
        }
    }

    /// Stores one snapshot of the system's figures (what document 003's SystemMetrics model holds).
    func snapshot(_ figures: SystemFigures) async throws {
        try await database.execute(
            """
            INSERT INTO analytics_system (at, uptime_seconds, resident_bytes, gateway_connections, cogs_loaded,
                events_published, events_failed) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (at) DO NOTHING
            """,
            [figures.at, figures.uptimeSeconds, figures.residentBytes, figures.gatewayConnections, figures.cogsLoaded,
             figures.eventsPublished, figures.eventsFailed])
    }
}

/// The process's figures at one moment, for `/api/admin/stats` and the system snapshots.
struct SystemFigures: Sendable {
    var at: Date
    var uptimeSeconds: Int64
    var residentBytes: Int64
    var gatewayConnections: Int64
    var cogsLoaded: Int64
    var eventsPublished: Int64
    var eventsDelivered: Int64
    var eventsFailed: Int64
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}

extension SQLValue {
    var stringValue: String? { json.stringValue }
    var intValue: Int64? { json.intValue }
    var doubleValue: Double? { json.doubleValue }
}
