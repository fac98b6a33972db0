import Foundation
import Hummingbird
import PluginAPI

/// `GET /api/admin/stats` (the deployment at a glance) and `POST /api/admin/broadcast` (a message to everyone: the
/// live log, an `admin.broadcast` event and a push notification).
struct AdminRoutes {
    let plugins: PluginManager
    let database: any PluginAPI.Database
    let bus: EventBus
    let hub: GatewayHub
    let liveLog: LiveLogService
    let notifier: HostNotifier
    let recorder: AnalyticsRecorder
    let figures: @Sendable () -> SystemFigures

    struct Broadcast: Decodable {
        var title: String
        var message: String
        var priority: String?
    }

    static let priorities = ["low", "normal", "high"]

    func register(on routes: CoreRouter) {
        routes.add(
            .get, "/api/admin/stats", access: .admin,
            summary: "Uptime, guilds, members, tickets, cogs, event bus, gateway, push and analytics figures"
        ) { _, context in
            try await stats(context)
        }
        routes.add(
            .post, "/api/admin/broadcast", access: .admin,
            summary: "Tell everyone {title, message, priority: low|normal|high}: live log, admin.broadcast event, push",
            body: Broadcast.self
        ) { _, context, broadcast in
            let caller = try context.requireIdentity()
            let title = broadcast.title.trimmingCharacters(in: .whitespacesAndNewlines)
            let message = broadcast.message.trimmingCharacters(in: .whitespacesAndNewlines)
            let priority = broadcast.priority?.lowercased() ?? "normal"
            guard (1...200).contains(title.count) else {
                throw APIError(.badRequest, "invalid_field", "title must be 1 to 200 characters.", details: ["field": "title"])
            }
            guard (1...4000).contains(message.count) else {
                throw APIError(.badRequest, "invalid_field", "message must be 1 to 4000 characters.", details: ["field": "message"])
            }
            guard Self.priorities.contains(priority) else {
                throw APIError(.badRequest, "invalid_field", "priority must be low, normal or high.", details: ["field": "priority"])
            }
            let data: [String: JSONValue] = [
                "title": .string(title), "message": .string(message), "priority": .string(priority), "sent_by": .string(caller.username),
            ]
            await liveLog.system("admin.broadcast", data: data, severity: priority == "high" ? "warning" : "info", audience: "all")
            bus.publish("admin.broadcast", payload: JSONValue.object(data), source: "host", correlationID: context.requestID)
            notifier.notify(
                .everyone,
                PushNotification(
                    kind: "broadcast", title: title, body: message,
                    data: ["notification_type": "broadcast", "priority": priority, "open_tab": "home"]))
            return [
                "success": true, "title": .string(title), "priority": .string(priority),
                "gateway_connections": .int(Int64(hub.connected.count)), "push": .bool(notifier.isConfigured),
            ] as JSONValue
        }
    }

    private func stats(_ context: GuildhallRequestContext) async throws -> JSONValue {
        let now = figures()
        let counts = try await database.read { connection in
            (
                guilds: try connection.scalar("SELECT COUNT(*) FROM guilds WHERE is_active = 1") ?? 0,
                users: try connection.scalar("SELECT COUNT(*) FROM users WHERE is_active = 1") ?? 0,
                memberships: try connection.scalar("SELECT COUNT(*) FROM guild_members") ?? 0,
                devices: try connection.scalar("SELECT COUNT(*) FROM push_devices") ?? 0
            )
        }
        var cogFigures: [String: JSONValue] = [:], merged: [String: JSONValue] = [:]
        for instance in plugins.mounts.all {
            var own: [String: JSONValue] = [:]
            for read in instance.figures {
                do {
                    own.merge(try await read()) { $1 }
                } catch {
                    context.logger.warning("cog figures not read", metadata: ["cog": "\(instance.manifest.id)", "error": "\(error)"])
                }
            }
            cogFigures[instance.manifest.id] = .object(own)
            merged.merge(own) { first, _ in first }
        }
        let entries = plugins.entries()
        let push = notifier.figures
        var answer: [String: JSONValue] = [
            "bot_uptime": .int(now.uptimeSeconds), "uptime_seconds": .int(now.uptimeSeconds),
            "version": .string(GuildhallHost.version),
            "total_guilds": .int(counts.guilds), "total_members": .int(counts.users), "guild_memberships": .int(counts.memberships),
            "total_tickets": merged["total_tickets"] ?? .int(0), "open_tickets": merged["open_tickets"] ?? .int(0),
            "cogs_loaded": .int(now.cogsLoaded), "cogs_total": .int(Int64(entries.count)),
            "cogs": .object(cogFigures),
            "cog_states": .object(Dictionary(entries.map { ($0.name, JSONValue.string($0.state.rawValue)) }) { first, _ in first }),
            "event_bus": [
                "published": .int(now.eventsPublished), "delivered": .int(now.eventsDelivered), "failed": .int(now.eventsFailed),
            ],
            "gateway": [
                "connections": .int(now.gatewayConnections), "frames_in": .int(Int64(hub.traffic.framesIn.load(ordering: .relaxed))),
                "frames_out": .int(Int64(hub.traffic.framesOut.load(ordering: .relaxed))),
            ],
            "push": [
                "configured": .bool(notifier.isConfigured), "devices": .int(counts.devices), "sent": .int(Int64(push.sent)),
                "failed": .int(Int64(push.failed)), "tokens_removed": .int(Int64(push.removed)),
            ],
            "analytics": ["enabled": .bool(recorder.settings.enabled), "records_dropped": .int(Int64(recorder.dropped))],
            "resident_bytes": .int(now.residentBytes),
        ]
        for (key, value) in merged where answer[key] == nil { answer[key] = value }
        return .object(answer)
    }
}
