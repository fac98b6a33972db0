import Crypto
import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// Sign-out means sign-out: a copy of a revoked token in another spelling, a token naming another algorithm, a
/// demoted admin's open socket, a stranger's wrong guesses and the time a wrong guess takes tell nothing and let
/// nobody in.
final class SignOutHardeningTests: XCTestCase {
    /// The spellings of one token a lax decoder reads the same: padding added, the last character of a segment
    /// swapped for one that differs only in bits the decoder ignores.
    static func variants(of token: String) -> [(String, String)] {
        let parts = token.split(separator: ".").map(String.init)
        func swapLast(_ segment: String) -> String {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            let last = segment.last!
            let value = alphabet.firstIndex(of: last)!
            // 43 characters carry 32 bytes: the last one has 2 spare bits.
            let spare = segment.count % 4 == 3 ? 0b11 : 0b1111
            return String(segment.dropLast()) + String(alphabet[value | (spare & 1)])
        }
        return [
            ("padding", token + "="),
            ("padded segment", parts[0] + "=." + parts[1] + "." + parts[2]),
            ("spare bits", parts[0] + "." + parts[1] + "." + swapLast(parts[2])),
        ]
    }

    func testARevokedTokenInAnotherSpellingIsRefusedOnHTTPAndTheGateway() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let token = try await server.token("user")
            // Before sign-out, the other spellings are refused too: only the form the host issues is accepted.
            for (label, variant) in Self.variants(of: token) {
                XCTAssertNotEqual(variant, token, label)
                try await assertEqual(await server.request(.GET, "/api/ping", token: variant).error, "invalid_token", label)
            }
            try await assertEqual(await server.request(.POST, "/api/auth/logout", token: token).status, 200)
            try await assertEqual(await server.request(.GET, "/api/ping", token: token).error, "token_revoked")
            for (label, variant) in Self.variants(of: token) {
                let reply = try await server.request(.GET, "/api/ping", token: variant)
                XCTAssertEqual(reply.status, 401, label)
                let socket = WSTestClient(port: server.port, path: "/ws", token: variant)
                let first = await socket.next(timeout: .seconds(2))
                XCTAssertNotEqual(first?["action"], "connected", label)
            }
            let refused = WSTestClient(port: server.port, path: "/ws", token: token)
            await assertEqual(await refused.next(timeout: .seconds(2))?["action"] == "connected", false)
        }
    }

    func testATokenSignedOutByItsTextBeforeRevocationByIdStaysOut() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let token = try await server.token("user")
            // What sign-out stored before it revoked token ids: the digest of the token's text.
            try await server.host.authenticator.signOut(digest: TokenRevocations.digest(token), expires: Date().addingTimeInterval(3600))
            try await assertEqual(await server.request(.GET, "/api/ping", token: token).error, "token_revoked")
        }
    }

    func testATokenWhoseHeaderNamesAnotherAlgorithmIsRefusedThoughSignedWithTheKey() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let token = try await server.token("admin")
            let parts = token.split(separator: ".").map(String.init)
            for alg in ["RS256", "HS512", "hs256"] {
                let header = Data(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8).base64URL
                let signingInput = header + "." + parts[1]
                let key = SymmetricKey(data: Data(host.config.auth.secretKey.utf8))
                let signature = Data(HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: key)).base64URL
                let forged = signingInput + "." + signature
                try await assertEqual(await server.request(.GET, "/api/cogs", token: forged).error, "invalid_token", alg)
            }
        }
    }

    func testADemotedAdminsSocketClosesAtOnceAndReconnectsWithTheNewRole() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let ann = try await server.host.users.create(username: "ann", password: "password-ann", role: .admin)
            let annToken = try await server.token("ann")
            let socket = WSTestClient(port: server.port, path: "/ws", token: annToken)
            _ = await socket.next("connected")
            try await assertEqual(
                await server.request(.PATCH, "/api/v1/users/\(ann.id)", token: admin, json: ["role": "user"]).json["role"], "user")
            await assertEqual(await socket.next("disconnected", timeout: .seconds(1))?["reason"], "role_changed")
            // Reconnected with the same token, the socket is a user's: admin-only messages no longer reach it.
            let again = WSTestClient(port: server.port, path: "/ws", token: annToken)
            _ = await again.next("connected")
            _ = try await server.request(
                .POST, "/api/live-log/messages", token: admin, json: ["type": "system", "event": "secret-audit", "audience": "admins"])
            let frames = await again.drain(for: .milliseconds(300))
            XCTAssertFalse(frames.contains { $0["event"] == "secret-audit" })
        }
    }

    func testAStrangersWrongGuessesDoNotLockTheOwnerOut() async throws {
        let host = TestHost { $0.auth.loginFailuresPerUser = 3 }
        defer { host.removeFolder() }
        try await host.run { server in
            let wrong = #"{"username":"user","password":"not-the-password"}"#
            for _ in 0..<3 {
                let reply = try RawSocket.request(port: server.port, from: "127.0.0.2", "POST", "/api/auth/login", body: wrong)
                XCTAssertEqual(reply.status, 401, reply.body)
            }
            let locked = try RawSocket.request(port: server.port, from: "127.0.0.2", "POST", "/api/auth/login", body: wrong)
            XCTAssertEqual(locked.status, 429, "the stranger's address is slowed down for that name")
            let owner = try RawSocket.request(
                port: server.port, from: "127.0.0.1", "POST", "/api/auth/login", body: #"{"username":"user","password":"password-user"}"#)
            XCTAssertEqual(owner.status, 200, "the owner, elsewhere, signs in: \(owner.body)")
        }
    }

    func testAWrongPasswordTakesAsLongAsAnUnknownName() async throws {
        // The deployment's default cost: the decoy hash must cost what a real one does.
        let host = TestHost { $0.auth.bcryptCost = 12 }
        defer { host.removeFolder() }
        try await host.run { server in
            _ = try await server.host.users.create(username: "timed", password: "password-timed", role: .user)
            // Alternated, so load on the machine falls on both alike; before, the unknown name took a quarter of the time.
            var times: [String: [Double]] = ["timed": [], "nobody-of-that-name": []]
            for _ in 0..<4 {
                for name in ["timed", "nobody-of-that-name"] {
                    let started = ContinuousClock.now
                    _ = try await server.request(.POST, "/api/auth/login", json: ["username": .string(name), "password": "wrong-password"])
                    let elapsed = ContinuousClock.now - started
                    times[name]!.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                }
            }
            let known = times["timed"]!.sorted()[1...2].reduce(0, +), unknown = times["nobody-of-that-name"]!.sorted()[1...2].reduce(0, +)
            XCTAssertLessThan(known / unknown, 2, "known \(times["timed"]!), unknown \(times["nobody-of-that-name"]!)")
            XCTAssertGreaterThan(known / unknown, 0.5, "known \(times["timed"]!), unknown \(times["nobody-of-that-name"]!)")
        }
    }
}
