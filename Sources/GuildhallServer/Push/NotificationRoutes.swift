import Foundation
import Hummingbird
import PluginAPI

/// Push notification devices and switches: document 004's `register-token` and `test`, the admin app's `register`,
/// `unregister` and `settings`.
struct NotificationRoutes {
    let notifier: HostNotifier

    struct Registration: Decodable {
        var fcmToken: String
        var platform: String?
        var deviceInfo: String?
        enum CodingKeys: String, CodingKey {
            case fcmToken = "fcm_token", platform, deviceInfo = "device_info"
        }
    }

    struct Unregistration: Decodable {
        var fcmToken: String
        enum CodingKeys: String, CodingKey { case fcmToken = "fcm_token" }
    }

    struct TestMessage: Decodable {
        var fcmToken: String?
        var title: String?
        var body: String?
        enum CodingKeys: String, CodingKey { case fcmToken = "fcm_token", title, body }
    }

    func register(on routes: CoreRouter) {
        let devices = notifier.devices
        for path in ["/api/notifications/register-token", "/api/notifications/register"] {
            routes.add(
                .post, path, access: .user, summary: "Register this device's FCM token {fcm_token, platform?, device_info?}",
                body: Registration.self
            ) { _, context, registration in
                let caller = try context.requireIdentity()
                let token = try Self.token(registration.fcmToken)
                try await devices.register(
                    token: token, userID: caller.userID, platform: registration.platform.map { String($0.prefix(32)) },
                    deviceInfo: registration.deviceInfo.map { String($0.prefix(256)) })
                return ["success": true, "message": "Token registered"] as JSONValue
            }
        }
        routes.add(
            .post, "/api/notifications/unregister", access: .user, summary: "Forget this device's FCM token {fcm_token}",
            body: Unregistration.self
        ) { _, context, unregistration in
            let caller = try context.requireIdentity()
            let token = try Self.token(unregistration.fcmToken)
            let removed = try await devices.remove(token: token, userID: caller.userID)
            return ["success": true, "removed": .bool(removed)] as JSONValue
        }
        routes.add(
            .get, "/api/notifications/settings", access: .user,
            summary: "Your switches: notifications_enabled and one per kind, all booleans"
        ) { _, context in
            let caller = try context.requireIdentity()
            return JSONValue.object(try await devices.settings(of: caller.userID).mapValues(JSONValue.bool))
        }
        routes.add(
            .put, "/api/notifications/settings", access: .user, summary: "Change some of your switches {kind: bool, ...}",
            body: [String: JSONValue].self
        ) { _, context, members in
            let caller = try context.requireIdentity()
            var changes: [String: Bool] = [:]
            for (key, value) in members {
                guard PushDevices.defaultSettings[key] != nil || Self.isKindName(key) else {
                    throw APIError(.badRequest, "invalid_field", "\(key) is not a notification switch.", details: ["field": .string(key)])
                }
                guard case .bool(let flag) = value else {
                    throw APIError(.badRequest, "invalid_field", "\(key) must be true or false.", details: ["field": .string(key)])
                }
                changes[key] = flag
            }
            let settings = try await devices.update(changes, of: caller.userID)
            return ["success": true, "settings": .object(settings.mapValues(JSONValue.bool))] as JSONValue
        }
        routes.add(
            .post, "/api/notifications/test", access: .admin,
            summary: "Send a test notification {fcm_token?, title?, body?} to that device or to your own devices, and say what happened",
            body: TestMessage.self
        ) { _, context, message in
            let caller = try context.requireIdentity()
            guard notifier.isConfigured else {
                throw APIError(.serviceUnavailable, "push_not_configured", "Push notifications are not configured (the push section).")
            }
            let tokens: [String]
            if let given = message.fcmToken {
                tokens = [try Self.token(given)]
            } else {
                tokens = try await devices.tokens(of: caller.userID)
            }
            guard !tokens.isEmpty else {
                throw APIError(.notFound, "no_devices", "You have no registered device; send fcm_token or register one first.")
            }
            let results = await notifier.deliver(
                PushNotification(
                    kind: "test", title: message.title ?? "Test", body: message.body ?? "Test notification",
                    data: ["notification_type": "test"]),
                to: tokens)
            let sent = results.filter { $0.outcome == .sent }.count
            return [
                "success": .bool(sent > 0), "sent": .int(Int64(sent)), "failed": .int(Int64(results.count - sent)),
                "results": .array(results.map { result in
                    switch result.outcome {
                    case .sent: ["token": .string(String(result.token.prefix(12)) + "…"), "outcome": "sent"]
                    case .tokenGone: ["token": .string(String(result.token.prefix(12)) + "…"), "outcome": "token_removed"]
                    case .failed(let reason): ["token": .string(String(result.token.prefix(12)) + "…"), "outcome": "failed", "reason": .string(reason)]
                    }
                }),
            ] as JSONValue
        }
    }

    /// A cog's own notification kind: lower-case letters, digits and underscores.
    private static func isKindName(_ key: String) -> Bool {
        !key.isEmpty && key.count <= 64 && key.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }
    }

    private static func token(_ text: String) throws -> String {
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, token.utf8.count <= 4096, !token.contains(where: \.isWhitespace) else {
            throw APIError(.badRequest, "invalid_field", "fcm_token must be a device token.", details: ["field": "fcm_token"])
        }
        return token
    }
}
