import Foundation
import PluginAPI

/// The fields of each live-log message type (the live-log document's shapes), checked before a message is stored.
enum LiveLogSchema {
    enum Kind {
        case string, integer, number, boolean, object, array
        func accepts(_ value: JSONValue) -> Bool {
            switch (self, value) {
            case (.string, .string), (.integer, .int), (.number, .int), (.number, .double), (.boolean, .bool),
                (.object, .object), (.array, .array):
                true
            default: false
            }
        }
        var name: String {
            switch self {
            case .string: "a string"
            case .integer: "an integer"
            case .number: "a number"
            case .boolean: "a boolean"
            case .object: "an object"
            case .array: "an array"
            }
        }
    }

    struct Field {
        let name: String
        let kind: Kind
        let required: Bool
        var allowed: [String] = []
    }

    static let maxContentLength = 4000

    static let fields: [LiveLogType: [Field]] = [
        .user: [
            Field(name: "user_id", kind: .string, required: true), Field(name: "username", kind: .string, required: true),
            Field(name: "content", kind: .string, required: true), Field(name: "user_avatar", kind: .string, required: false),
            Field(name: "user_badge", kind: .string, required: false), Field(name: "metadata", kind: .object, required: false),
        ],
        .system: [
            Field(name: "event", kind: .string, required: true), Field(name: "data", kind: .object, required: false),
            Field(name: "severity", kind: .string, required: false, allowed: ["info", "warning", "error", "critical"]),
            // Who may see it: everyone signed in (default), staff (moderators and admins) or admins.
            Field(name: "audience", kind: .string, required: false, allowed: ["all", "staff", "admins"]),
        ],
        .dm: [
            Field(name: "from_user_id", kind: .string, required: true), Field(name: "from_username", kind: .string, required: true),
            Field(name: "to_user_id", kind: .string, required: true), Field(name: "content", kind: .string, required: true),
            Field(name: "read", kind: .boolean, required: false),
        ],
        .raid: [
            Field(name: "raid_id", kind: .string, required: true), Field(name: "raid_name", kind: .string, required: true),
            Field(name: "boss_name", kind: .string, required: true), Field(name: "difficulty", kind: .string, required: false),
            Field(name: "participants", kind: .array, required: false),
            Field(name: "status", kind: .string, required: true, allowed: ["preparing", "in_progress", "wipe", "victory"]),
            Field(name: "health_percentage", kind: .number, required: false),
            Field(name: "duration_seconds", kind: .integer, required: false), Field(name: "guild_id", kind: .string, required: false),
        ],
        .party: [
            Field(name: "party_id", kind: .string, required: true), Field(name: "leader_id", kind: .string, required: true),
            Field(name: "leader_name", kind: .string, required: true), Field(name: "member_count", kind: .integer, required: true),
            Field(
                name: "event", kind: .string, required: true,
                allowed: ["member_joined", "member_left", "member_promoted", "disbanded", "level_bonus"]),
            Field(name: "event_data", kind: .object, required: false),
        ],
        .guild: [
            Field(name: "guild_id", kind: .string, required: true), Field(name: "guild_name", kind: .string, required: true),
            Field(name: "guild_level", kind: .integer, required: false), Field(name: "event", kind: .string, required: true),
            Field(name: "event_data", kind: .object, required: false),
        ],
    ]

    /// Checks `message` against its type and answers it complete: with a fresh `id`, the current `timestamp`, and
    /// defaults for `severity`, `audience` and `read`. Unknown members are refused, so a typo is not stored silently.
    static func validate(_ message: JSONValue, now: Date = Date()) throws -> (type: LiveLogType, message: [String: JSONValue]) {
        guard case .object(var members) = message else {
            throw invalid("", "The message must be a JSON object.")
        }
        guard let typeName = members["type"]?.stringValue, let type = LiveLogType(rawValue: typeName) else {
            throw invalid("type", "type must be one of \(LiveLogType.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        let declared = fields[type]!
        for field in declared {
            guard let value = members[field.name], value != .null else {
                if field.required { throw invalid(field.name, "\(field.name) is required for \(typeName) messages.") }
                members[field.name] = nil
                continue
            }
            guard field.kind.accepts(value) else { throw invalid(field.name, "\(field.name) must be \(field.kind.name).") }
            if !field.allowed.isEmpty, let text = value.stringValue, !field.allowed.contains(text) {
                throw invalid(field.name, "\(field.name) must be one of \(field.allowed.joined(separator: ", ")).")
            }
        }
        if case .string(let content)? = members["content"] {
            guard !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw invalid("content", "content must not be empty.") }
            guard content.count <= maxContentLength else {
                throw invalid("content", "content is longer than \(maxContentLength) characters.")
            }
        }
        let known = Set(declared.map(\.name) + ["type", "id", "timestamp"])
        if let unknown = members.keys.sorted().first(where: { !known.contains($0) }) {
            throw invalid(unknown, "\(unknown) is not a field of \(typeName) messages.")
        }
        members["id"] = .string("\(idPrefix[type]!)_\(UUID().uuidString.lowercased())")
        members["timestamp"] = .string(Timestamp.string(from: now))
        switch type {
        case .system:
            members["severity"] = members["severity"] ?? "info"
            members["audience"] = members["audience"] ?? "all"
        case .dm: members["read"] = members["read"] ?? false
        default: break
        }
        return (type, members)
    }

    private static let idPrefix: [LiveLogType: String] = [
        .user: "msg", .system: "sys", .dm: "dm", .raid: "raid", .party: "party", .guild: "guild",
    ]

    private static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, "invalid_message", message, details: ["field": .string(field)])
    }
}
