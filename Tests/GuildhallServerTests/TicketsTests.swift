import Foundation
import GuildhallTesting
import PluginAPI
import TicketsCog
import XCTest

@testable import GuildhallServer

final class TicketsTests: XCTestCase {
    static let catalogue: [any Cog.Type] = [TicketsCog.self]

    /// Opens a ticket as `token`; answers its id.
    static func open(_ subject: String, as token: String, on server: LiveServer) async throws -> String {
        let reply = try await server.request(.POST, "/api/tickets", token: token, json: ["subject": .string(subject), "message": "Help, please"])
        guard reply.status == 201, let id = reply.json["ticket"]?["ticket_id"]?.stringValue else {
            throw TestFailure("open: \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
        }
        return id
    }

    func testTheTicketLifecycleForEachRole() async throws {
        let host = TestHost(enabled: ["tickets"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let (user, moderator, admin) = (try await server.token("user"), try await server.token("moderator"), try await server.token("admin"))
            _ = try await server.host.users.upsert(username: "other", password: "password-other", role: .user)
            let other = try await server.token("other")

            let opened = try await server.request(
                .POST, "/api/tickets", token: user, json: ["subject": "Printer on fire", "message": "It is on fire", "category": "bug"])
            XCTAssertEqual(opened.status, 201)
            XCTAssertEqual(opened.json["success"], true)
            XCTAssertEqual(opened.json["ticket"]?["status"], "Open")
            XCTAssertEqual(opened.json["ticket"]?["category"], "Bug", "the configured spelling")
            XCTAssertEqual(opened.json["ticket"]?["user_name"], "user")
            XCTAssertEqual(opened.json["message"]?["content"], "It is on fire")
            let id = try XCTUnwrap(opened.json["ticket"]?["ticket_id"]?.stringValue)

            // Who sees what.
            let mine = try await server.request(.GET, "/api/tickets", token: user)
            XCTAssertEqual(mine.json["tickets"]?.arrayValue?.map { $0["ticket_id"] }, [.string(id)])
            try await assertEqual(await server.request(.GET, "/api/tickets", token: other).json["tickets"], [])
            try await assertEqual(await server.request(.GET, "/api/tickets", token: moderator).json["tickets"]?.arrayValue?.count, 1)
            for path in ["/api/tickets/\(id)", "/api/tickets/\(id)/transcript"] {
                let hidden = try await server.request(.GET, path, token: other)
                XCTAssertEqual(hidden.status, 404, "another user's ticket does not exist for them")
                XCTAssertEqual(hidden.error, "ticket_not_found")
            }
            try await assertEqual(await server.request(.POST, "/api/tickets/\(id)/send", token: other, json: ["message": "hi"]).status, 404)

            // A conversation and per-reader unread counts.
            let reply = try await server.request(.POST, "/api/tickets/\(id)/send", token: moderator, json: ["message": "On my way"])
            XCTAssertEqual(reply.json["success"], true)
            XCTAssertEqual(reply.json["message"]?["content"], "On my way")
            XCTAssertTrue(reply.json["message"]?["id"]?.stringValue?.hasPrefix("msg_") ?? false)
            try await assertEqual(await server.request(.GET, "/api/tickets", token: user).json["tickets"]?.arrayValue?.first?["unread_count"], 1)
            try await assertEqual(await server.request(.GET, "/api/tickets", token: admin).json["tickets"]?.arrayValue?.first?["unread_count"], 2,
                                  "the admin has read neither message")
            try await assertEqual(await server.request(.POST, "/api/tickets/\(id)/mark-read", token: user).json, ["success": true])
            try await assertEqual(await server.request(.GET, "/api/tickets", token: user).json["tickets"]?.arrayValue?.first?["unread_count"], 0)
            try await assertEqual(await server.request(.GET, "/api/tickets", token: admin).json["tickets"]?.arrayValue?.first?["unread_count"], 2,
                                  "mark-read resets only the caller's count")
            try await assertEqual(await server.request(.GET, "/api/tickets", token: user).json["tickets"]?.arrayValue?.first?["last_message"], "On my way")

            let detail = try await server.request(.GET, "/api/tickets/\(id)", token: user)
            XCTAssertEqual(detail.json["messages"]?.arrayValue?.map { $0["content"] }, ["It is on fire", "On my way"])
            XCTAssertEqual(detail.json["messages"]?.arrayValue?.map { $0["is_admin"] }, [false, true])
            XCTAssertEqual(detail.json["messages"]?.arrayValue?[1]["author_name"], "moderator")

            // Closing is staff's; the owner may reopen.
            try await assertEqual(await server.request(.POST, "/api/tickets/\(id)/close", token: user).status, 403)
            try await assertEqual(await server.request(.POST, "/api/tickets/\(id)/close", token: moderator).json,
                                  ["success": true, "message": "Ticket closed"])
            try await assertEqual(await server.request(.POST, "/api/tickets/\(id)/close", token: moderator).error, "already_closed")
            try await assertEqual(await server.request(.POST, "/api/tickets/\(id)/send", token: user, json: ["message": "hello?"]).error,
                                  "ticket_closed")
            try await assertEqual(await server.request(.GET, "/api/tickets?status=open", token: user).json["tickets"], [])
            try await assertEqual(await server.request(.GET, "/api/tickets?status=closed", token: user).json["tickets"]?.arrayValue?.count, 1)
            let transcript = try await server.request(.GET, "/api/tickets/\(id)/transcript", token: user)
            XCTAssertEqual(transcript.header("Content-Type"), "text/plain; charset=utf-8")
            let lines = String(decoding: transcript.body, as: UTF8.self).split(separator: "\n")
            XCTAssertEqual(lines.count, 3)
            XCTAssertTrue(lines[0].hasSuffix("user: It is on fire"), String(lines[0]))
            XCTAssertTrue(lines[1].hasSuffix("moderator (staff): On my way"), String(lines[1]))
            XCTAssertTrue(lines[2].hasSuffix("*: Ticket closed by moderator."), String(lines[2]))
            let stored = try await server.host.database.read { try $0.scalar("SELECT COUNT(*) FROM ticket_transcripts WHERE ticket_id = ?", [Int64(id)!]) }
            XCTAssertEqual(stored, 1, "transcript_enabled stores one at close")
            try await assertEqual(await server.request(.GET, "/api/tickets/\(id)/transcript?format=json", token: user).json["messages"]?.arrayValue?.count, 3)
            try await assertEqual(await server.request(.POST, "/api/tickets/\(id)/reopen", token: other).status, 404)
            try await assertEqual(await server.request(.POST, "/api/tickets/\(id)/reopen", token: user).json,
                                  ["success": true, "message": "Ticket reopened"])

            // Deleting is the admin's, and takes the messages with it.
            try await assertEqual(await server.request(.DELETE, "/api/tickets/\(id)", token: moderator).status, 403)
            try await assertEqual(await server.request(.DELETE, "/api/tickets/\(id)", token: admin).json,
                                  ["success": true, "message": "Ticket deleted"])
            try await assertEqual(await server.request(.GET, "/api/tickets/\(id)", token: admin).status, 404)
            let left = try await server.host.database.read { try $0.scalar("SELECT COUNT(*) FROM ticket_messages WHERE ticket_id = ?", [Int64(id)!]) }
            XCTAssertEqual(left, 0)
        }
    }

    func testBadInputAndTheLiveConfig() async throws {
        let host = TestHost(enabled: ["tickets"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let (user, admin) = (try await server.token("user"), try await server.token("admin"))
            for (body, code) in [
                (["subject": "", "message": "x"] as JSONValue, "empty_subject"), (["subject": "x", "message": "   "], "empty_message"),
                (["subject": "x", "message": .string(String(repeating: "a", count: 2001))], "message_too_long"),
                (["subject": "x"], "invalid_field"), (["subject": 5, "message": "x"], "invalid_field"),
                (["subject": .string(String(repeating: "s", count: 201)), "message": "x"], "subject_too_long"),
                (["subject": "x", "message": "y", "category": .string(String(repeating: "c", count: 51))], "category_too_long"),
            ] {
                let refused = try await server.request(.POST, "/api/tickets", token: user, json: body)
                XCTAssertEqual(refused.status, 400, "\(body)")
                XCTAssertEqual(refused.error, code, "\(body)")
            }
            try await assertEqual(await server.request(.POST, "/api/tickets", token: user, raw: "{not json").error, "invalid_json")
            try await assertEqual(await server.request(.GET, "/api/tickets?status=pending", token: user).json["field"], "status")
            try await assertEqual(await server.request(.GET, "/api/tickets/abc", token: user).error, "invalid_id")
            try await assertEqual(await server.request(.GET, "/api/tickets/999", token: user).error, "ticket_not_found")
            try await assertEqual(await server.request(.GET, "/api/tickets").status, 401)
            try await assertEqual(await server.request(.GET, "/api/tickets", token: "forged.token.here").error, "invalid_token")

            // max_open_per_user, then enabled, changed live through the host's config API.
            for number in 1...3 { _ = try await Self.open("Ticket \(number)", as: user, on: server) }
            let fourth = try await server.request(.POST, "/api/tickets", token: user, json: ["subject": "4", "message": "x"])
            XCTAssertEqual(fourth.status, 409)
            XCTAssertEqual(fourth.error, "too_many_open_tickets")
            _ = try await server.request(.PUT, "/api/config/tickets", token: admin, json: ["max_open_per_user": 4])
            _ = try await Self.open("Ticket 4", as: user, on: server)
            _ = try await server.request(.PUT, "/api/config/tickets", token: admin, json: ["enabled": false])
            let disabled = try await server.request(.POST, "/api/tickets", token: admin, json: ["subject": "x", "message": "y"])
            XCTAssertEqual(disabled.status, 403)
            XCTAssertEqual(disabled.error, "tickets_disabled")
            try await assertEqual(await server.request(.PUT, "/api/config/tickets", token: admin, json: ["max_open_per_user": "many"]).error,
                                  "invalid_config")
        }
    }

    func testEventsLiveLogAndCommands() async throws {
        let host = TestHost(enabled: ["tickets"]) { $0.runtimeSections["general"] = ["message_cooldown": 0] }
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let (user, moderator) = (try await server.token("user"), try await server.token("moderator"))
            let staff = WSTestClient(port: server.port, path: "/ws", token: moderator)
            let member = WSTestClient(port: server.port, path: "/ws", token: user)
            for client in [staff, member] {
                _ = await client.next("connected")
                client.send(["action": "subscribe", "message_types": ["system"]])
                _ = await client.next("subscribed")
            }
            let opened = try await server.request(.POST, "/api/bot/messages", token: user, json: ["content": "!ticket new Lost my sword"])
            let reply = try XCTUnwrap(opened.json["reply"]?.stringValue)
            XCTAssertTrue(reply.hasPrefix("Opened ticket #"), reply)
            let system = await Self.nextSystem("ticket.opened", on: staff)
            XCTAssertEqual(system?["data"]?["subject"], "Lost my sword")
            XCTAssertEqual(system?["audience"], "staff")
            let seen = await member.drain(for: .milliseconds(300))
            XCTAssertFalse(seen.contains { $0["event"] == "ticket.opened" }, "staff only")

            let listed = try await server.request(.POST, "/api/bot/messages", token: moderator, json: ["content": "!ticket list"])
            XCTAssertTrue(listed.json["reply"]?.stringValue?.contains("Lost my sword — user") ?? false, "\(listed.json)")
            let id = String(reply.dropFirst("Opened ticket #".count).prefix { $0.isNumber })
            try await assertEqual(
                await server.request(.POST, "/api/bot/messages", token: user, json: ["content": .string("!ticket close \(id)")]).json["reply"],
                "Only moderators and admins close tickets.")
            try await assertEqual(
                await server.request(.POST, "/api/bot/messages", token: moderator, json: ["content": .string("!ticket close \(id)")]).json["reply"],
                .string("Closed ticket #\(id)."))
            await assertEqual(await Self.nextSystem("ticket.closed", on: staff)?["data"]?["ticket_id"], .string(id))
            try await assertEqual(
                await server.request(.POST, "/api/bot/messages", token: user, json: ["content": "!ticket"]).json["reply"],
                "Usage: !ticket new <subject> | list | close <id>")
        }
    }

    /// The next system message called `event` (presence messages may come first).
    static func nextSystem(_ event: String, on client: WSTestClient) async -> JSONValue? {
        while let frame = await client.next("system") {
            if frame["event"] == .string(event) { return frame }
        }
        return nil
    }

    func testRoomsOnTheJSONTransport() async throws {
        let host = TestHost(enabled: ["tickets"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let (user, moderator) = (try await server.token("user"), try await server.token("moderator"))
            _ = try await server.host.users.upsert(username: "other", password: "password-other", role: .user)
            let id = try await Self.open("Broken sword", as: user, on: server)
            let owner = WSTestClient(port: server.port, path: "/ws", token: user)
            let intruder = WSTestClient(port: server.port, path: "/ws", token: try await server.token("other"))
            _ = await owner.next("connected")
            _ = await intruder.next("connected")
            owner.send(["action": "join_ticket", "ticket_id": .string(id)])
            let history = await owner.next("message_history")
            XCTAssertEqual(history?["ticket_id"], .string(id))
            XCTAssertEqual(history?["messages"]?.arrayValue?.map { $0["content"] }, ["Help, please"])
            intruder.send(["action": "join_ticket", "ticket_id": .string(id)])
            await assertEqual(await intruder.next("error")?["details"]?["error"], "ticket_not_found")
            intruder.send(["action": "join_ticket", "ticket_id": "nope"])
            await assertEqual(await intruder.next("error")?["details"]?["field"], "ticket_id")

            _ = try await server.request(.POST, "/api/tickets/\(id)/send", token: moderator, json: ["message": "Forge it anew"])
            let arrived = await owner.next("new_message")
            XCTAssertEqual(arrived?["ticket_id"], .string(id))
            XCTAssertEqual(arrived?["message"]?["content"], "Forge it anew")
            XCTAssertEqual(arrived?["messageData"], arrived?["message"])
            _ = try await server.request(.POST, "/api/tickets/\(id)/close", token: moderator)
            await assertEqual(await owner.next("ticket_status")?["status"], "Closed")
            await assertEqual(await intruder.drain(for: .milliseconds(200)).filter { $0["action"] == "new_message" }, [])
            owner.send(["action": "leave_ticket", "ticket_id": .string(id)])
            _ = await owner.next("left_ticket")
            _ = try await server.request(.POST, "/api/tickets/\(id)/reopen", token: moderator)
            await assertEqual(await owner.drain(for: .milliseconds(200)).filter { $0["action"] == "ticket_status" }, [], "left the room")
        }
    }

    func testTheSocketIOTransportWithPythonSocketIOAsThePeer() async throws {
        let host = TestHost(enabled: ["tickets"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let (user, moderator) = (try await server.token("user"), try await server.token("moderator"))
            let id = try await Self.open("Socket ticket", as: user, on: server)
            let client = try PeerProcess(peer: "socketio_peer.py", arguments: ["http://127.0.0.1:\(server.port)", user, id, "2"])
            let connected = try await client.nextEvent()
            XCTAssertEqual(connected?["event"], "connected")
            let history = try await client.nextEvent()
            XCTAssertEqual(history?["event"], "message_history")
            XCTAssertEqual(history?["data"]?["messages"]?.arrayValue?.map { $0["content"] }, ["Help, please"])
            _ = try await server.request(.POST, "/api/tickets/\(id)/send", token: moderator, json: ["message": "Hello from staff"])
            _ = try await server.request(.POST, "/api/tickets/\(id)/send", token: user, json: ["message": "Thanks"])
            let first = try await client.nextEvent()
            XCTAssertEqual(first?["event"], "new_message")
            XCTAssertEqual(first?["data"]?["ticket_id"], .string(id))
            XCTAssertEqual(first?["data"]?["messageData"]?["content"], "Hello from staff")
            try await assertEqual(try await client.nextEvent()?["data"]?["message"]?["content"], "Thanks")
            XCTAssertEqual(client.waitForExit(), 0)

            let refused = try PeerProcess(peer: "socketio_peer.py", arguments: ["http://127.0.0.1:\(server.port)", "forged", id])
            try await assertEqual(try await refused.nextEvent()?["event"], "connect_error")
            XCTAssertEqual(refused.waitForExit(), 1)
            try await assertTrue(await eventually { server.host.hub.connected.isEmpty }, "nothing left connected")
        }
    }

    func testIdleTicketsAreClosedAutomatically() async throws {
        let host = TestHost(enabled: ["tickets"]) { $0.runtimeSections["tickets"] = ["auto_close_hours": 1, "auto_close_check_seconds": 1] }
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let user = try await server.token("user")
            let idle = try await Self.open("Forgotten", as: user, on: server)
            let busy = try await Self.open("Active", as: user, on: server)
            // Two hours of silence on one ticket.
            try await server.host.database.execute(
                "UPDATE tickets SET last_activity_at = ? WHERE id = ?", [Date().addingTimeInterval(-7200), Int64(idle)!])
            try await assertTrue(
                await eventually { try await server.request(.GET, "/api/tickets/\(idle)", token: user).json["status"] == "Closed" })
            let messages = try await server.request(.GET, "/api/tickets/\(idle)", token: user).json["messages"]?.arrayValue ?? []
            XCTAssertEqual(messages.last?["content"], "Closed automatically after 1 hours without activity.")
            XCTAssertEqual(messages.last?["is_system"], true)
            try await assertEqual(await server.request(.GET, "/api/tickets/\(busy)", token: user).json["status"], "Open")
        }
    }
}
