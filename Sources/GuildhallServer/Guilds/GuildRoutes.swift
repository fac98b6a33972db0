import Foundation
import Hummingbird
import PluginAPI

/// The admin API for guilds and their members.
struct GuildRoutes {
    let guilds: GuildStore

    struct NewGuild: Decodable {
        var name: String
        var server: String
        var region: String
        var faction: Guild.Faction
        var settings: JSONValue?
    }

    struct GuildChange: Decodable {
        var name: String?
        var server: String?
        var region: String?
        var faction: Guild.Faction?
        var settings: JSONValue?
        var isActive: Bool?

        enum CodingKeys: String, CodingKey {
            case name, server, region, faction, settings
            case isActive = "is_active"
        }
    }

    struct Membership: Decodable {
        var userID: Int64
        var role: GuildRole?

        enum CodingKeys: String, CodingKey {
            case role
            case userID = "user_id"
        }
    }

    /// `?user_id=` of the member to remove.
    struct MemberQuery: Decodable, Sendable {
        var userID: Int64?
        enum CodingKeys: String, CodingKey { case userID = "user_id" }
    }

    func register(on routes: CoreRouter) {
        routes.add(.get, "/api/v1/admin/guilds", access: .admin, summary: "Every guild") { _, _ in
            JSONResponse(.ok, ["guilds": try await guilds.all()])
        }
        routes.add(.post, "/api/v1/admin/guilds", access: .admin, summary: "Create a guild", body: NewGuild.self) { _, context, new in
            let guild = try await guilds.create(
                name: new.name, server: new.server, region: new.region, faction: new.faction, settings: new.settings ?? [:])
            return JSONResponse(.created, guild)
        }
        routes.add(.get, "/api/v1/admin/guilds/:id", access: .admin, summary: "One guild") { _, context in
            JSONResponse(.ok, try await guild(context))
        }
        routes.add(.patch, "/api/v1/admin/guilds/:id", access: .admin, summary: "Change a guild's fields", body: GuildChange.self) {
            _, context, change in
            let id = try await guild(context).id
            guard
                let updated = try await guilds.update(
                    id, name: change.name, server: change.server, region: change.region, faction: change.faction,
                    settings: change.settings, isActive: change.isActive)
            else { throw Self.notFound(id) }
            return JSONResponse(.ok, updated)
        }
        routes.add(.delete, "/api/v1/admin/guilds/:id", access: .admin, summary: "Deactivate a guild (its data is kept)") {
            _, context in
            let id = try await guild(context).id
            guard id != 1 else { throw APIError.conflict("default_guild", "The default guild cannot be deactivated.") }
            let updated = try await guilds.update(id, name: nil, server: nil, region: nil, faction: nil, settings: nil, isActive: false)
            return JSONResponse(.ok, updated)
        }
        routes.add(.get, "/api/v1/admin/guilds/:id/members", access: .admin, summary: "A guild's members") { _, context in
            let id = try await guild(context).id
            return JSONResponse(.ok, ["members": try await guilds.members(of: id)])
        }
        routes.add(
            .post, "/api/v1/admin/guilds/:id/members", access: .admin, summary: "Add a member or change their guild role",
            body: Membership.self
        ) { _, context, membership in
            let id = try await guild(context).id
            try await guilds.setMember(membership.userID, of: id, role: membership.role ?? .member)
            return JSONResponse(.ok, ["members": try await guilds.members(of: id)])
        }
        routes.add(
            .delete, "/api/v1/admin/guilds/:id/members", access: .admin, summary: "Remove a member (?user_id=)", query: MemberQuery.self
        ) { _, context, query in
            let id = try await guild(context).id
            guard let user = query.userID else {
                throw APIError(.badRequest, "invalid_field", "Name the member as ?user_id=.", details: ["field": "user_id", "in": "query"])
            }
            guard try await guilds.removeMember(Int64(user), of: id) else {
                throw APIError.notFound("member_not_found", "User \(user) is not a member of guild \(id).")
            }
            return JSONResponse(.ok, ["members": try await guilds.members(of: id)])
        }
    }

    private func guild(_ context: GuildhallRequestContext) async throws -> Guild {
        guard let id = context.parameters.get("id", as: Int64.self) else {
            throw APIError.badRequest("invalid_id", "A guild id is an integer.")
        }
        guard let guild = try await guilds.find(id) else { throw Self.notFound(id) }
        return guild
    }

    static func notFound(_ id: Int64) -> APIError { APIError.notFound("guild_not_found", "There is no guild \(id).") }
}
