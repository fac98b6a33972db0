import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

final class AuthTests: XCTestCase {
    func testLoginAnswersTheTokenUserRoleAndPermissions() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let reply = try await server.request(.POST, "/api/auth/login", json: ["username": "admin", "password": "password-admin"])
            XCTAssertEqual(reply.status, 200)
            XCTAssertEqual(reply.json["user"], "admin")
            XCTAssertEqual(reply.json["role"], "admin")
            XCTAssertEqual(reply.json["permissions"], ["all"])
            let token = try XCTUnwrap(reply.json["token"]?.stringValue)
            XCTAssertEqual(token.split(separator: ".").count, 3)

            try await assertEqual(await server.request(.POST, "/api/auth/verify-token", token: token).status, 200)
            let me = try await server.request(.GET, "/api/users/me", token: token)
            XCTAssertEqual(me.json["username"], "admin")
            XCTAssertEqual(me.json["role"], "admin")
            let refreshed = try await server.request(.POST, "/api/auth/refresh", token: token)
            XCTAssertEqual(refreshed.status, 200)
            XCTAssertNotNil(refreshed.json["token"]?.stringValue)

            let user = try await server.token("user")
            guard case .int(let userID)? = try await server.request(.GET, "/api/users/me", token: user).json["user_id"] else {
                return XCTFail("no user_id")
            }
            let byID = try await server.request(.GET, "/api/users/\(userID)", token: token)
            XCTAssertEqual(byID.json["username"], "user")
            try await assertEqual(await server.request(.GET, "/api/users/999", token: token).error, "user_not_found")
            try await assertEqual(await server.request(.GET, "/api/users/abc", token: token).status, 400)
            try await assertEqual(await server.request(.GET, "/api/users/1", token: user).status, 403)
        }
    }

    func testWrongCredentialsAreRefused() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            for (name, password) in [("admin", "wrong-password"), ("nobody", "password-admin"), ("admin", "")] {
                let reply = try await server.request(.POST, "/api/auth/login", json: ["username": .string(name), "password": .string(password)])
                XCTAssertEqual(reply.status, 401, name)
                XCTAssertEqual(reply.error, "invalid_credentials")
            }
            let missing = try await server.request(.POST, "/api/auth/login", json: ["username": "admin"])
            XCTAssertEqual(missing.status, 400)
            XCTAssertEqual(missing.json["field"], "password")
        }
    }

    func testEveryBadTokenIsRefusedWith401() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let valid = try await server.token("admin")
            let parts = valid.split(separator: ".").map(String.init)
            let claims = String(decoding: Data(base64URL: parts[1])!, as: UTF8.self)
            // Tampered: role changed in the payload, signature kept.
            let tampered = parts[0] + "." + Data(claims.replacingOccurrences(of: "admin", with: "adm1n").utf8).base64URL + "." + parts[2]
            // Unsigned: alg none with the same claims.
            let none = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URL + "." + parts[1] + "."
            // Signed with another key.
            let other = await TokenService(secret: "another-secret-that-is-long-enough-00000", lifetime: .seconds(3600))
            let foreign = try await other.issue(for: Identity(userID: 1, username: "admin", role: .admin), epoch: 0).token
            // Expired: signed with the server's key, a day in the past.
            let ours = await TokenService(secret: host.config.auth.secretKey, lifetime: .seconds(60))
            let expired = try await ours.issue(
                for: Identity(userID: 1, username: "admin", role: .admin), epoch: 0, now: Date().addingTimeInterval(-86400)).token

            let cases: [(String, String, String)] = [
                ("garbage", "not.a.jwt", "invalid_token"), ("tampered", tampered, "invalid_token"),
                ("alg none", none, "invalid_token"), ("foreign key", foreign, "invalid_token"),
                ("expired", expired, "token_expired"),
            ]
            for (label, token, code) in cases {
                let reply = try await server.request(.GET, "/api/cogs", token: token)
                XCTAssertEqual(reply.status, 401, label)
                XCTAssertEqual(reply.error, code, label)
                try await assertEqual(await server.request(.POST, "/api/auth/verify-token", token: token).status, 401, label)
            }
            let noToken = try await server.request(.GET, "/api/cogs")
            XCTAssertEqual(noToken.status, 401)
            XCTAssertEqual(noToken.error, "missing_token")
            XCTAssertEqual(noToken.header("WWW-Authenticate"), "Bearer")
        }
    }

    func testRolesAreEnforced() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let user = try await server.token("user")
            let moderator = try await server.token("moderator")
            for token in [user, moderator] {
                for (method, path) in [("GET", "/api/cogs"), ("GET", "/api/v1/users"), ("POST", "/api/cogs/load"), ("GET", "/api/cogs/audit")] {
                    let reply = try await server.request(.init(rawValue: method), path, token: token, json: ["cog_name": "echo"])
                    XCTAssertEqual(reply.status, 403, path)
                    XCTAssertEqual(reply.error, "forbidden", path)
                }
            }
        }
    }

    func testADeletedUsersTokenStopsWorking() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let token = try await server.token("moderator")
            try await assertEqual(await server.request(.GET, "/api/users/me", token: token).status, 200)
            try await server.host.database.execute("DELETE FROM users WHERE username = 'moderator'")
            server.host.cache.remove(forKey: Authenticator.cacheKey(userID: 2))  // as if the 30 s cache had expired
            let reply = try await server.request(.GET, "/api/users/me", token: token)
            XCTAssertEqual(reply.status, 401)
            XCTAssertEqual(reply.error, "user_not_found")
        }
    }

    func testLoginIsRateLimitedPerUserName() async throws {
        let host = TestHost { $0.auth.loginFailuresPerUser = 3 }
        defer { host.removeFolder() }
        try await host.run { server in
            for _ in 0..<3 {
                let reply = try await server.request(.POST, "/api/auth/login", json: ["username": "user", "password": "wrong-one!"])
                XCTAssertEqual(reply.status, 401)
            }
            let limited = try await server.request(.POST, "/api/auth/login", json: ["username": "user", "password": "password-user"])
            XCTAssertEqual(limited.status, 429)
            XCTAssertEqual(limited.error, "rate_limited")
            XCTAssertNotNil(limited.header("Retry-After").flatMap(Int.init))
            try await assertEqual(await server.request(.POST, "/api/auth/login", json: ["username": "admin", "password": "password-admin"]).status, 200)
        }
    }

    func testLoginIsRateLimitedPerAddress() async throws {
        let host = TestHost { $0.auth.loginAttemptsPerIP = 2 }
        defer { host.removeFolder() }
        try await host.run { server in
            _ = try await server.token("admin")
            _ = try await server.token("user")
            let limited = try await server.request(.POST, "/api/auth/login", json: ["username": "moderator", "password": "password-moderator"])
            XCTAssertEqual(limited.status, 429)
        }
    }

    func testNoPasswordIsStoredInClear() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let hashes = try await server.host.database.read { try $0.rows("SELECT password_hash FROM users", []) }
            XCTAssertEqual(hashes.count, 3)
            for row in hashes {
                guard case .text(let hash)? = row["password_hash"] else { return XCTFail() }
                XCTAssertTrue(hash.hasPrefix("$2"), "a bcrypt hash")
                XCTAssertFalse(hash.contains("password-"))
            }
        }
    }
}

extension Data {
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }

    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
