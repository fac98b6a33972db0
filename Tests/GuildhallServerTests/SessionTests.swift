import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// The admin app's session calls (CONTRACT.md, "Login and session", 2-5): the token check at start, who am I,
/// refresh, and a logout that stops the token at once on every surface.
final class SessionTests: XCTestCase {
    func testPingMeAndRefreshAnswerWhatTheAppReads() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let user = try await server.token("user")
            let headers = AdminAppCogsTests.appHeaders(user)
            try await assertEqual(await server.request(.GET, "/api/ping", headers: headers).status, 200)
            try await assertEqual(await server.request(.GET, "/api/ping").status, 401)
            try await assertEqual(await server.request(.GET, "/api/ping", token: "forged.token.here").status, 401)

            let me = try await server.request(.GET, "/api/auth/me", headers: headers)
            XCTAssertEqual(me.status, 200)
            let userID = try await AdminAppTicketsTests.userID("user", on: server)
            XCTAssertEqual(me.json["discord_id"], .string(String(userID)), "the id the app's chat compares authors with")
            XCTAssertEqual(me.json["user"], "user")
            XCTAssertEqual(me.json["role"], "user")
            XCTAssertEqual(me.json["role_name"], "User")
            XCTAssertEqual(me.json["auth_type"], "password")
            XCTAssertNotNil(me.json["permissions"]?.arrayValue)
            XCTAssertEqual(me.json["avatar_url"], .null)

            // Call 8: the app reads GET /api/config at every start, as whoever signed in.
            let config = try await server.request(.GET, "/api/config", headers: headers)
            XCTAssertEqual(config.status, 200)
            XCTAssertNil(config.json["general"], "no admin settings for a plain user")
            try await assertEqual(
                await server.request(.GET, "/api/config", token: try await server.token("admin")).json["general"]?["bot_name"], "Guildhall")

            // Refresh: the old token in the header, no body (the app sends Content-Type anyway).
            let refreshed = try await server.request(.POST, "/api/auth/refresh", headers: headers)
            XCTAssertEqual(refreshed.status, 200)
            XCTAssertEqual(refreshed.json["token"]?.stringValue?.split(separator: ".").count, 3)
            XCTAssertEqual(refreshed.json["discord_id"], .string(String(userID)))
            XCTAssertEqual(refreshed.json["role_name"], "User")
            XCTAssertEqual(refreshed.json["user"], "user")
        }
    }

    func testLogoutStopsTheTokenEverywhereAtOnceAndAcrossARestart() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("guildhall-logout-\(UUID().uuidString)")
        let host = TestHost(folder: folder)
        defer { host.removeFolder() }
        let (signedOut, other) = try await host.run(catalogue: []) { server in
            let token = try await server.token("user")
            let other = try await server.token("user")
            XCTAssertNotEqual(token, other, "two sign-ins in one second are two sessions")
            let socket = WSTestClient(port: server.port, path: "/ws", token: token)
            let otherSocket = WSTestClient(port: server.port, path: "/ws", token: other)
            _ = await socket.next("connected")
            _ = await otherSocket.next("connected")

            let started = ContinuousClock.now
            let logout = try await server.request(.POST, "/api/auth/logout", headers: AdminAppCogsTests.appHeaders(token))
            XCTAssertEqual(logout.status, 200)
            XCTAssertEqual(logout.json["connections_closed"], 1)
            let told = await socket.next("disconnected", timeout: .seconds(1))
            XCTAssertEqual(told?["reason"], "logged_out")
            let close = try await socket.closeFrame()
            XCTAssertNotNil(close, "the connection is closed")
            XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))

            for (method, path) in [(HTTPMethod.GET, "/api/ping"), (.GET, "/api/auth/me"), (.POST, "/api/auth/refresh")] {
                let refused = try await server.request(method, path, token: token)
                XCTAssertEqual(refused.status, 401, path)
                XCTAssertEqual(refused.error, "token_revoked", path)
            }
            let reconnect = WSTestClient(port: server.port, path: "/ws", token: token)
            let refusal = try await reconnect.closeFrame()
            XCTAssertEqual(refusal?.closeCode, .init(codeNumber: Int(GatewayCode.invalidToken)), "a signed-out token cannot connect")

            // The same person's other session goes on.
            try await assertEqual(await server.request(.GET, "/api/ping", token: other).status, 200)
            await assertEqual(await otherSocket.drain(for: .milliseconds(200)).filter { $0["action"] == "disconnected" }, [])
            return (token, other)
        }
        try await host.run(catalogue: []) { server in
            try await assertEqual(await server.request(.GET, "/api/ping", token: signedOut).error, "token_revoked", "still out after a restart")
            try await assertEqual(await server.request(.GET, "/api/ping", token: other).status, 200)
        }
    }
}
