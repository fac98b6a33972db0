import PluginAPI

/// The contract's view of the deployment's people: a user by id, if they act in a guild (the same rule the access
/// `TenantPolicy` applies to callers: members, admins anywhere, the guildless in the default guild).
struct HostPeopleDirectory: PeopleDirectory {
    let users: UserStore
    let guilds: GuildStore

    func person(_ userID: Int64, in guild: GuildScope) async throws -> Identity? {
        guard let user = try await users.find(id: userID) else { return nil }
        if user.role == .admin { return user.identity }
        let memberships = try await guilds.memberships(of: userID)
        let acts = memberships[guild.id] != nil || (memberships.isEmpty && guild.id == GuildScope.defaultGuildID)
        return acts ? user.identity : nil
    }

    func person(named username: String) async throws -> Identity? {
        try await users.find(username: username).flatMap { $0.isActive ? $0.identity : nil }
    }

    func guild(_ id: Int64) async throws -> GuildScope? {
        guard let guild = try await guilds.cached(id), guild.isActive else { return nil }
        return GuildScope(id: guild.id, name: guild.name)
    }
}
