import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// Admins manage users; what they change counts on the user's next request, and a deactivated or deleted user's
/// gateway connections close at once.
final class UserManagementTests: XCTestCase {
    func testAdminsCreateChangeDeactivateAndDeleteUsers() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            let listed = try await server.request(.GET, "/api/v1/users?limit=2", token: admin)
            XCTAssertEqual(listed.status, 200)
            XCTAssertEqual(listed.json["total_count"], 3)
            XCTAssertEqual(listed.json["users"]?.arrayValue?.count, 2)
            try await assertEqual(await server.request(.GET, "/api/v1/users", token: try await server.token("moderator")).status, 403)

            let created = try await server.request(.POST, "/api/v1/users", token: admin, json: ["username": "ann", "password": "password-ann"])
            XCTAssertEqual(created.status, 201)
            XCTAssertEqual(created.json["role"], "user")
            XCTAssertEqual(created.json["is_active"], true)
            let id = try XCTUnwrap(created.json["user_id"]?.intValue)
            try await assertEqual(
                await server.request(.POST, "/api/v1/users", token: admin, json: ["username": "ann", "password": "password-ann"]).error,
                "username_taken")
            try await assertEqual(
                await server.request(.POST, "/api/v1/users", token: admin, json: ["username": "bo", "password": "short"]).error, "weak_password")
            try await assertEqual(
                await server.request(.POST, "/api/v1/users", token: admin, json: ["username": "bo", "password": "password-bo", "role": "god"]).json["field"],
                "role")

            // A role change counts on the next request.
            let ann = try await server.token("ann")
            try await assertEqual(await server.request(.GET, "/api/v1/users", token: ann).status, 403)
            try await assertEqual(await server.request(.PATCH, "/api/v1/users/\(id)", token: admin, json: ["role": "admin"]).json["role"], "admin")
            try await assertEqual(await server.request(.GET, "/api/v1/users", token: ann).status, 200, "admin at once, same token")
            _ = try await server.request(.PATCH, "/api/v1/users/\(id)", token: admin, json: ["role": "user"])

            // Deactivation: the token stops, the connection closes, sign-in is refused; reactivation restores it.
            let socket = WSTestClient(port: server.port, path: "/ws", token: ann)
            _ = await socket.next("connected")
            let started = ContinuousClock.now
            try await assertEqual(await server.request(.PATCH, "/api/v1/users/\(id)", token: admin, json: ["is_active": false]).json["is_active"], false)
            await assertEqual(await socket.next("disconnected", timeout: .seconds(1))?["reason"], "account_deactivated")
            XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))
            try await assertEqual(await server.request(.GET, "/api/ping", token: ann).status, 401)
            let signIn = try await server.request(.POST, "/api/auth/login", json: ["username": "ann", "password": "password-ann"])
            XCTAssertEqual(signIn.status, 403)
            _ = try await server.request(.PATCH, "/api/v1/users/\(id)", token: admin, json: ["is_active": true])
            try await assertEqual(await server.request(.GET, "/api/ping", token: ann).status, 200)

            // A new password ends the sessions of the old one (its socket closes, its token and a refresh of it are
            // refused); then deletion.
            let before = WSTestClient(port: server.port, path: "/ws", token: ann)
            _ = await before.next("connected")
            let reset = try await server.request(.POST, "/api/v1/users/\(id)/reset-password", token: admin, json: ["password": "new-password-ann"])
            XCTAssertEqual(reset.status, 200)
            XCTAssertEqual(reset.json["connections_closed"], 1)
            await assertEqual(await before.next("disconnected", timeout: .seconds(1))?["reason"], "password_reset")
            try await assertEqual(await server.request(.GET, "/api/ping", token: ann).error, "session_ended")
            try await assertEqual(await server.request(.POST, "/api/auth/refresh", token: ann).error, "session_ended")
            let renewed = try await server.request(.POST, "/api/auth/login", json: ["username": "ann", "password": "new-password-ann"])
            XCTAssertEqual(renewed.status, 200)
            let fresh = try XCTUnwrap(renewed.json["token"]?.stringValue)
            try await assertEqual(await server.request(.POST, "/api/auth/refresh", token: fresh).status, 200)
            let again = WSTestClient(port: server.port, path: "/ws", token: fresh)
            _ = await again.next("connected")
            let deleted = try await server.request(.DELETE, "/api/v1/users/\(id)", token: admin)
            XCTAssertEqual(deleted.json["connections_closed"], 1)
            await assertEqual(await again.next("disconnected", timeout: .seconds(1))?["reason"], "account_deleted")
            try await assertEqual(await server.request(.GET, "/api/ping", token: fresh).error, "user_not_found")
            try await assertEqual(await server.request(.DELETE, "/api/v1/users/\(id)", token: admin).error, "user_not_found")
            try await assertEqual(await server.request(.PATCH, "/api/v1/users/abc", token: admin, json: [:]).error, "invalid_id")

            let adminID = try await AdminAppTicketsTests.userID("admin", on: server)
            try await assertEqual(await server.request(.DELETE, "/api/v1/users/\(adminID)", token: admin).error, "cannot_change_self")
            try await assertEqual(
                await server.request(.PATCH, "/api/v1/users/\(adminID)", token: admin, json: ["is_active": false]).error, "cannot_change_self")
        }
    }
}
