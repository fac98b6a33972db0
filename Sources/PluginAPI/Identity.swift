/// A person's global role. Each role includes the rights of the ones below it: admin ⊃ moderator ⊃ user.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    /// A member: their own data only.
    case user
    /// Staff: manages other users' tickets and reads analytics.
    case moderator
    /// Everything, including cogs, config and users.
    case admin

    private var rank: Int {
        switch self {
        case .user: 0
        case .moderator: 1
        case .admin: 2
        }
    }

    /// Orders roles by rights: user < moderator < admin.
    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    /// The permission names reported at login (`["all"]` for admins), as in the HazeBot API.
    public var permissions: [String] {
        switch self {
        case .admin: ["all"]
        case .moderator: ["tickets", "users", "analytics:read"]
        case .user: ["tickets:own"]
        }
    }
}

/// Who may call a route, run a command or invoke an action. Every registration declares one.
public enum Access: Sendable, Hashable {
    /// Anyone, without credentials (health checks, login).
    case `public`
    /// A signed-in person whose role is at least the given one. Guild API keys never pass.
    case role(Role)
    /// A caller acting in a guild: a guild API key holding the permission, or a signed-in person of at least
    /// `minimumRole` who belongs to the guild (see ``GuildScope``). The host resolves the guild before the handler
    /// runs and puts it in ``CogRequest/guild`` (and ``GatewayCall/guild``); a cog filters its data by that guild, never by a
    /// parameter. (An admin in several guilds who names none passes with no guild; `requireGuild()` answers 400.)
    case guild(GuildPermission, minimumRole: Role = .user)

    /// Any signed-in user.
    public static let user = Access.role(.user)
    /// Moderators and admins.
    public static let moderator = Access.role(.moderator)
    /// Admins only.
    public static let admin = Access.role(.admin)

    /// Why `identity` may not pass — 401 `missing_token` without one, 403 `missing_permission` for a key that
    /// lacks the guild permission, `api_key_not_allowed` for a key on a route for people, `forbidden` for a role
    /// too low — or nil when it may. The host applies this one rule on every surface.
    package func refusal(for identity: Identity?) -> APIError? {
        guard !admits(identity) else { return nil }
        guard let identity else { return APIError.signInFirst }
        switch self {
        case .guild(let permission, _) where identity.apiKey != nil:
            return APIError(
                .forbidden, "missing_permission", "This API key lacks the '\(permission)' permission.",
                details: ["permission": .string(permission.rawValue)])
        case .role where identity.apiKey != nil:
            return APIError(
                .forbidden, "api_key_not_allowed", "This route is for signed-in people; guild API keys may call guild routes only.")
        default:
            return APIError.forbidden()
        }
    }

    /// Whether `identity` may pass.
    public func admits(_ identity: Identity?) -> Bool {
        switch self {
        case .public: true
        case .role(let required): identity.map { $0.apiKey == nil && $0.role >= required } ?? false
        case .guild(let permission, let minimumRole):
            identity.map { $0.apiKey.map { $0.permissions.contains(permission) } ?? ($0.role >= minimumRole) } ?? false
        }
    }
}

/// The authenticated caller of a request, command or action: a signed-in person, or a guild API key.
public struct Identity: Sendable, Hashable, Codable {
    /// The user's id in the host's user table; 0 for an API key.
    public var userID: Int64
    /// The user's login name; `api-key:<id>` for an API key.
    public var username: String
    /// The user's global role; `user` for an API key.
    public var role: Role
    /// Set when a guild API key, not a person, is calling. Such callers pass ``Access/guild(_:)`` only.
    public var apiKey: APIKeyGrant?

    /// An identity; the host builds these from verified credentials.
    public init(userID: Int64, username: String, role: Role, apiKey: APIKeyGrant? = nil) {
        self.userID = userID
        self.username = username
        self.role = role
        self.apiKey = apiKey
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case username, role
        case apiKey = "api_key"
    }
}

/// What a guild API key may do, named by the admin who created it: `stream`, `query`, `upload`, or a cog's own.
public struct GuildPermission: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The permission's name.
    public var rawValue: String
    /// The permission called `rawValue`.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A permission written as a literal: `"upload"`.
    public init(stringLiteral value: String) { self.rawValue = value }
    /// The permission's name.
    public var description: String { rawValue }

    /// Open the gateway and receive the guild's live events.
    public static let stream: GuildPermission = "stream"
    /// Read the guild's data.
    public static let query: GuildPermission = "query"
    /// Send data in (combat logs, messages).
    public static let upload: GuildPermission = "upload"

    /// Reads the permission's name.
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    /// Writes the permission's name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The guild API key behind an ``Identity``.
public struct APIKeyGrant: Sendable, Hashable, Codable {
    /// The key's id (not its secret).
    public var id: Int64
    /// The guild the key belongs to; every request made with it acts in this guild.
    public var guildID: Int64
    /// What the key may do.
    public var permissions: Set<GuildPermission>

    /// A grant; the host builds these from a verified key.
    public init(id: Int64, guildID: Int64, permissions: Set<GuildPermission>) {
        self.id = id
        self.guildID = guildID
        self.permissions = permissions
    }

    enum CodingKeys: String, CodingKey {
        case id, permissions
        case guildID = "guild_id"
    }
}

/// The guild a request, action, command or event acts in, resolved by the host from the caller's credentials:
/// a key's own guild, or for a person the guild named by the `X-Guild-Id` header (or `?guild_id=`) that they
/// belong to, else their only guild, else the default guild when they belong to none.
public struct GuildScope: Sendable, Hashable, Codable {
    /// The guild's id: filter the cog's rows by it.
    public var id: Int64
    /// The guild's name, for responses.
    public var name: String

    /// A scope; the host builds these.
    public init(id: Int64, name: String) {
        self.id = id
        self.name = name
    }

    /// The guild every deployment has from its first run.
    public static let defaultGuildID: Int64 = 1
}
