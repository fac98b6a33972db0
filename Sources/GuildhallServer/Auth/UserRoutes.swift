import Foundation
import Hummingbird
import PluginAPI

/// User management for admins under `/api/v1/users`: list, create, change role, activate or deactivate, reset a
/// password, delete. A deactivated or deleted user's tokens stop on their next request and their gateway
/// connections close at once; a role change counts on the next request.
struct UserRoutes {
    let users: UserStore
    let authenticator: Authenticator
    let hub: GatewayHub

    struct NewUser: Decodable {
        var username: String
        var password: String
        var role: Role?
    }

    struct Change: Decodable {
        var role: Role?
        var isActive: Bool?

        enum CodingKeys: String, CodingKey {
            case role
            case isActive = "is_active"
        }
    }

    struct NewPassword: Decodable {
        var password: String
    }

    func register(on routes: CoreRouter) {
        routes.add(.get, "/api/v1/users", access: .admin, summary: "Users by id, paged (?limit&offset)", query: PageQuery.self) { _, _, query in
            let paging = try Paging(query)
            let (page, total) = try await users.list(limit: paging.limit, offset: paging.offset)
            return [
                "users": try JSONValueEncoder().encode(page.map(AuthRoutes.UserView.init)), "total_count": .int(Int64(total)),
                "limit": .int(Int64(paging.limit)), "offset": .int(Int64(paging.offset)),
            ] as JSONValue
        }
        routes.add(.post, "/api/v1/users", access: .admin, summary: "Create a user: {username, password, role?}", body: NewUser.self) {
            _, _, wanted in
            let user = try await users.create(username: wanted.username, password: wanted.password, role: wanted.role ?? .user)
            return JSONResponse(.created, try JSONValueEncoder().encode(AuthRoutes.UserView(user)))
        }
        routes.add(
            .patch, "/api/v1/users/:id", access: .admin, summary: "Change a user's role or active state: {role?, is_active?}",
            body: Change.self
        ) { _, context, change in
            let id = try userID(context)
            if change.isActive == false { try refuseSelf(id, context, "deactivate") }
            guard let user = try await users.update(id, role: change.role, isActive: change.isActive) else { throw Self.missing(id) }
            authenticator.forget(userID: id)
            if user.isActive {
                hub.closeConnections(userID: id, notHolding: user.role)
            } else {
                hub.closeConnections(userID: id, reason: "account_deactivated")
            }
            return AuthRoutes.UserView(user)
        }
        routes.add(
            .post, "/api/v1/users/:id/reset-password", access: .admin, summary: "Set a user's password: {password}", body: NewPassword.self
        ) { _, context, wanted in
            let id = try userID(context)
            guard try await users.resetPassword(id, to: wanted.password) else { throw Self.missing(id) }
            authenticator.forget(userID: id)
            let closed = hub.closeConnections(userID: id, reason: "password_reset")
            return ["success": true, "message": "Password changed; the user's sessions have ended", "connections_closed": .int(Int64(closed))] as JSONValue
        }
        routes.add(.delete, "/api/v1/users/:id", access: .admin, summary: "Delete a user") { _, context in
            let id = try userID(context)
            try refuseSelf(id, context, "delete")
            guard try await users.delete(id) else { throw Self.missing(id) }
            authenticator.forget(userID: id)
            let closed = hub.closeConnections(userID: id, reason: "account_deleted")
            return ["success": true, "message": "User deleted", "connections_closed": .int(Int64(closed))] as JSONValue
        }
    }

    private func userID(_ context: GuildhallRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self) else { throw APIError.badRequest("invalid_id", "A user id is an integer.") }
        return id
    }

    /// An admin may not lock themselves out.
    private func refuseSelf(_ id: Int64, _ context: GuildhallRequestContext, _ verb: String) throws {
        guard try context.requireIdentity().userID != id else {
            throw APIError.conflict("cannot_change_self", "You cannot \(verb) your own account.")
        }
    }

    static func missing(_ id: Int64) -> APIError { APIError.notFound("user_not_found", "There is no user \(id).") }
}
