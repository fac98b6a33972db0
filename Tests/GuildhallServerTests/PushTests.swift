import Foundation
import GuildhallTesting
import PluginAPI
import TicketsCog
import XCTest

@testable import GuildhallServer

/// Push notifications through a stand-in for FCM's HTTP v1 API (Tests/Peers/fcm_peer.py, which checks the signed
/// service-account assertion as Google does): devices and switches as the admin app and document 004 register them,
/// ticket messages to the other party, broadcasts to everyone, tokens FCM reports gone forgotten.
final class PushTests: XCTestCase {
    /// A host whose `push` section names the peer's service account as a key file.
    static func host(peer: JSONValue, enabled: [String] = ["tickets"]) throws -> TestHost {
        let port = try XCTUnwrap(peer["port"]?.intValue)
        let host = TestHost(enabled: enabled)
        try FileManager.default.createDirectory(at: host.folder, withIntermediateDirectories: true)
        let keyFile = host.folder.appendingPathComponent("service-account.json")
        try peer["service_account"]!.jsonData().write(to: keyFile)
        var configured = host
        configured.config.push.serviceAccountFile = keyFile.path
        configured.config.push.fcmBaseURL = "http://127.0.0.1:\(port)"
        return configured
    }

    func testDevicesSwitchesTicketMessagesAndGoneTokens() async throws {
        let fcm = try PeerProcess(peer: "fcm_peer.py", arguments: [])
        defer { fcm.terminate() }
        let started = try await fcm.nextEvent()
        let peer = try XCTUnwrap(started)
        let host = try Self.host(peer: peer)
        defer { host.removeFolder() }
        try await host.run(catalogue: [TicketsCog.self]) { server in
            let user = try await server.token("user")
            let moderator = try await server.token("moderator")
            let admin = try await server.token("admin")
            // The app's register call, and document 004's.
            try await assertEqual(
                await server.request(.POST, "/api/notifications/register", token: user, json: ["fcm_token": "device-user", "device_info": "Pixel 8"]).status,
                200)
            try await assertEqual(
                await server.request(
                    .POST, "/api/notifications/register-token", token: moderator, json: ["fcm_token": "device-moderator", "platform": "android"]
                ).json["message"], "Token registered")
            let settings = try await server.request(.GET, "/api/notifications/settings", token: user).json
            for key in ["notifications_enabled", "ticket_new_messages", "ticket_mentions", "ticket_created", "ticket_assigned"] {
                XCTAssertEqual(settings[key], true, key)
            }

            // A user's new ticket goes to staff; the moderator's answer goes to the user.
            let opened = try await server.request(
                .POST, "/api/tickets", token: user, json: ["type": "bug", "subject": "Crash", "description": "It crashes"])
            let ticket = try XCTUnwrap(opened.json["ticket_id"]?.stringValue)
            let created = try await fcm.nextEvent() ?? .null
            XCTAssertEqual(created["token"], "device-moderator")
            XCTAssertEqual(created["data"]?["notification_type"], "ticket_created")
            XCTAssertEqual(created["data"]?["ticket_id"], .string(ticket))
            _ = try await server.request(.POST, "/api/tickets/\(ticket)/messages", token: moderator, json: ["content": "Looking into it"])
            let answered = try await fcm.nextEvent() ?? .null
            XCTAssertEqual(answered["token"], "device-user")
            XCTAssertEqual(answered["body"], "Looking into it")
            XCTAssertEqual(answered["data"]?["notification_type"], "ticket_new_messages")
            XCTAssertEqual(answered["data"]?["ticket_num"], .string(ticket))
            XCTAssertEqual(answered["data"]?["open_tab"], "tickets")

            // Switched off, the user gets nothing; the app's PUT is kept and read back.
            let put = try await server.request(
                .PUT, "/api/notifications/settings", token: user,
                json: ["notifications_enabled": true, "ticket_new_messages": false, "ticket_mentions": true, "ticket_created": true, "ticket_assigned": true])
            XCTAssertEqual(put.status, 200)
            try await assertEqual(await server.request(.GET, "/api/notifications/settings", token: user).json["ticket_new_messages"], false)
            _ = try await server.request(.POST, "/api/tickets/\(ticket)/messages", token: moderator, json: ["content": "Silent"])
            // The user's reply still reaches the moderator: the next line the peer prints is that one.
            _ = try await server.request(.POST, "/api/tickets/\(ticket)/messages", token: user, json: ["content": "Thanks"])
            let reply = try await fcm.nextEvent() ?? .null
            XCTAssertEqual(reply["token"], "device-moderator")
            XCTAssertEqual(reply["body"], "Thanks")
            try await assertEqual(await server.request(.PUT, "/api/notifications/settings", token: user, json: ["ticket_new_messages": "no"]).json["field"], "ticket_new_messages")
            try await assertEqual(await server.request(.PUT, "/api/notifications/settings", token: user, json: ["Bad Key": true]).json["field"], "Bad Key")
            try await assertEqual(await server.request(.PUT, "/api/notifications/settings", token: user, json: [1, 2]).error, "invalid_field", "valid JSON, not an object of switches")

            // The admin's test call says what happened; a token FCM no longer knows is forgotten.
            _ = try await server.request(.POST, "/api/notifications/register", token: admin, json: ["fcm_token": "gone-admin-phone"])
            let test = try await server.request(.POST, "/api/notifications/test", token: admin, json: ["title": "Hi", "body": "Test"])
            XCTAssertEqual(test.json["sent"], 0)
            XCTAssertEqual(test.json["results"]?.arrayValue?.first?["outcome"], "token_removed")
            try await assertEqual(await server.request(.POST, "/api/notifications/test", token: admin, json: [:]).error, "no_devices")
            let direct = try await server.request(.POST, "/api/notifications/test", token: admin, json: ["fcm_token": "device-user", "title": "Direct"])
            XCTAssertEqual(direct.json["sent"], 1)
            try await assertEqual(await fcm.nextEvent()?["title"], "Direct")
            try await assertEqual(await server.request(.POST, "/api/notifications/test", token: user, json: [:]).status, 403)

            // Unregistered, and bad bodies.
            try await assertEqual(
                await server.request(.POST, "/api/notifications/unregister", token: user, json: ["fcm_token": "device-user"]).json["removed"], true)
            try await assertEqual(
                await server.request(.POST, "/api/notifications/unregister", token: moderator, json: ["fcm_token": "device-user"]).json["removed"], false)
            try await assertEqual(await server.request(.POST, "/api/notifications/register", token: user, json: ["fcm_token": ""]).json["field"], "fcm_token")
            try await assertEqual(await server.request(.POST, "/api/notifications/register", token: user, json: ["fcm_token": 5]).error, "invalid_field")
            try await assertEqual(await server.request(.POST, "/api/notifications/register", json: ["fcm_token": "x"]).status, 401)
            let devices = try await server.host.database.read { try $0.scalar("SELECT COUNT(*) FROM push_devices") }
            XCTAssertEqual(devices, 1, "only the moderator's device is left")
        }
    }

    func testBroadcastReachesTheLiveLogTheBusAndEveryDevice() async throws {
        let fcm = try PeerProcess(peer: "fcm_peer.py", arguments: [])
        defer { fcm.terminate() }
        let started = try await fcm.nextEvent()
        let host = try Self.host(peer: try XCTUnwrap(started), enabled: [])
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            let user = try await server.token("user")
            _ = try await server.request(.POST, "/api/notifications/register", token: user, json: ["fcm_token": "device-user"])
            let listener = WSTestClient(port: server.port, path: "/ws/live-log", token: user)
            _ = await listener.next("connected")
            listener.send(["action": "subscribe", "message_types": ["system"]])
            _ = await listener.next("subscribed")

            let sent = try await server.request(
                .POST, "/api/admin/broadcast", token: admin, json: ["title": "Maintenance", "message": "Back at 10", "priority": "high"])
            XCTAssertEqual(sent.status, 200, "\(sent.json)")
            XCTAssertEqual(sent.json["push"], true)
            let system = await listener.next("system")
            let frame = try XCTUnwrap(system)
            XCTAssertEqual(frame["event"], "admin.broadcast")
            XCTAssertEqual(frame["data"]?["title"], "Maintenance")
            XCTAssertEqual(frame["severity"], "warning")
            let pushed = try await fcm.nextEvent() ?? .null
            XCTAssertEqual(pushed["token"], "device-user")
            XCTAssertEqual(pushed["title"], "Maintenance")
            XCTAssertEqual(pushed["data"]?["notification_type"], "broadcast")

            try await assertEqual(
                await server.request(.POST, "/api/admin/broadcast", token: admin, json: ["title": "x", "message": "y", "priority": "urgent"]).json["field"],
                "priority")
            try await assertEqual(await server.request(.POST, "/api/admin/broadcast", token: admin, json: ["title": "", "message": "y"]).json["field"], "title")
            try await assertEqual(await server.request(.POST, "/api/admin/broadcast", token: user, json: ["title": "x", "message": "y"]).status, 403)
            listener.close()
        }
    }

    func testABadServiceAccountIsRefusedAtStartWithTheReason() throws {
        var config = HostConfig()
        config.push.projectID = "only-a-project"
        XCTAssertThrowsError(try FCMSender.account(from: config.push)) { error in
            XCTAssertTrue("\(error)".contains("project_id, client_email and private_key"), "\(error)")
        }
        config.push = PushSettings()
        config.push.serviceAccountFile = "/no/such/key.json"
        XCTAssertThrowsError(try FCMSender.account(from: config.push))
        XCTAssertNil(try FCMSender.account(from: PushSettings()), "no credentials: push is off, not an error")
    }
}
