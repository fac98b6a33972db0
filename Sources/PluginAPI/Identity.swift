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
    /// A signed-in caller whose role is at least the given one.
    case role(Role)

    /// Any signed-in user.
    public static let user = Access.role(.user)
    /// Moderators and admins.
    public static let moderator = Access.role(.moderator)
    /// Admins only.
    public static let admin = Access.role(.admin)

    /// Whether `identity` may pass.
    public func admits(_ identity: Identity?) -> Bool {
        switch self {
        case .public: true
        case .role(let required): identity.map { $0.role >= required } ?? false
        }
    }
}

/// The authenticated caller of a request, command or action.
public struct Identity: Sendable, Hashable, Codable {
    /// The user's id in the host's user table.
    public var userID: Int64
    /// The user's login name.
    public var username: String
    /// The user's global role.
    public var role: Role

    /// An identity; the host builds these from verified credentials.
    public init(userID: Int64, username: String, role: Role) {
        self.userID = userID
        self.username = username
        self.role = role
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case username, role
    }
}
