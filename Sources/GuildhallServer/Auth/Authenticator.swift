import Foundation
import HTTPTypes
import Hummingbird
import PluginAPI

/// Says who is calling: a person by their token, or a guild API key. What the caller may then do in a guild is the
/// ``TenantPolicy``'s to decide.
///
/// A token's claims are checked against the stored user (cached briefly), so a deleted or demoted user loses
/// their rights within `userCacheTTL`, not at token expiry. A guild API key (`Authorization: Bearer ghk_...` or
/// `X-API-Key`) is checked against its stored hash, its revocation and its guild's activity.
public struct Authenticator: Sendable {
    let tokens: TokenService
    let users: UserStore
    let cache: LRUCache
    let guilds: GuildStore
    let keys: APIKeyStore
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

    /// A presented credential.
    enum Credential: Sendable {
        case token(String)
        case apiKey(String)

        /// A bearer credential: an API key by its prefix, else a user's token.
        init(bearer: String) {
            self = bearer.hasPrefix(APIKeyStore.secretPrefix) ? .apiKey(bearer) : .token(bearer)
        }
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

    /// Signs a token out until it would have expired.
    func signOut(digest: String, expires: Date) async throws {
        try await revocations.revoke(digest: digest, expires: expires)
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

    private static let userGone = APIError.unauthorized("user_not_found", "The token's user no longer exists or was deactivated.")
}

extension HTTPField.Name {
    static let apiKey = Self("X-API-Key")!
    static let guildID = Self("X-Guild-Id")!
}
