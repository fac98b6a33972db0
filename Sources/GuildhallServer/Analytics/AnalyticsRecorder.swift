import Foundation
import Logging
import PluginAPI
import Synchronization

/// Collects what analytics records — answered requests, logins and logouts, ticket conversations — in memory, and
/// writes it in one transaction per `flush_interval_ms` from a background task, so a request only appends to a
/// buffer. Requests are stored as per-minute aggregates (count, latency sum, maximum and histogram per endpoint,
/// status, user, guild, app version and platform); sessions are kept per client session (`X-Session-ID`) or token.
final class AnalyticsRecorder: Sendable {
    private struct Pending {
        var requests: [RequestRecord] = []
        var activities: [ActivityRecord] = []
        var conversationEvents: [Event] = []
        var endedSessions: [(digest: String, at: Date)] = []
        var dropped = 0
    }

    let settings: AnalyticsSettings
    private let database: any PluginAPI.Database
    private let logger: Logger
    private let pending = Mutex(Pending())
    private let writing = AsyncLock()
    /// Records dropped because the buffer was full, since start.
    private let droppedTotal = Atomic<Int>(0)

    init(settings: AnalyticsSettings, database: any PluginAPI.Database, logger: Logger) {
        self.settings = settings
        self.database = database
        self.logger = logger
    }

    var sessionTimeout: TimeInterval { TimeInterval(settings.sessionTimeoutMinutes * 60) }
    var dropped: Int { droppedTotal.load(ordering: .relaxed) }

    // MARK: - Recording (cheap; called on request paths)

    func record(_ request: RequestRecord) {
        guard settings.enabled else { return }
        let full = pending.withLock { pending in
            guard pending.requests.count < settings.bufferLimit else { return true }
            pending.requests.append(request)
            return false
        }
        if full { droppedTotal.add(1, ordering: .relaxed) }
    }

    func record(_ activity: ActivityRecord) {
        guard settings.enabled else { return }
        pending.withLock { $0.activities.append(activity) }
    }

    /// The sessions of the token with `digest` end now (its owner signed out).
    func endSessions(tokenDigest digest: String) {
        guard settings.enabled else { return }
        pending.withLock { $0.endedSessions.append((digest, Date())) }
    }

    /// Listens to the ticket events that make up conversations.
    func conversationListener(bus: EventBus) -> EventBus.Listener {
        EventBus.Listener(
            id: bus.makeListenerID(), owner: "host", pattern: "ticket.*", priority: 0, scope: nil,
            handler: { [self] event in
                guard settings.enabled else { return }
                pending.withLock { $0.conversationEvents.append(event) }
            }, onFailure: { _ in })
    }

    // MARK: - Writing

    /// Writes everything buffered so far in one transaction. Runs from the flush loop, and from tests and shutdown.
    func flush() async {
        await writing.withLock {
            let batch = pending.withLock { pending in
                var next = Pending()
                // The next second likely brings as many: grow the buffer once, not while requests append to it.
                next.requests.reserveCapacity(min(settings.bufferLimit, pending.requests.count + pending.requests.count / 4))
                swap(&pending, &next)
                return next
            }
            guard !(batch.requests.isEmpty && batch.activities.isEmpty && batch.conversationEvents.isEmpty && batch.endedSessions.isEmpty)
            else { return }
            let timeout = sessionTimeout
            do {
                try await database.write { connection in
                    try Self.writeUsage(batch.requests, connection)
                    try Self.writeSessions(batch.requests, ended: batch.endedSessions, timeout: timeout, connection)
                    try Self.writeActivities(batch.activities, connection)
                    try Self.writeConversations(batch.conversationEvents, connection)
                }
            } catch {
                logger.error("analytics records not written", metadata: ["error": "\(error)", "requests": "\(batch.requests.count)"])
            }
        }
    }

    /// Writes the buffer every `analytics.flush_interval_ms` while the host runs, and once more when it stops.
    var flushing: PeriodicService {
        PeriodicService(
            name: "analytics flush", interval: .milliseconds(max(10, settings.flushIntervalMilliseconds)),
            atStop: { await self.flush() }, work: { await self.flush() })
    }

    private struct UsageKey: Hashable {
        /// Minutes since 1970.
        var minute: Int64
        var method: String
        var route: String
        var status: Int
        var userID: Int64
        var guildID: Int64
        var appVersion: String
        var platform: String
    }

    private struct UsageFigures {
        var count: Int64 = 0
        var totalMilliseconds = 0.0
        var maxMilliseconds = 0.0
        var buckets = [Int64](repeating: 0, count: LatencyBuckets.count)

        mutating func add(_ milliseconds: Double) {
            count += 1
            totalMilliseconds += milliseconds
            maxMilliseconds = max(maxMilliseconds, milliseconds)
            buckets[LatencyBuckets.index(milliseconds: milliseconds)] += 1
        }
    }

    private static func writeUsage(_ requests: [RequestRecord], _ connection: any SQLConnection) throws {
        var usage: [UsageKey: UsageFigures] = [:]
        for request in requests {
            let key = UsageKey(
                minute: Int64((request.at.timeIntervalSince1970 / 60).rounded(.down)), method: request.method, route: request.route,
                status: request.status,
                userID: request.identity?.userID ?? 0, guildID: request.guildID ?? 0,
                appVersion: request.client.appVersion ?? "", platform: request.client.platform ?? "")
            let milliseconds = Double(request.latency.components.seconds) * 1000
                + Double(request.latency.components.attoseconds) / 1e15
            usage[key, default: UsageFigures()].add(milliseconds)
        }
        let columns = LatencyBuckets.columns
        let sql = """
            INSERT INTO analytics_api_usage (minute, method, route, status, user_id, guild_id, app_version, platform,
                count, latency_total_ms, latency_max_ms, \(columns.joined(separator: ", ")))
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(columns.map { _ in "?" }.joined(separator: ", ")))
            ON CONFLICT (minute, method, route, status, user_id, guild_id, app_version, platform) DO UPDATE SET
                count = count + excluded.count, latency_total_ms = latency_total_ms + excluded.latency_total_ms,
                latency_max_ms = max(latency_max_ms, excluded.latency_max_ms),
                \(columns.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", "))
            """
        for (key, figures) in usage {
            let head: [any SQLBindable] = [
                Timestamp.string(from: Date(timeIntervalSince1970: Double(key.minute) * 60)), key.method, key.route, key.status, key.userID, key.guildID, key.appVersion, key.platform,
                figures.count, figures.totalMilliseconds, figures.maxMilliseconds,
            ]
            try connection.execute(sql, head + figures.buckets.map { $0 as any SQLBindable })
        }
    }

    /// A session: the client's own id (scoped to the user) when it sends one, else the token.
    private struct SessionKey: Hashable {
        var userID: Int64
        var clientSession: String?
        var tokenDigest: String?

        /// As stored: `client:<user>:<id>` or `token:<digest>`.
        var text: String {
            if let clientSession { return "client:\(userID):\(clientSession.prefix(128))" }
            return "token:\(tokenDigest ?? "")"
        }
    }

    private struct SessionUpdate {
        var identity: Identity
        var tokenDigest: String?
        var first: Date
        var last: Date
        var count: Int64 = 0
        var method: String
        var route: String
        var client: ClientInfo

        /// Counts `request`; the latest request's endpoint and client details win, where it sent them.
        mutating func extend(with request: RequestRecord) {
            count += 1
            tokenDigest = tokenDigest ?? request.tokenDigest
            guard request.at >= last else { return }
            last = request.at
            method = request.method
            route = request.route
            let new = request.client
            client = ClientInfo(
                appVersion: new.appVersion ?? client.appVersion, platform: new.platform ?? client.platform,
                deviceInfo: new.deviceInfo ?? client.deviceInfo, sessionID: new.sessionID ?? client.sessionID, ip: new.ip ?? client.ip,
                userAgent: new.userAgent ?? client.userAgent)
        }
    }

    /// Signed-in requests extend their session (or start one when there is none, or it timed out); a sign-out ends
    /// the sessions of its token.
    private static func writeSessions(
        _ requests: [RequestRecord], ended: [(digest: String, at: Date)], timeout: TimeInterval, _ connection: any SQLConnection
    ) throws {
        var updates: [SessionKey: SessionUpdate] = [:]
        for request in requests {
            guard let identity = request.identity, identity.apiKey == nil else { continue }
            let session = request.client.sessionID.flatMap { $0.isEmpty ? nil : $0 }
            guard session != nil || request.tokenDigest != nil else { continue }
            let sessionKey = SessionKey(userID: identity.userID, clientSession: session, tokenDigest: session == nil ? request.tokenDigest : nil)
            updates[sessionKey, default: SessionUpdate(
                identity: identity, tokenDigest: request.tokenDigest, first: request.at, last: request.at, method: request.method,
                route: request.route, client: request.client)].extend(with: request)
        }
        for (sessionKey, update) in updates {
            let key = sessionKey.text
            let endpoint = "\(update.method) \(update.route)"
            let open = try connection.rows(
                "SELECT id, last_activity FROM analytics_sessions WHERE session_key = ? AND ended_at IS NULL", [key]
            ).first
            if let open, case .integer(let id)? = open["id"], case .text(let last)? = open["last_activity"],
                let lastDate = Timestamp.date(from: last), update.first.timeIntervalSince(lastDate) <= timeout
            {
                try connection.execute(
                    """
                    UPDATE analytics_sessions SET last_activity = ?, request_count = request_count + ?, last_endpoint = ?,
                        ip = coalesce(?, ip), user_agent = coalesce(?, user_agent), app_version = coalesce(?, app_version),
                        platform = coalesce(?, platform), device_info = coalesce(?, device_info)
                    WHERE id = ?
                    """,
                    [update.last, update.count, endpoint, update.client.ip, update.client.userAgent,
                     update.client.appVersion, update.client.platform, update.client.deviceInfo, id])
                continue
            }
            if open != nil {
                try connection.execute(
                    "UPDATE analytics_sessions SET ended_at = last_activity WHERE session_key = ? AND ended_at IS NULL", [key])
            }
            try connection.execute(
                """
                INSERT INTO analytics_sessions (session_key, token_digest, user_id, username, role, started_at, last_activity,
                    request_count, last_endpoint, ip, user_agent, app_version, platform, device_info)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [key, update.tokenDigest, update.identity.userID, update.identity.username,
                 update.identity.role.rawValue, update.first, update.last, update.count, endpoint, update.client.ip,
                 update.client.userAgent, update.client.appVersion, update.client.platform, update.client.deviceInfo])
        }
        for end in ended {
            try connection.execute(
                "UPDATE analytics_sessions SET ended_at = ? WHERE token_digest = ? AND ended_at IS NULL", [end.at, end.digest])
        }
    }



    private static func writeActivities(_ activities: [ActivityRecord], _ connection: any SQLConnection) throws {
        for activity in activities {
            try connection.execute(
                """
                INSERT INTO analytics_activities (at, user_id, username, action, endpoint, ip, user_agent, app_version,
                    platform, device_info, extra_data)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [activity.at, activity.userID, activity.username, activity.action, activity.endpoint, activity.client.ip,
                 activity.client.userAgent, activity.client.appVersion, activity.client.platform, activity.client.deviceInfo,
                 activity.extraData.map { String(decoding: $0.jsonData(), as: UTF8.self) }])
        }
    }

    /// Tickets as conversations: opened, each message (with how long it took to answer the other side), closed.
    private static func writeConversations(_ events: [Event], _ connection: any SQLConnection) throws {
        for event in events {
            guard let ticket = event.payload["ticket_id"]?.stringValue else { continue }
            let id = "ticket:\(ticket)"
            let author = event.payload["user_id"]?.stringValue.flatMap { Int64($0) }
            try connection.execute(
                "INSERT INTO analytics_conversations (conversation_id, kind, guild_id, opened_at) VALUES (?, 'ticket', ?, ?) ON CONFLICT DO NOTHING",
                [id, event.guildID, event.timestamp])
            switch event.name {
            case "ticket.opened", "ticket.message":
                let previous = try connection.rows(
                    "SELECT last_author_id, last_message_at FROM analytics_conversations WHERE conversation_id = ?", [id]
                ).first
                var responseSeconds: Double?
                if case .integer(let lastAuthor)? = previous?["last_author_id"], lastAuthor != author,
                    case .text(let lastAt)? = previous?["last_message_at"], let lastDate = Timestamp.date(from: lastAt)
                {
                    responseSeconds = max(0, event.timestamp.timeIntervalSince(lastDate))
                }
                try connection.execute(
                    "INSERT INTO analytics_messages (conversation_id, at, author_id, response_seconds) VALUES (?, ?, ?, ?)",
                    [id, event.timestamp, author, responseSeconds])
                try connection.execute(
                    """
                    UPDATE analytics_conversations SET messages = messages + 1, last_message_at = ?, last_author_id = ?,
                        first_response_seconds = coalesce(first_response_seconds, ?),
                        participants = CASE WHEN ? IS NULL OR instr(participants, ',' || ? || ',') > 0 THEN participants
                            ELSE participants || ? || ',' END
                    WHERE conversation_id = ?
                    """,
                    [event.timestamp, author, responseSeconds, author, author, author, id])
            case "ticket.closed":
                try connection.execute("UPDATE analytics_conversations SET closed_at = ? WHERE conversation_id = ?", [event.timestamp, id])
            case "ticket.reopened":
                try connection.execute("UPDATE analytics_conversations SET closed_at = NULL WHERE conversation_id = ?", [id])
            default:
                break
            }
        }
    }
}
