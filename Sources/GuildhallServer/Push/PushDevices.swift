import Foundation
import PluginAPI

/// The devices people registered for push notifications, and each person's switches.
struct PushDevices: Sendable {
    let database: any PluginAPI.Database

    /// The switches a person has, all on until they change them: `notifications_enabled` turns every kind off.
    static let defaultSettings: [String: Bool] = [
        "notifications_enabled": true, "ticket_new_messages": true, "ticket_mentions": true, "ticket_created": true,
        "ticket_assigned": true, "broadcast": true,
    ]

    /// Registers `token` for `userID` (moving it from whoever had it: one device, one person).
    func register(token: String, userID: Int64, platform: String?, deviceInfo: String?) async throws {
        try await database.execute(
            """
            INSERT INTO push_devices (token, user_id, platform, device_info, registered_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, platform = coalesce(excluded.platform, platform),
                device_info = coalesce(excluded.device_info, device_info), registered_at = excluded.registered_at
            """, [token, userID, platform, deviceInfo, Date()])
    }

    /// Removes `token` if it is `userID`'s (nil: whoever's, for tokens FCM reports gone); answers whether it was there.
    @discardableResult
    func remove(token: String, userID: Int64?) async throws -> Bool {
        if let userID {
            return try await database.execute("DELETE FROM push_devices WHERE token = ? AND user_id = ?", [token, userID]) > 0
        }
        return try await database.execute("DELETE FROM push_devices WHERE token = ?", [token]) > 0
    }

    func tokens(of userID: Int64) async throws -> [String] {
        try await database.read { connection in
            try connection.rows("SELECT token FROM push_devices WHERE user_id = ? ORDER BY registered_at", [userID])
                .compactMap { $0["token"]?.stringValue }
        }
    }

    /// The devices of `audience` whose owner has `kind` (and notifications as a whole) switched on.
    func recipients(of audience: PushAudience, kind: String) async throws -> [(userID: Int64, token: String)] {
        let (filter, arguments): (String, [any SQLBindable]) =
            switch audience {
            case .users(let ids): ("d.user_id IN (\(ids.map { _ in "?" }.joined(separator: ",")))", ids)
            case .staff: ("u.role IN ('admin', 'moderator')", [])
            case .everyone: ("1", [])
            }
        if case .users(let ids) = audience, ids.isEmpty { return [] }
        let rows = try await database.read { [arguments] connection in
            try connection.rows(
                """
                SELECT d.user_id, d.token, s.settings FROM push_devices d JOIN users u ON u.id = d.user_id
                LEFT JOIN push_settings s ON s.user_id = d.user_id
                WHERE u.is_active = 1 AND \(filter)
                """, arguments)
        }
        return rows.compactMap { row in
            guard let user = row["user_id"]?.intValue, let token = row["token"]?.stringValue else { return nil }
            let settings = Self.settings(from: row["settings"]?.stringValue)
            guard settings["notifications_enabled"] != false, settings[kind] != false else { return nil }
            return (user, token)
        }
    }

    func settings(of userID: Int64) async throws -> [String: Bool] {
        let stored = try await database.read { connection in
            try connection.rows("SELECT settings FROM push_settings WHERE user_id = ?", [userID]).first?["settings"]?.stringValue
        }
        return Self.settings(from: stored)
    }

    /// Changes some of `userID`'s switches and answers all of them.
    func update(_ changes: [String: Bool], of userID: Int64) async throws -> [String: Bool] {
        var settings = try await settings(of: userID)
        settings.merge(changes) { $1 }
        let text = String(decoding: JSONValue.object(settings.mapValues(JSONValue.bool)).jsonData(), as: UTF8.self)
        try await database.execute(
            "INSERT INTO push_settings (user_id, settings) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings",
            [userID, text])
        return settings
    }

    private static func settings(from text: String?) -> [String: Bool] {
        var settings = defaultSettings
        if let text, case .object(let stored)? = try? JSONValue(parsing: Data(text.utf8)) {
            for (key, value) in stored { if case .bool(let flag) = value { settings[key] = flag } }
        }
        return settings
    }
}
