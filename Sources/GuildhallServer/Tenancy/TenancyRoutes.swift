import Foundation
import Hummingbird
import PluginAPI

/// Guild API keys (admin), the caller's guild, and each guild's cog switches and config overlays (admins, and
/// the guild's leaders where the deployment lets them).
struct TenancyRoutes {
    let guilds: GuildStore
    let keys: APIKeyStore
    let switches: GuildCogSwitches
    let overlays: GuildConfigOverlays
    let config: ConfigStore
    let plugins: PluginManager
    let settings: TenancySettings

    func register(on routes: CoreRouter) {
        registerKeys(on: routes)
        routes.add(.get, "/api/v1/guild", access: .guild(.query), summary: "The guild the caller acts in") { _, context in
            let guild = try context.requireGuild()
            let identity = try context.requireIdentity()
            var caller: [String: JSONValue] = ["type": identity.apiKey == nil ? "user" : "api_key"]
            if let key = identity.apiKey {
                caller["key_id"] = .int(key.id)
                caller["permissions"] = .array(key.permissions.map(\.rawValue).sorted().map(JSONValue.string))
            } else {
                caller["user_id"] = .int(identity.userID)
                caller["username"] = .string(identity.username)
            }
            return [
                "guild_id": .int(guild.id), "guild_name": .string(guild.name), "caller": .object(caller),
                "disabled_cogs": .array(switches.offCogs(of: guild.id).sorted().map(JSONValue.string)),
            ] as JSONValue
        }
        routes.add(.get, "/api/v1/guilds/:id/cogs", access: .user, summary: "The cogs and whether the guild has them on") {
            _, context in
            let guild = try await authorizedGuild(context, allowed: GuildRole.allCases)
            let off = switches.offCogs(of: guild.id)
            let cogs = plugins.entries().map { entry -> JSONValue in
                [
                    "name": .string(entry.name), "loaded": .bool(entry.loaded), "enabled": .bool(!off.contains(entry.name)),
                    "leader_managed": .bool(settings.leaderManagedCogs.contains(entry.name)),
                ]
            }
            return ["guild_id": .int(guild.id), "cogs": .array(cogs)] as JSONValue
        }
        for (verb, on) in [("enable", true), ("disable", false)] {
            routes.add(
                .post, "/api/v1/guilds/:id/cogs/:cog/\(verb)", access: .user,
                summary: "\(verb.capitalized) a cog for one guild (admins; leaders for leader-managed cogs)"
            ) { _, context in
                let cog = context.parameters.get("cog") ?? ""
                guard plugins.entries().contains(where: { $0.name == cog }) else {
                    throw APIError.notFound("unknown_cog", "There is no cog '\(cog)'.")
                }
                let leaderMay = settings.leaderManagedCogs.contains(cog)
                let guild = try await authorizedGuild(context, allowed: leaderMay ? [.leader] : [])
                try await switches.set(cog, on: on, for: guild.id, by: try context.requireIdentity().username)
                return ["guild_id": .int(guild.id), "cog": .string(cog), "enabled": .bool(on)] as JSONValue
            }
        }
        routes.add(
            .get, "/api/v1/guilds/:id/config/:section", access: .user,
            summary: "A guild's overlay of a section (a cog's, or general, channels, roles, welcome)"
        ) {
            _, context in
            let guild = try await authorizedGuild(context, allowed: [.leader, .officer])
            let section = try overlaidSection(context)
            return try view(section, guild: guild.id)
        }
        routes.add(
            .put, "/api/v1/guilds/:id/config/:section", access: .user,
            summary: "Replace a guild's overlay of a section (a cog's, or general, channels, roles, welcome)", body: JSONValue.self
        ) { _, context, overlay in
            let guild = try await authorizedGuild(context, allowed: [.leader])
            let section = try overlaidSection(context)
            _ = try await overlays.set(section, overlay: overlay, for: guild.id, by: try context.requireIdentity().username)
            return try view(section, guild: guild.id)
        }
    }

    private func registerKeys(on routes: CoreRouter) {
        routes.add(
            .post, "/api/v1/admin/guilds/:id/api-keys", access: .admin, summary: "Create a guild API key (shown once)",
            body: APIKeyRequest.self
        ) { _, context, wanted in
            let guild = try await existingGuild(context)
            let (key, secret) = try await keys.create(guild: guild.id, wanted, by: try context.requireIdentity().username)
            return JSONResponse(.created, [
                "api_key": .string(secret), "key": try JSONValueEncoder().encode(key),
                "message": "Store the key now: only its hash is kept, and it is not shown again.",
            ] as JSONValue)
        }
        routes.add(.get, "/api/v1/admin/guilds/:id/api-keys", access: .admin, summary: "A guild's API keys (no secrets)") {
            _, context in
            let guild = try await existingGuild(context)
            return ["guild_id": .int(guild.id), "api_keys": try JSONValueEncoder().encode(try await keys.list(guild: guild.id))] as JSONValue
        }
        routes.add(.delete, "/api/v1/admin/guilds/:id/api-keys/:key", access: .admin, summary: "Revoke a guild API key") {
            _, context in
            let guild = try await existingGuild(context)
            guard let keyID = context.parameters.get("key", as: Int64.self),
                let key = try await keys.revoke(keyID, guild: guild.id)
            else { throw APIError.notFound("api_key_not_found", "Guild \(guild.id) has no such key.") }
            return ["revoked": try JSONValueEncoder().encode(key)] as JSONValue
        }
    }

    /// `section`'s deployment value, the guild's overlay and the result, secrets masked.
    private func view(_ section: String, guild: Int64) throws -> JSONValue {
        [
            "guild_id": .int(guild), "section": .string(section),
            "overlay": config.masked(overlays.overlay(of: section, for: guild), section: section),
            "effective": config.masked(try overlays.effective(section, for: guild), section: section),
        ]
    }

    /// The path's section, which must be a cog's (the host's own sections are the deployment's alone).
    /// The path's section if guilds may overlay it: a cog's, or one of the community's own (`general`,
    /// `channels`, `roles`, `welcome`).
    private func overlaidSection(_ context: GuildhallRequestContext) throws -> String {
        let name = context.parameters.get("section") ?? ""
        guard HostSections.community.contains(name) || plugins.catalogue.cogs.values.contains(where: { $0.manifest.configSection == name })
        else {
            throw APIError.notFound(
                "unknown_section", "There is no section '\(name)' a guild may overlay: cogs' sections and general, channels, roles, welcome.")
        }
        return name
    }

    /// The path's guild, if it exists.
    private func existingGuild(_ context: GuildhallRequestContext) async throws -> Guild {
        guard let id = context.parameters.get("id", as: Int64.self) else {
            throw APIError.badRequest("invalid_id", "A guild id is an integer.")
        }
        guard let guild = try await guilds.find(id) else { throw GuildRoutes.notFound(id) }
        return guild
    }

    /// The path's guild, for an admin or a member holding one of `allowed` roles in it. Anyone else gets 404, so a
    /// guild's existence does not leak to outsiders; a member without the role gets 403.
    private func authorizedGuild(_ context: GuildhallRequestContext, allowed: [GuildRole]) async throws -> Guild {
        let identity = try context.requireIdentity()
        let guild = try await existingGuild(context)
        if identity.role == .admin { return guild }
        guard guild.isActive, let role = try await guilds.memberships(of: identity.userID)[guild.id] else {
            throw GuildRoutes.notFound(guild.id)
        }
        guard allowed.contains(role) else { throw APIError.forbidden("Your guild role may not do this.") }
        return guild
    }
}
