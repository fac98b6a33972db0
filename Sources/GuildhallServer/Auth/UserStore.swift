import Foundation
import HummingbirdBcrypt
import NIOPosix
import PluginAPI
import Synchronization

/// A stored user. The password hash never leaves this type's store.
public struct UserRecord: Codable, Sendable {
    public var id: Int64
    public var username: String
    public var role: Role
    public var createdAt: Date
    /// A deactivated user cannot sign in, and their tokens stop working.
    public var isActive: Bool
    /// The Discord account the user signs in with, if they signed in with Discord.
    public var discordID: String?
    public var avatarURL: String?
    /// Moves on at each password reset: tokens carry the epoch they were issued in, and older ones stop working.
    public var sessionEpoch: Int64

    enum CodingKeys: String, CodingKey {
        case id, username, role
        case createdAt = "created_at", isActive = "is_active", discordID = "discord_id", avatarURL = "avatar_url"
        case sessionEpoch = "session_epoch"
    }

    public var identity: Identity { Identity(userID: id, username: username, role: role) }
}

/// Users with bcrypt password hashes. Hashing runs on NIO's thread pool, never on an event loop.
public struct UserStore: Sendable {
    let database: any PluginAPI.Database
    let bcryptCost: UInt8

    /// The most a password may be: bcrypt reads only 72 bytes, so longer ones would silently lose their tail.
    static let maxPasswordBytes = 72

    public init(database: any PluginAPI.Database, bcryptCost: UInt8) {
        self.database = database
        self.bcryptCost = bcryptCost
    }

    /// Creates `username` or, if it exists, sets its password and role; with `endingSessions`, an existing user's
    /// tokens stop working (a reset from the command line; not the startup's API_ADMIN_PASS, which sets the same
    /// password at every start). Answers the user.
    @discardableResult
    public func upsert(username: String, password: String, role: Role, endingSessions: Bool = false) async throws -> UserRecord {
        try Self.validate(username: username, password: password)
        let hash = try await NIOThreadPool.singleton.runIfActive { [bcryptCost] in Bcrypt.hash(password, cost: bcryptCost) }
        let now = Date()
        return try await database.write { connection in
            guard
                let user = try connection.queryOne(
                    UserRecord.self,
                    """
                    INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role,
                        updated_at = excluded.updated_at, session_epoch = session_epoch + ?
                    RETURNING \(Self.columns)
                    """, [username, hash, role.rawValue, now, now, endingSessions ? 1 : 0])
            else { throw APIError(.internalServerError, "internal_error", "The user was not stored.") }
            return user
        }
    }

    /// The user whose password matches, or nil. Takes as long for an unknown name as for a wrong password, so
    /// timing does not reveal which names exist.
    public func authenticate(username: String, password: String) async throws -> UserRecord? {
        struct Row: Decodable, Sendable {
            var id: Int64
            var username: String
            var role: Role
            var created_at: Date
            var password_hash: String
            var is_active: Bool
            var discord_id: String?
            var avatar_url: String?
            var session_epoch: Int64
        }
        let row = try await database.read { connection in
            try connection.queryOne(Row.self, "SELECT * FROM users WHERE username = ?", [username])
        }
        let stored = row?.password_hash
        let matches = try await NIOThreadPool.singleton.runIfActive { [bcryptCost] in
            password.utf8.count <= Self.maxPasswordBytes && Bcrypt.verify(password, hash: stored ?? Self.decoyHash(cost: bcryptCost))
        }
        guard let row, matches else { return nil }
        return UserRecord(
            id: row.id, username: row.username, role: row.role, createdAt: row.created_at, isActive: row.is_active,
            discordID: row.discord_id, avatarURL: row.avatar_url, sessionEpoch: row.session_epoch)
    }

    /// The user with `id`, or nil.
    public func find(username: String) async throws -> UserRecord? {
        try await database.read { connection in
            try connection.queryOne(UserRecord.self, "SELECT \(Self.columns) FROM users WHERE username = ?", [username])
        }
    }

    public func find(id: Int64) async throws -> UserRecord? {
        try await database.read { connection in
            try connection.queryOne(UserRecord.self, "SELECT \(Self.columns) FROM users WHERE id = ?", [id])
        }
    }

    static let columns = "id, username, role, created_at, is_active, discord_id, avatar_url, session_epoch"

    /// A page of users by id, and how many there are.
    public func list(limit: Int, offset: Int) async throws -> (users: [UserRecord], total: Int) {
        try await database.read { connection in
            let users = try connection.query(
                UserRecord.self, "SELECT \(Self.columns) FROM users ORDER BY id LIMIT ? OFFSET ?", [Int64(limit), Int64(offset)])
            return (users, Int(try connection.scalar("SELECT COUNT(*) FROM users") ?? 0))
        }
    }

    /// Creates a new user; 409 `username_taken` if the name exists.
    public func create(username: String, password: String, role: Role) async throws -> UserRecord {
        try Self.validate(username: username, password: password)
        let hash = try await NIOThreadPool.singleton.runIfActive { [bcryptCost] in Bcrypt.hash(password, cost: bcryptCost) }
        let now = Date()
        return try await database.write { connection in
            guard try connection.scalar("SELECT COUNT(*) FROM users WHERE username = ?", [username]) == 0 else {
                throw APIError.conflict("username_taken", "There is a user named \(username) already.")
            }
            guard
                let user = try connection.queryOne(
                    UserRecord.self,
                    "INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING \(Self.columns)",
                    [username, hash, role.rawValue, now, now])
            else { throw APIError(.internalServerError, "internal_error", "The user was not stored.") }
            return user
        }
    }

    /// The user linked to Discord account `discordID`, created on first sign-in (named after the Discord account,
    /// with a suffix if a local user has that name, and no usable password) and given `role` and `avatar` each time:
    /// the Discord server's roles decide.
    public func signIn(discordID: String, name: String, avatar: String?, role: Role) async throws -> UserRecord {
        let now = Date()
        let relink: @Sendable (any SQLConnection) throws -> UserRecord? = { connection in
            try connection.queryOne(
                UserRecord.self,
                "UPDATE users SET role = ?, avatar_url = ?, updated_at = ? WHERE discord_id = ? RETURNING \(Self.columns)",
                [role.rawValue, avatar, now, discordID])
        }
        if let linked = try await database.write(relink) { return linked }
        // A first sign-in: the password hash (bcrypt, slow by design) is made only now, never to be used.
        let unusable = try await NIOThreadPool.singleton.runIfActive { [bcryptCost] in Bcrypt.hash(UUID().uuidString + UUID().uuidString, cost: bcryptCost) }
        let base = String(name.filter { $0.isLetter || $0.isNumber || "._-".contains($0) }.prefix(48))
        return try await database.write { connection in
            // Another sign-in of the same account may have created the user meanwhile.
            if let linked = try relink(connection) { return linked }
            let candidates = [base, "\(base)-\(discordID.suffix(4))", "discord-\(discordID)"].filter { !$0.isEmpty }
            guard let username = try candidates.first(where: { try connection.scalar("SELECT COUNT(*) FROM users WHERE username = ?", [$0]) == 0 })
            else { throw APIError.conflict("username_taken", "No free user name for this Discord account.") }
            guard
                let created = try connection.queryOne(
                    UserRecord.self,
                    """
                    INSERT INTO users (username, password_hash, role, created_at, updated_at, discord_id, avatar_url)
                    VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING \(Self.columns)
                    """, [username, unusable, role.rawValue, now, now, discordID, avatar])
            else { throw APIError(.internalServerError, "internal_error", "The user was not stored.") }
            return created
        }
    }

    /// Changes role and/or active state; nil if there is no such user.
    public func update(_ id: Int64, role: Role?, isActive: Bool?) async throws -> UserRecord? {
        try await database.write { connection in
            try connection.queryOne(
                UserRecord.self,
                """
                UPDATE users SET role = COALESCE(?, role), is_active = COALESCE(?, is_active), updated_at = ? WHERE id = ?
                RETURNING \(Self.columns)
                """, [role?.rawValue, isActive, Date(), id])
        }
    }

    /// Sets a new password and ends the user's sessions (their tokens stop working); false if there is no such user.
    public func resetPassword(_ id: Int64, to password: String) async throws -> Bool {
        guard password.count >= 8, password.utf8.count <= Self.maxPasswordBytes else {
            throw APIError.badRequest("weak_password", "A password is 8 to 72 bytes long.")
        }
        let hash = try await NIOThreadPool.singleton.runIfActive { [bcryptCost] in Bcrypt.hash(password, cost: bcryptCost) }
        return try await database.execute(
            "UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1, updated_at = ? WHERE id = ?", [hash, Date(), id]) > 0
    }

    /// Deletes a user; false if there was none.
    public func delete(_ id: Int64) async throws -> Bool {
        try await database.execute("DELETE FROM users WHERE id = ?", [id]) > 0
    }

    static func validate(username: String, password: String) throws {
        guard (1...64).contains(username.count), username.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
            throw APIError.badRequest("invalid_username", "A user name is 1 to 64 letters, digits, '.', '_' or '-'.")
        }
        guard password.count >= 8, password.utf8.count <= maxPasswordBytes else {
            throw APIError.badRequest("weak_password", "A password is 8 to 72 bytes long.")
        }
    }

    /// A valid hash of a random string at the deployment's cost, verified against when the user does not exist: a
    /// cheaper one would tell by its speed which names exist. Made once per cost.
    private static func decoyHash(cost: UInt8) -> String {
        decoys.withLock { decoys in
            if let hash = decoys[cost] { return hash }
            let hash = Bcrypt.hash(UUID().uuidString, cost: cost)
            decoys[cost] = hash
            return hash
        }
    }
    private static let decoys = Mutex<[UInt8: String]>([:])
}
