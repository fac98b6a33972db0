import Foundation
import Hummingbird
import PluginAPI

/// Resolves who is calling and enforces the route's declared access.
///
/// A token's claims are checked against the stored user (cached briefly), so a deleted or demoted user loses
/// their rights within `userCacheTTL`, not at token expiry.
public struct AccessGate: Sendable {
    let tokens: TokenService
    let users: UserStore
    let cache: LRUCache
    let userCacheTTL: Duration = .seconds(30)

    /// The caller's identity, checked against `access`: 401 without or with a bad credential, 403 with too
    /// small a role. Public routes still resolve a valid credential if one is sent.
    public func authorize(_ request: Request, access: Access) async throws -> Identity? {
        guard let token = Self.bearerToken(request) else {
            if case .public = access { return nil }
            throw APIError.unauthorized("missing_token", "Sign in first: send Authorization: Bearer <token>.")
        }
        let identity: Identity
        do {
            identity = try await verify(token)
        } catch {
            if case .public = access { return nil }
            throw error
        }
        guard access.admits(identity) else { throw APIError.forbidden() }
        return identity
    }

    /// The identity behind `token`, as currently stored: 401 `token_expired`, `invalid_token` or `user_not_found`.
    public func verify(_ token: String) async throws -> Identity {
        let claimed: Identity
        do {
            claimed = try await tokens.verify(token).identity
        } catch .expired {
            throw APIError.unauthorized("token_expired", "The token has expired; sign in again.")
        } catch {
            throw APIError.unauthorized("invalid_token", "The token is not valid.")
        }
        let key = Self.cacheKey(userID: claimed.userID)
        if let current = cache.value(forKey: key, as: Identity.self) {
            guard current.username == claimed.username else { throw Self.userGone }
            return current
        }
        guard let user = try await users.find(id: claimed.userID), user.username == claimed.username else {
            throw Self.userGone
        }
        cache.set(user.identity, forKey: key, ttl: userCacheTTL, tags: [])
        return user.identity
    }

    /// Where the stored record of `userID` is cached.
    static func cacheKey(userID: Int64) -> String { "host:user:\(userID)" }

    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    private static let userGone = APIError.unauthorized("user_not_found", "The token's user no longer exists.")
}
