import Crypto
import Foundation
import PluginAPI
import Synchronization

/// Tokens signed out before they expire. Kept by the SHA-256 of their id (never the token itself) in the database, so a
/// restart keeps them out, and in memory, so the check on every request is a set lookup. A revoked token is
/// forgotten once it would have expired anyway.
public final class TokenRevocations: Sendable {
    private let database: any PluginAPI.Database
    private let revoked: Mutex<[String: Date]>

    init(database: any PluginAPI.Database) async throws {
        self.database = database
        let now = Date()
        try await database.execute("DELETE FROM revoked_tokens WHERE expires_at < ?", [now])
        let rows = try await database.read { try $0.rows("SELECT digest, expires_at FROM revoked_tokens", []) }
        var revoked: [String: Date] = [:]
        for row in rows {
            guard case .text(let digest)? = row["digest"], case .text(let expires)? = row["expires_at"] else { continue }
            revoked[digest] = Timestamp.date(from: expires) ?? now
        }
        self.revoked = Mutex(revoked)
    }

    static func digest(_ token: String) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(token.utf8)) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Whether `token` was signed out: by its id, or (before tokens were revoked by id) by its text.
    func isRevoked(_ token: TokenService.Verified) -> Bool {
        revoked.withLock { $0[token.digest] != nil || $0[token.textDigest] != nil }
    }

    /// Revokes the token whose ``TokenService/Verified/digest`` is `digest` (valid until `expires`) at once.
    func revoke(digest: String, expires: Date) async throws {
        let now = Date()
        revoked.withLock { table in
            table[digest] = expires
            table = table.filter { $0.value > now }
        }
        try await database.write { connection in
            try connection.execute("DELETE FROM revoked_tokens WHERE expires_at < ?", [now])
            try connection.execute(
                "INSERT INTO revoked_tokens (digest, expires_at) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING", [digest, expires])
        }
    }
}
