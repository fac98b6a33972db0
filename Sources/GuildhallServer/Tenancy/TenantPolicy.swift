import Foundation
import HTTPTypes
import PluginAPI

/// Decides a tenant's rules for a caller the ``Authenticator`` has verified: which guild they act in, whether a cog
/// is switched on there, and what their API key's budgets allow.
struct TenantPolicy: Sendable {
    let guilds: GuildStore
    let keys: APIKeyStore
    let switches: GuildCogSwitches
    let limits: TenantLimits

    /// The guild `caller` acts in: a key's own; for a person the `explicit` guild (which they must belong to,
    /// unless they are an admin), else their only guild, else the default guild if they belong to none. Someone in
    /// several guilds who names none gets nil, or 400 `guild_required` when the route needs a guild.
    func guild(of caller: Authenticator.Caller, explicit: String?, required: Bool) async throws -> GuildScope? {
        if let key = caller.key { return GuildScope(id: key.guild.id, name: key.guild.name) }
        let identity = caller.identity
        let memberships = try await guilds.memberships(of: identity.userID)
        let chosen: Int64
        if let explicit {
            guard let id = Int64(explicit.trimmingCharacters(in: .whitespaces)) else {
                throw APIError(.badRequest, "invalid_guild_id", "X-Guild-Id must be a guild's integer id.")
            }
            guard identity.role == .admin || memberships[id] != nil else { throw Self.noSuchGuild(id) }
            chosen = id
        } else if memberships.count == 1, let only = memberships.keys.first {
            chosen = only
        } else if memberships.isEmpty {
            chosen = GuildScope.defaultGuildID
        } else {
            guard !required else {
                throw APIError(
                    .badRequest, "guild_required", "You belong to several guilds: name one with the X-Guild-Id header.",
                    details: ["guild_ids": .array(memberships.keys.sorted().map(JSONValue.int))])
            }
            return nil
        }
        guard let guild = try await guilds.cached(chosen), guild.isActive else {
            if required || explicit != nil { throw Self.noSuchGuild(chosen) }
            return nil
        }
        return GuildScope(id: guild.id, name: guild.name)
    }

    /// Whether `guild` switched `cog` off.
    func isOff(_ cog: String, in guild: Int64) -> Bool {
        switches.isOff(cog, for: guild)
    }

    /// 404 `cog_disabled_for_guild` when `guild` switched `cog` off.
    func refuseIfOff(_ cog: String, in guild: Int64) throws {
        guard switches.isOff(cog, for: guild) else { return }
        throw APIError(
            .notFound, "cog_disabled_for_guild", "The \(cog) cog is switched off for guild \(guild).",
            details: ["cog": .string(cog), "guild_id": .int(guild)])
    }

    /// The active guilds that have `cog` switched on: those a per-guild task runs for.
    func activeGuilds(for cog: String) async throws -> [GuildScope] {
        try await guilds.all().filter { $0.isActive && !switches.isOff(cog, for: $0.id) }.map { GuildScope(id: $0.id, name: $0.name) }
    }

    /// Counts one request of a key; answers its rate headers, or throws 429 past its budget or its guild's.
    func admitRequest(of key: (record: APIKey, guild: Guild)) throws -> [HTTPField] {
        try limits.admitRequest(of: key.record, in: key.guild)
    }

    /// Charges `count` events to `guild` and to the caller's key, if they called with one; 429 past either budget.
    func chargeEvents(_ count: Int, in guild: GuildScope, by caller: Identity?) async throws {
        guard let record = try await guilds.cached(guild.id) else {
            throw APIError.notFound("guild_not_found", "There is no guild \(guild.id).")
        }
        var key: APIKey?
        if let grant = caller?.apiKey { key = try await keys.find(id: grant.id) }
        try limits.charge(events: count, key: key, in: record)
    }

    /// Counts a key's gateway connection; false at the key's or its guild's limit. People are not counted.
    func openConnection(of caller: Authenticator.Caller) -> Bool {
        guard let key = caller.key else { return true }
        return limits.openConnection(of: key.record, in: key.guild)
    }

    func closeConnection(of caller: Authenticator.Caller) {
        if let key = caller.key { limits.closeConnection(of: key.record) }
    }

    private static func noSuchGuild(_ id: Int64) -> APIError {
        APIError.notFound("guild_not_found", "There is no active guild \(id) that you belong to.")
    }
}
