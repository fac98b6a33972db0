import Foundation
import JWTKit
import PluginAPI
import Synchronization

/// Issues and verifies the HS256 JWTs people sign in with.
public struct TokenService: Sendable {
    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var name: String
        var role: Role
        var iat: IssuedAtClaim
        var exp: ExpirationClaim
        /// Unique per token, so two sign-ins in the same second are two tokens (signing one out leaves the other);
        /// sign-out revokes this id. Optional: tokens issued before it existed stay valid (revoked by their digest).
        var jti: IDClaim?
        /// The user's session epoch when the token was issued: a password reset moves it on and ends every token
        /// issued before. Absent in older tokens: epoch 0.
        var sep: Int64?

        // Expiry is checked by `verify(_:)` itself, so an expired token is told apart from a forged one.
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A token that verified: who it is for, when it expires, the digest it is revoked by, and its session epoch.
    public struct Verified: Sendable {
        public var identity: Identity
        public var expires: Date
        /// The SHA-256 of the token's id (`jti`), or of the token itself when it has none: what sign-out revokes and
        /// what the gateway closes a token's connections by.
        public var digest: String
        /// The SHA-256 of the token's text: what sign-out revoked before it revoked ids, kept until those expire.
        public var textDigest: String
        public var sessionEpoch: Int64
    }

    /// Why a token was refused.
    public enum Rejection: Error, Sendable, Equatable {
        case invalid
        case expired
    }

    private let keys: JWTKeyCollection
    /// How long an issued token is valid.
    public let lifetime: Duration
    /// Tokens already verified, with what they carry: a signed token's claims never change, and checking the
    /// signature and decoding the claims was a tenth of the CPU of a cached API answer. Expiry is still checked on
    /// every use.
    private let verified = VerifiedTokens()

    public init(secret: String, lifetime: Duration) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.keys = keys
        self.lifetime = lifetime
    }

    /// A signed token for `identity` in session epoch `epoch` (the user's current one), and when it expires.
    public func issue(for identity: Identity, epoch: Int64, now: Date = Date()) async throws -> (token: String, expires: Date) {
        // JWT times are whole seconds; fractions confuse some clients.
        let now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let expires = now.addingTimeInterval(TimeInterval(lifetime.components.seconds))
        let claims = Claims(
            sub: .init(value: String(identity.userID)), name: identity.username, role: identity.role,
            iat: .init(value: now), exp: .init(value: expires), jti: .init(value: UUID().uuidString), sep: epoch)
        return (try await keys.sign(claims), expires)
    }

    /// The identity a token carries, when it expires, its revocation digest and session epoch. Tokens that are not
    /// in canonical form (see ``TokenForm``), unsigned (`alg: none`), name another algorithm than HS256 or are signed
    /// with another key are `.invalid`; correctly signed ones past their expiry are `.expired`.
    public func verify(_ token: String, now: Date = Date()) async throws(Rejection) -> Verified {
        if let known = verified.lookUp(token) {
            guard known.expires > now else { throw .expired }
            return known
        }
        guard TokenForm.isCanonicalHS256(token) else { throw .invalid }
        let claims: Claims
        do {
            claims = try await keys.verify(token, as: Claims.self)
        } catch {
            throw .invalid
        }
        guard let userID = Int64(claims.sub.value) else { throw .invalid }
        guard claims.exp.value > now else { throw .expired }
        let result = Verified(
            identity: Identity(userID: userID, username: claims.name, role: claims.role), expires: claims.exp.value,
            digest: TokenRevocations.digest(claims.jti.map { "jti:\($0.value)" } ?? token), textDigest: TokenRevocations.digest(token),
            sessionEpoch: claims.sep ?? 0)
        verified.remember(token, result)
        return result
    }
}

/// A bounded memo of verified tokens; emptied whole when full (tokens are re-verified then, nothing is lost).
private final class VerifiedTokens: Sendable {
    private let entries = Mutex<[String: TokenService.Verified]>([:])
    private static let capacity = 10_000

    func lookUp(_ token: String) -> TokenService.Verified? { entries.withLock { $0[token] } }

    func remember(_ token: String, _ result: TokenService.Verified) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = result
        }
    }
}
