import Foundation
import Hummingbird
import PluginAPI

/// `POST /api/auth/login`, `/verify-token`, `/refresh`, `/logout`; `GET /api/ping`, `/api/auth/me`,
/// `/api/users/me`, `/api/users/{id}`.
struct AuthRoutes {
    let users: UserStore
    let tokens: TokenService
    let authenticator: Authenticator
    let hub: GatewayHub
    let analytics: AnalyticsRecorder
    let perAddress: RateLimiter
    let perUsername: RateLimiter
    /// `auth.allow_registration`.
    let allowRegistration: Bool

    struct Credentials: Decodable {
        var username: String
        var password: String
    }

    /// The login and refresh answer, as the HazeBot API gives it (plus the expiry, the user's id and what the
    /// admin app reads after a refresh: `discord_id`, `role_name`).
    struct Session: ResponseEncodable {
        var token: String
        var user: String
        var userID: Int64
        var discordID: String
        var role: Role
        var roleName: String
        var permissions: [String]
        var expiresAt: Date

        enum CodingKeys: String, CodingKey {
            case token, user, role, permissions
            case userID = "user_id", discordID = "discord_id", roleName = "role_name"
            case expiresAt = "expires_at"
        }

        init(token: String, expires: Date, identity: Identity) {
            self.token = token
            self.user = identity.username
            self.userID = identity.userID
            self.discordID = AuthRoutes.appUserID(identity)
            self.role = identity.role
            self.roleName = AuthRoutes.roleName(identity.role)
            self.permissions = identity.role.permissions
            self.expiresAt = expires
        }
    }

    /// The id the admin app knows a person by (its `discord_id`, compared with message authors and sent when
    /// claiming): their user id as a string, the `author_id` their messages carry.
    static func appUserID(_ identity: Identity) -> String { String(identity.userID) }

    static func roleName(_ role: Role) -> String {
        switch role {
        case .admin: "Administrator"
        case .moderator: "Moderator"
        case .user: "User"
        }
    }

    /// A user as the API shows one (here and in `/api/v1/users`).
    struct UserView: ResponseEncodable {
        var userID: Int64
        var username: String
        var role: Role
        var permissions: [String]
        var isActive: Bool
        var createdAt: Date

        enum CodingKeys: String, CodingKey {
            case username, role, permissions
            case userID = "user_id", isActive = "is_active"
            case createdAt = "created_at"
        }

        init(_ user: UserRecord) {
            userID = user.id
            username = user.username
            role = user.role
            permissions = user.role.permissions
            isActive = user.isActive
            createdAt = user.createdAt
        }
    }

    func register(on routes: CoreRouter) {
        routes.add(
            .post, "/api/auth/login", access: .public, summary: "Exchange a user name and password for a token", body: Credentials.self
        ) { request, context, credentials in
            try await login(credentials, request, context)
        }
        routes.add(
            .post, "/api/auth/register", access: .public,
            summary: "Create your own account {username, password} and sign in (when auth.allow_registration is on)",
            body: Credentials.self
        ) { request, context, credentials in
            guard allowRegistration else {
                throw APIError(.forbidden, "registration_disabled", "Accounts are created by an admin here.")
            }
            if let wait = perAddress.attempt(context.remoteAddress ?? "unknown") {
                let seconds = max(1, Int(wait.components.seconds) + 1)
                throw APIError(
                    .tooManyRequests, "rate_limited", "Too many attempts; try again in \(seconds) s.", headers: [.retryAfter: String(seconds)])
            }
            let user = try await users.create(username: credentials.username, password: credentials.password, role: .user)
            let (token, expires) = try await tokens.issue(for: user.identity, epoch: user.sessionEpoch)
            analytics.record(
                ActivityRecord(
                    at: Date(), userID: user.id, username: user.username, action: "register", endpoint: "/api/auth/register",
                    client: ClientInfo(request, context)))
            return JSONResponse(.created, Session(token: token, expires: expires, identity: user.identity))
        }
        routes.add(.post, "/api/auth/verify-token", access: .user, summary: "200 if the bearer token is valid, else 401") {
            _, context in
            let identity = try context.requireIdentity()
            return ["valid": true, "user": .string(identity.username), "role": .string(identity.role.rawValue)] as JSONValue
        }
        routes.add(.post, "/api/auth/refresh", access: .user, summary: "A fresh token for a valid one") { _, context in
            let identity = try context.requireIdentity()
            // The token was checked against the user's current session epoch on the way in; the new one carries it.
            guard let user = try await users.find(id: identity.userID) else {
                throw APIError.unauthorized("user_not_found", "The token's user no longer exists or was deactivated.")
            }
            let (token, expires) = try await tokens.issue(for: identity, epoch: user.sessionEpoch)
            return Session(token: token, expires: expires, identity: identity)
        }
        routes.add(.get, "/api/ping", access: .user, summary: "200 while the bearer token is valid (the app's check at start)") {
            _, context in
            _ = try context.requireIdentity()
            return ["status": "ok", "time": .string(Timestamp.string(from: Date()))] as JSONValue
        }
        routes.add(
            .get, "/api/auth/me", access: .user,
            summary: "Who the token is: user id, discord_id, role, role name, permissions, auth type, avatar"
        ) { _, context in
            let identity = try context.requireIdentity()
            let record = try await users.find(id: identity.userID)
            return [
                "user_id": .int(identity.userID), "user": .string(identity.username), "username": .string(identity.username),
                "discord_id": .string(Self.appUserID(identity)), "role": .string(identity.role.rawValue),
                "role_name": .string(Self.roleName(identity.role)), "permissions": .array(identity.role.permissions.map(JSONValue.string)),
                "auth_type": record?.discordID == nil ? "password" : "discord",
                "discord_user_id": record?.discordID.map(JSONValue.string) ?? .null,
                "avatar_url": record?.avatarURL.map(JSONValue.string) ?? .null,
            ] as JSONValue
        }
        routes.add(
            .post, "/api/auth/logout", access: .user,
            summary: "Sign the bearer token out: it stops working at once, and its gateway connections close"
        ) { request, context in
            _ = try context.requireIdentity()
            guard let token = Authenticator.bearerToken(request) else {
                throw APIError.badRequest("bearer_required", "Sign out with the token in Authorization: Bearer.")
            }
            let verified = try await tokens.verify(token)
            let digest = verified.digest
            try await authenticator.signOut(digest: digest, expires: verified.expires)
            let closed = hub.closeConnections(tokenDigest: digest, reason: "logged_out")
            let caller = try context.requireIdentity()
            analytics.record(
                ActivityRecord(
                    at: Date(), userID: caller.userID, username: caller.username, action: "logout", endpoint: "/api/auth/logout",
                    client: ClientInfo(request, context)))
            analytics.endSessions(tokenDigest: digest)
            return ["success": true, "message": "Logged out", "connections_closed": .int(Int64(closed))] as JSONValue
        }
        routes.add(.get, "/api/users/me", access: .user, summary: "The signed-in user") { _, context in
            let identity = try context.requireIdentity()
            guard let user = try await users.find(id: identity.userID) else {
                throw APIError.notFound("user_not_found", "Your user no longer exists.")
            }
            return UserView(user)
        }
        routes.add(.get, "/api/users/:id", access: .admin, summary: "One user by id") { _, context in
            guard let id = context.parameters.get("id", as: Int64.self) else {
                throw APIError.badRequest("invalid_id", "A user id is an integer.")
            }
            guard let user = try await users.find(id: id) else {
                throw APIError.notFound("user_not_found", "There is no user \(id).")
            }
            return UserView(user)
        }
    }

    private func login(_ credentials: Credentials, _ request: Request, _ context: GuildhallRequestContext) async throws -> Session {
        // Failures count per address and name together: a stranger's wrong guesses cannot lock the name's owner out,
        // and guessing one name from one address is still slowed down (addresses are limited on their own too).
        let address = context.remoteAddress ?? "unknown"
        let nameKey = address + " " + credentials.username.lowercased()
        if let wait = perAddress.attempt(address) ?? perUsername.attempt(nameKey) {
            let seconds = max(1, Int(wait.components.seconds) + 1)
            throw APIError(
                .tooManyRequests, "rate_limited", "Too many login attempts; try again in \(seconds) s.",
                headers: [.retryAfter: String(seconds)])
        }
        guard let user = try await users.authenticate(username: credentials.username, password: credentials.password) else {
            analytics.record(
                ActivityRecord(
                    at: Date(), userID: nil, username: String(credentials.username.prefix(64)), action: "login_failed",
                    endpoint: "/api/auth/login", client: ClientInfo(request, context)))
            throw APIError.unauthorized("invalid_credentials", "The user name or password is wrong.")
        }
        perUsername.reset(nameKey)
        guard user.isActive else { throw APIError.forbidden("This account has been deactivated.") }
        let (token, expires) = try await tokens.issue(for: user.identity, epoch: user.sessionEpoch)
        analytics.record(
            ActivityRecord(
                at: Date(), userID: user.id, username: user.username, action: "login", endpoint: "/api/auth/login",
                client: ClientInfo(request, context)))
        return Session(token: token, expires: expires, identity: user.identity)
    }
}
