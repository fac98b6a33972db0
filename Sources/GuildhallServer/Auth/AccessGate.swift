import Foundation
import HTTPTypes
import Hummingbird
import PluginAPI

/// Resolves who is calling and in which guild, and enforces the route's declared access, the guild's cog switches
/// and the budgets of API keys.
///
/// A token's claims are checked against the stored user (cached briefly), so a deleted or demoted user loses
/// their rights within `userCacheTTL`, not at token expiry. A guild API key (`Authorization: Bearer ghk_...` or
/// `X-API-Key`) is checked against its stored hash, its revocation and its guild's activity.
public struct AccessGate: Sendable {
    let tokens: TokenService
    let users: UserStore
    let cache: LRUCache
    let guilds: GuildStore
    let keys: APIKeyStore
    let switches: GuildCogSwitches
    let limits: TenantLimits
    /// Tokens signed out before they expire.
    let revocations: TokenRevocations
    let userCacheTTL: Duration = .seconds(30)

    /// A verified caller: a person, or a key with its guild.
    struct Caller: Sendable {
        var identity: Identity
        var key: (record: APIKey, guild: Guild)?
        /// The digest of the token a person presented (to close their connections when it is signed out).
        var tokenDigest: String?
    }

    /// What a request is let in with.
    struct Admission: Sendable {
        var identity: Identity?
        var guild: GuildScope?
        /// Rate headers for the response (API keys only).
        var headers: [HTTPField] = []
        /// The digest of the person's token, if one was presented.
        var tokenDigest: String?
    }

    /// Runs `handler` for a caller `access` admits, with the identity and guild set in its context and the key's
    /// rate headers added to its response. `cog` names the cog whose route this is, so that a guild that switched
    /// the cog off gets 404 `cog_disabled_for_guild`.
    func serve(
        _ request: Request, context: GuildhallRequestContext, access: Access, cog: String?,
        handler: (Request, GuildhallRequestContext) async throws -> Response
    ) async throws -> Response {
        context.trail.route = context.endpointPath
        let admission = try await admit(request, access: access, cog: cog)
        context.trail.identity = admission.identity
        context.trail.guildID = admission.guild?.id
        context.trail.tokenDigest = admission.tokenDigest
        var context = context
        context.identity = admission.identity
        context.guild = admission.guild
        var response = try await handler(request, context)
        response.headers.append(contentsOf: admission.headers)
        return response
    }

    /// The caller, checked against `access`: 401 without or with a bad credential, 403 without the role or the key
    /// permission, 404 `cog_disabled_for_guild`, 429 past a key's budget. Public routes still resolve a valid
    /// credential if one is sent.
    func admit(_ request: Request, access: Access, cog: String?) async throws -> Admission {
        let isPublic = access == .public
        guard let credential = Self.credential(request) else {
            if isPublic { return Admission() }
            throw APIError.signInFirst
        }
        let caller: Caller
        do {
            caller = try await verify(credential)
        } catch {
            if isPublic { return Admission() }
            throw error
        }
        if let refusal = access.refusal(for: caller.identity) { throw refusal }
        var admission = Admission(identity: caller.identity, tokenDigest: caller.tokenDigest)
        let isGuildRoute = if case .guild = access { true } else { false }
        if isGuildRoute || cog != nil || caller.key != nil {
            admission.guild = try await guild(
                of: caller, explicit: request.headers[.guildID], required: isGuildRoute && caller.identity.role != .admin)
        }
        if let cog, let guild = admission.guild, switches.isOff(cog, for: guild.id) {
            throw APIError(
                .notFound, "cog_disabled_for_guild", "The \(cog) cog is switched off for guild \(guild.id).",
                details: ["cog": .string(cog), "guild_id": .int(guild.id)])
        }
        if let key = caller.key {
            admission.headers = try limits.admitRequest(of: key.record, in: key.guild)
        }
        return admission
    }

    /// Who `credential` is: a user's token or a guild API key.
    func verify(_ credential: Credential) async throws -> Caller {
        switch credential {
        case .token(let token):
            let (identity, digest) = try await verifyToken(token)
            return Caller(identity: identity, tokenDigest: digest)
        case .apiKey(let secret):
            guard let key = try await keys.find(secret: secret) else {
                throw APIError.unauthorized("invalid_api_key", "The API key is not valid.")
            }
            guard key.revokedAt == nil else { throw APIError.unauthorized("api_key_revoked", "The API key has been revoked.") }
            guard let guild = try await guilds.cached(key.guildID), guild.isActive else {
                throw APIError(.forbidden, "guild_inactive", "The key's guild has been deactivated.")
            }
            return Caller(identity: key.identity, key: (key, guild))
        }
    }

    /// The identity behind `token`, as currently stored: 401 `token_expired`, `invalid_token` or `user_not_found`.
    public func verify(_ token: String) async throws -> Identity {
        try await verifyToken(token).identity
    }

    /// What is stored of a user that their tokens are checked against.
    private struct StoredUser: Sendable {
        var identity: Identity
        var sessionEpoch: Int64
    }

    /// The identity behind `token` as currently stored, and the digest it is revoked by (also its connections', for
    /// logout). A token of an earlier session epoch (issued before a password reset) is `session_ended`.
    private func verifyToken(_ token: String) async throws -> (identity: Identity, digest: String) {
        let verified: TokenService.Verified
        do {
            verified = try await tokens.verify(token)
        } catch .expired {
            throw APIError.unauthorized("token_expired", "The token has expired; sign in again.")
        } catch {
            throw APIError.unauthorized("invalid_token", "The token is not valid.")
        }
        guard !revocations.isRevoked(verified) else {
            throw APIError.unauthorized("token_revoked", "This token was signed out; sign in again.")
        }
        let claimed = verified.identity
        let key = Self.cacheKey(userID: claimed.userID)
        let stored: StoredUser
        if let cached = cache.value(forKey: key, as: StoredUser.self) {
            stored = cached
        } else {
            guard let user = try await users.find(id: claimed.userID), user.isActive else { throw Self.userGone }
            stored = StoredUser(identity: user.identity, sessionEpoch: user.sessionEpoch)
            cache.set(stored, forKey: key, ttl: userCacheTTL, tags: [])
        }
        guard stored.identity.username == claimed.username else { throw Self.userGone }
        guard stored.sessionEpoch == verified.sessionEpoch else {
            throw APIError.unauthorized("session_ended", "Your password was changed since this token was issued; sign in again.")
        }
        return (stored.identity, verified.digest)
    }

    /// The guild `caller` acts in: a key's own; for a person the `explicit` guild (which they must belong to,
    /// unless they are an admin), else their only guild, else the default guild if they belong to none. Someone in
    /// several guilds who names none gets nil, or 400 `guild_required` when the route needs a guild.
    func guild(of caller: Caller, explicit: String?, required: Bool) async throws -> GuildScope? {
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

    /// A presented credential.
    enum Credential: Sendable {
        case token(String)
        case apiKey(String)

        /// A bearer credential: an API key by its prefix, else a user's token.
        init(bearer: String) {
            self = bearer.hasPrefix(APIKeyStore.secretPrefix) ? .apiKey(bearer) : .token(bearer)
        }
    }

    /// `X-API-Key`, else `Authorization: Bearer`.
    static func credential(_ request: Request) -> Credential? {
        if let key = request.headers[.apiKey]?.trimmingCharacters(in: .whitespaces), !key.isEmpty { return .apiKey(key) }
        return bearerToken(request).map(Credential.init(bearer:))
    }

    /// Where the stored record of `userID` is cached.
    static func cacheKey(userID: Int64) -> String { "host:user:\(userID)" }

    /// Forgets what is cached of `userID`, so a change of their role, state or existence counts on the next request.
    func forget(userID: Int64) {
        cache.remove(forKey: Self.cacheKey(userID: userID))
    }

    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        // Trimmed by hand: Foundation's trimming bridges to NSString, a measurable cost on every signed-in request.
        let text = parts[1]
        guard let first = text.firstIndex(where: { $0 != " " && $0 != "\t" }), let last = text.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return nil }
        return String(text[first...last])
    }

    private static func noSuchGuild(_ id: Int64) -> APIError {
        APIError.notFound("guild_not_found", "There is no active guild \(id) that you belong to.")
    }

    private static let userGone = APIError.unauthorized("user_not_found", "The token's user no longer exists or was deactivated.")
}

extension HTTPField.Name {
    static let apiKey = Self("X-API-Key")!
    static let guildID = Self("X-Guild-Id")!
}
