import Foundation
import GuildhallTesting
import PluginAPI
import TicketsCog
import XCTest

@testable import GuildhallServer

/// The HazeBot admin app's ticket screens (CONTRACT.md, "Tickets", calls 9-22, and its Socket.IO part), called as
/// the app calls: its headers on every request, JSON bodies, success only on the exact status it checks, and the
/// fields it reads checked for the JSON type it casts them to.
final class AdminAppTicketsTests: XCTestCase {
    /// A call with the app's headers; a body is sent as the app sends it, with its single `Content-Type`.
    static func app(
        _ server: LiveServer, _ method: HTTPMethod, _ path: String, _ token: String, _ body: JSONValue? = nil
    ) async throws -> LiveServer.Reply {
        try await server.request(
            method, path, raw: body.map { String(decoding: $0.jsonData(), as: UTF8.self) }, headers: AdminAppCogsTests.appHeaders(token))
    }

    static func userID(_ name: String, on server: LiveServer) async throws -> Int64 {
        try await server.host.database.read { try $0.scalar("SELECT id FROM users WHERE username = ?", [name]) } ?? -1
    }

    /// The Ticket model's casts (`lib/models/ticket.dart`): a failed one makes the app drop the answer.
    static func assertIsAppTicket(_ ticket: JSONValue?, file: StaticString = #filePath, line: UInt = #line) {
        guard let ticket else { return XCTFail("no ticket", file: file, line: line) }
        XCTAssertNotNil(ticket["ticket_id"]?.stringValue, "ticket_id String!", file: file, line: line)
        XCTAssertNotNil(ticket["ticket_num"]?.intValue, "ticket_num int!", file: file, line: line)
        // Dart's `json[field] as String?` reads an absent field as null.
        for field in [
            "channel_id", "user_id", "username", "display_name", "avatar_url", "type", "status", "created_at", "closed_at", "claimed_by",
            "claimed_by_name", "claimed_by_avatar", "assigned_to", "assigned_to_name", "assigned_to_avatar", "initial_message",
        ] {
            let value = ticket[field]
            XCTAssertTrue(
                value == nil || value == .null || value?.stringValue != nil, "\(field) String or null: \(String(describing: value))",
                file: file, line: line)
        }
        for field in ["user_id", "username", "display_name", "status", "created_at"] {
            XCTAssertNotNil(ticket[field]?.stringValue, "\(field) is shown", file: file, line: line)
        }
        XCTAssertTrue(["Open", "Claimed", "Closed"].contains(ticket["status"]?.stringValue ?? ""), file: file, line: line)
        XCTAssertNotNil(ticket["created_at"]?.stringValue.flatMap { try? Date($0, strategy: .iso8601) }, "DateTime.parse", file: file, line: line)
        XCTAssertNotNil(ticket["reopen_count"]?.intValue, file: file, line: line)
    }

    /// The TicketMessage model's casts.
    static func assertIsAppMessage(_ message: JSONValue?, file: StaticString = #filePath, line: UInt = #line) {
        guard let message else { return XCTFail("no message", file: file, line: line) }
        for field in ["id", "author_id", "author_name", "content", "timestamp"] {
            XCTAssertNotNil(message[field]?.stringValue, "\(field) String!", file: file, line: line)
        }
        for field in ["author_avatar", "role"] {
            XCTAssertTrue(message[field] == .null || message[field]?.stringValue != nil, field, file: file, line: line)
        }
        for field in ["is_bot", "is_admin"] {
            XCTAssertNotNil(message[field].flatMap { if case .bool = $0 { $0 } else { nil } }, "\(field) bool", file: file, line: line)
        }
    }

    func testTheUserAndAdminTicketScreens() async throws {
        let host = TestHost(enabled: ["tickets"])
        defer { host.removeFolder() }
        try await host.run(catalogue: TicketsTests.catalogue) { server in
            let (user, moderator, admin) = (try await server.token("user"), try await server.token("moderator"), try await server.token("admin"))
            let (userID, moderatorID, adminID) = (
                try await Self.userID("user", on: server), try await Self.userID("moderator", on: server), try await Self.userID("admin", on: server)
            )

            // 9: the create form's categories, as a plain user; the admin settings stay the admins'.
            let form = try await Self.app(server, .GET, "/api/config/tickets", user)
            XCTAssertEqual(form.status, 200)
            XCTAssertEqual(form.json["categories"], ["Application", "Bug", "Support"])
            XCTAssertNil(form.json["require_claim"], "admin settings are not shown to users")
            XCTAssertNil(form.json["transcript_email_address"])
            let settings = try await Self.app(server, .GET, "/api/config/tickets", admin).json
            XCTAssertNotNil(settings["auto_delete_after_close_days"]?.intValue)
            for flag in ["require_claim", "send_transcript_email"] { XCTAssertNotNil(settings[flag].flatMap { if case .bool = $0 { $0 } else { nil } }) }
            XCTAssertNotNil(settings["transcript_email_address"]?.stringValue)
            try await assertEqual(await Self.app(server, .GET, "/api/config/general", user).status, 403, "sections without public keys stay closed")

            // 10: create with the app's body; 201 exactly.
            let created = try await Self.app(
                server, .POST, "/api/tickets", user, ["type": "bug", "subject": "Crash on start", "description": "The app closes at once."])
            XCTAssertEqual(created.status, 201)
            XCTAssertNotNil(created.json["ticket_num"]?.intValue)
            let id = try XCTUnwrap(created.json["ticket_id"]?.stringValue)
            let refused = try await Self.app(server, .POST, "/api/tickets", user, ["type": "Billing", "subject": "Money", "description": "Where is it?"])
            XCTAssertEqual(refused.status, 400)
            XCTAssertEqual(refused.error, "invalid_category")
            try await assertEqual(
                await Self.app(server, .POST, "/api/tickets", user, ["type": "Bug", "subject": "No text"]).json["field"], "message")

            // 11, 12: the user's own list and one ticket.
            let mine = try await Self.app(server, .GET, "/api/tickets/my?status=open", user)
            XCTAssertEqual(mine.status, 200)
            let listed = mine.json["tickets"]?.arrayValue ?? []
            XCTAssertEqual(listed.count, 1)
            Self.assertIsAppTicket(listed.first)
            XCTAssertEqual(listed.first?["type"], "Bug")
            XCTAssertEqual(listed.first?["status"], "Open")
            XCTAssertEqual(listed.first?["user_id"], .string(String(userID)))
            XCTAssertEqual(listed.first?["initial_message"], "**Subject:** Crash on start\n\n**Description:**\nThe app closes at once.")
            try await assertEqual(await Self.app(server, .GET, "/api/tickets/my?status=closed", user).json["tickets"], [])
            try await assertEqual(await Self.app(server, .GET, "/api/tickets/my", moderator).json["tickets"], [], "staff's own: none")
            let one = try await Self.app(server, .GET, "/api/tickets/\(id)", user)
            XCTAssertEqual(one.status, 200)
            Self.assertIsAppTicket(one.json)

            // 15, 16: the chat.
            let sent = try await Self.app(server, .POST, "/api/tickets/\(id)/messages", user, ["content": "Any news?"])
            XCTAssertEqual(sent.status, 200)
            Self.assertIsAppMessage(sent.json["data"])
            XCTAssertEqual(sent.json["data"]?["display_content"], "Any news?")
            XCTAssertEqual(sent.json["data"]?["role"], .null)
            let answered = try await Self.app(server, .POST, "/api/tickets/\(id)/messages", moderator, ["content": "Looking into it"])
            XCTAssertEqual(answered.json["data"]?["role"], "moderator")
            XCTAssertEqual(answered.json["data"]?["is_admin"], true)
            let messages = try await Self.app(server, .GET, "/api/tickets/\(id)/messages", user)
            XCTAssertEqual(messages.status, 200)
            let conversation = messages.json["messages"]?.arrayValue ?? []
            conversation.forEach { Self.assertIsAppMessage($0) }
            XCTAssertEqual(conversation.map { $0["content"] }, ["The app closes at once.", "Any news?", "Looking into it"])
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/messages", user, ["content": 5]).json["field"], "content")

            // 17-19: the admin list (status in any case), claim and assign.
            let adminList = try await Self.app(server, .GET, "/api/tickets?status=Open", admin)
            XCTAssertEqual(adminList.json["tickets"]?.arrayValue?.count, 1)
            Self.assertIsAppTicket(adminList.json["tickets"]?.arrayValue?.first)
            let claim = try await Self.app(server, .POST, "/api/tickets/\(id)/claim", moderator, ["user_id": "123456789012345678"])
            XCTAssertEqual(claim.status, 200)
            let claimed = try await Self.app(server, .GET, "/api/tickets/\(id)", admin).json
            XCTAssertEqual(claimed["status"], "Claimed")
            XCTAssertEqual(claimed["claimed_by"], .string(String(moderatorID)), "the caller claims, whatever user_id says")
            XCTAssertEqual(claimed["claimed_by_name"], "moderator")
            try await assertEqual(await Self.app(server, .GET, "/api/tickets?status=claimed", admin).json["tickets"]?.arrayValue?.count, 1)
            try await assertEqual(await Self.app(server, .GET, "/api/tickets?status=OPEN", admin).json["tickets"], [])
            try await assertEqual(await Self.app(server, .GET, "/api/tickets?status=pending", admin).json["field"], "status")
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/claim", user).status, 403)
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/assign", admin, ["assigned_to": .int(adminID)]).status, 200)
            let assigned = try await Self.app(server, .GET, "/api/tickets/\(id)", user).json
            XCTAssertEqual(assigned["assigned_to"], .string(String(adminID)))
            XCTAssertEqual(assigned["assigned_to_name"], "admin")
            let notStaff = try await Self.app(server, .POST, "/api/tickets/\(id)/assign", admin, ["assigned_to": .string(String(userID))])
            XCTAssertEqual(notStaff.error, "not_staff")
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/assign", admin, ["assigned_to": "999999"]).json["field"], "assigned_to")
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/assign", admin, [:]).json["field"], "assigned_to")

            // 13: the creator closes only where the operator allows it; the close message joins the conversation.
            let ownClose = try await Self.app(server, .POST, "/api/tickets/\(id)/close", user, ["close_message": "Fixed itself"])
            XCTAssertEqual(ownClose.status, 403)
            try await assertEqual(await Self.app(server, .PUT, "/api/config/tickets", admin, ["owner_can_close": true]).status, 200)
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/close", user, ["close_message": "Fixed itself"]).status, 200)
            let closed = try await Self.app(server, .GET, "/api/tickets/\(id)", user).json
            XCTAssertEqual(closed["status"], "Closed")
            XCTAssertNotNil(closed["closed_at"]?.stringValue)
            let afterClose = try await Self.app(server, .GET, "/api/tickets/\(id)/messages", user).json["messages"]?.arrayValue ?? []
            XCTAssertEqual(afterClose.suffix(2).map { $0["content"] }, ["Fixed itself", "Ticket closed by user."])
            try await assertEqual(await Self.app(server, .GET, "/api/tickets/my?status=closed", user).json["tickets"]?.arrayValue?.count, 1)
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/claim", moderator).error, "ticket_closed")

            // 14: reopen with the app's Content-Type and no body.
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/reopen", user).status, 200)
            try await assertEqual(await Self.app(server, .GET, "/api/tickets/\(id)", user).json["reopen_count"], 1)
            // A staff close with an empty close message adds only the note.
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/close", moderator, ["close_message": ""]).status, 200)
            try await assertEqual(
                await Self.app(server, .GET, "/api/tickets/\(id)/messages", user).json["messages"]?.arrayValue?.last?["content"],
                "Ticket closed by moderator.")

            // 21, 22: the admin's settings, saved as the app sends them and reset.
            let saved = try await Self.app(server, .PUT, "/api/config/tickets", admin, [
                "categories": ["Support", "Report"], "auto_delete_after_close_days": 30, "require_claim": true, "send_transcript_email": false,
                "transcript_email_address": "",
            ])
            XCTAssertEqual(saved.status, 200)
            try await assertEqual(await Self.app(server, .GET, "/api/config/tickets", user).json["categories"], ["Support", "Report"])
            try await assertEqual(
                await Self.app(server, .PUT, "/api/config/tickets", admin, ["send_transcript_email": true]).status, 422,
                "no address to send to")
            try await assertEqual(await Self.app(server, .POST, "/api/config/tickets/reset", admin).status, 200)
            let reset = try await Self.app(server, .GET, "/api/config/tickets", admin).json
            XCTAssertEqual(reset["require_claim"], false)
            XCTAssertEqual(reset["categories"], ["Application", "Bug", "Support"])

            // 20: delete.
            try await assertEqual(await Self.app(server, .DELETE, "/api/tickets/\(id)", admin).status, 200)
            try await assertEqual(await Self.app(server, .GET, "/api/tickets/\(id)", admin).status, 404)
        }
    }

    func testRequireClaimKeepsStaffOutUntilTheyClaimOrAreAssigned() async throws {
        let host = TestHost(enabled: ["tickets"]) { $0.runtimeSections["tickets"] = ["require_claim": true] }
        defer { host.removeFolder() }
        try await host.run(catalogue: TicketsTests.catalogue) { server in
            let (user, moderator, admin) = (try await server.token("user"), try await server.token("moderator"), try await server.token("admin"))
            let id = try await TicketsTests.open("Locked out", as: user, on: server)
            let early = try await Self.app(server, .POST, "/api/tickets/\(id)/messages", moderator, ["content": "Hello"])
            XCTAssertEqual(early.status, 409)
            XCTAssertEqual(early.error, "claim_required")
            try await assertEqual(await server.request(.POST, "/api/tickets/\(id)/send", token: admin, json: ["message": "Hi"]).error, "claim_required")
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/messages", user, ["content": "Still there?"]).status, 200)
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/claim", moderator).status, 200)
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/messages", moderator, ["content": "Mine now"]).status, 200)
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/messages", admin, ["content": "And me?"]).status, 409)
            let adminID = try await Self.userID("admin", on: server)
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/assign", moderator, ["assigned_to": .int(adminID)]).status, 200)
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/messages", admin, ["content": "Assigned, so yes"]).status, 200)
        }
    }

    func testTheAppsChatSocketGetsTicketUpdatesOnBothTransports() async throws {
        let host = TestHost(enabled: ["tickets"])
        defer { host.removeFolder() }
        try await host.run(catalogue: TicketsTests.catalogue) { server in
            let (user, moderator, admin) = (try await server.token("user"), try await server.token("moderator"), try await server.token("admin"))
            let id = try await TicketsTests.open("Live chat", as: user, on: server)
            let userID = try await Self.userID("user", on: server)
            let socket = try PeerProcess(
                peer: "app_socket_peer.py", arguments: ["http://127.0.0.1:\(server.port)", user, id, String(userID), "10"])
            let json = WSTestClient(port: server.port, path: "/ws", token: user)
            _ = await json.next("connected")
            json.send(["action": "join_ticket", "ticket_id": .string(id), "user_id": .string(String(userID))])
            _ = await json.next("message_history")
            var history: JSONValue?
            while let event = try await socket.nextEvent() {
                if event["event"] == "message_history" {
                    history = event["data"]
                    break
                }
            }
            XCTAssertEqual(history?["ticket_id"], .string(id), "a string ticket_id, or the app drops it")
            (history?["messages"]?.arrayValue ?? []).forEach { Self.assertIsAppMessage($0) }

            _ = try await Self.app(server, .POST, "/api/tickets/\(id)/messages", moderator, ["content": "Hello from staff"])
            _ = try await Self.app(server, .POST, "/api/tickets/\(id)/claim", moderator)
            _ = try await Self.app(server, .POST, "/api/tickets/\(id)/assign", moderator, ["assigned_to": .int(try await Self.userID("admin", on: server))])
            _ = try await Self.app(server, .POST, "/api/tickets/\(id)/close", admin, ["close_message": "Done here"])
            _ = try await Self.app(server, .POST, "/api/tickets/\(id)/reopen", user)
            var updates: [JSONValue] = []
            while updates.count < 10, let event = try await socket.nextEvent() {
                if event["event"] == "ticket_update", let data = event["data"] { updates.append(data) }
            }
            XCTAssertEqual(socket.waitForExit(), 0)
            let kinds = updates.compactMap { $0["event_type"]?.stringValue }
            XCTAssertEqual(kinds.first, "new_message")
            for kind in ["ticket_claimed", "ticket_assigned", "ticket_closed", "ticket_reopened"] { XCTAssertTrue(kinds.contains(kind), "\(kind) in \(kinds)") }
            for update in updates { XCTAssertEqual(update["ticket_id"], .string(id)) }
            Self.assertIsAppMessage(updates.first?["data"])
            XCTAssertEqual(updates.first?["data"]?["display_content"], "Hello from staff")
            XCTAssertEqual(updates.first { $0["event_type"] == "ticket_closed" }?["data"]?["close_message"], "Done here")

            // The JSON transport gets the same updates.
            var overJSON: [String] = []
            while overJSON.count < kinds.count, let frame = await json.next("ticket_update") {
                overJSON.append(frame["event_type"]?.stringValue ?? "?")
            }
            XCTAssertEqual(overJSON, kinds)
        }
    }

    func testClosedTicketsAreMailedThroughARealSMTPServerAndDeletedWhenOld() async throws {
        let smtp = try PeerProcess(peer: "smtp_peer.py", arguments: ["relay-user", "relay-secret"])
        defer { smtp.terminate() }
        let port = try await smtp.nextEvent()?["port"]?.intValue ?? 0
        let host = TestHost(enabled: ["tickets"]) { config in
            config.smtp.host = "127.0.0.1"
            config.smtp.port = Int(port)
            config.smtp.from = "guildhall@example.org"
            config.smtp.username = "relay-user"
            config.smtp.password = "relay-secret"
            config.runtimeSections["tickets"] = [
                "send_transcript_email": true, "transcript_email_address": "support@example.org", "auto_delete_after_close_days": 2,
                "auto_close_check_seconds": 1,
            ]
        }
        defer { host.removeFolder() }
        try await host.run(catalogue: TicketsTests.catalogue) { server in
            let (user, moderator) = (try await server.token("user"), try await server.token("moderator"))
            let id = try await TicketsTests.open("Mail me", as: user, on: server)
            _ = try await Self.app(server, .POST, "/api/tickets/\(id)/messages", moderator, ["content": ".leading dot stays"])
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/close", moderator, ["close_message": "Bye"]).status, 200)
            let mail = try await smtp.nextEvent()
            XCTAssertEqual(mail?["mail_from"], "guildhall@example.org")
            XCTAssertEqual(mail?["rcpt_tos"], ["support@example.org"])
            let data = mail?["data"]?.stringValue ?? ""
            XCTAssertTrue(data.contains("Subject: Ticket #\(id) closed: Mail me"), data)
            XCTAssertTrue(data.contains("user: Help, please"), data)
            XCTAssertTrue(data.contains("moderator (staff): .leading dot stays"), "dot-stuffing undone by the server: \(data)")
            XCTAssertTrue(data.contains("*: Ticket closed by moderator."), data)

            // Closed three days ago: the housekeeping task deletes it; a fresh close stays.
            let fresh = try await TicketsTests.open("Keep me", as: user, on: server)
            _ = try await Self.app(server, .POST, "/api/tickets/\(fresh)/close", moderator)
            try await server.host.database.execute("UPDATE tickets SET closed_at = ? WHERE id = ?", [Date().addingTimeInterval(-3 * 86_400), Int64(id)!])
            try await assertTrue(await eventually { try await Self.app(server, .GET, "/api/tickets/\(id)", moderator).status == 404 })
            try await assertEqual(await Self.app(server, .GET, "/api/tickets/\(fresh)", moderator).status, 200)
        }
    }

    func testAMailServerThatIsDownLeavesTheCloseStandingAndTellsStaff() async throws {
        let port = try MailTests.closedPort()
        let host = TestHost(enabled: ["tickets"]) { config in
            config.smtp.host = "127.0.0.1"
            config.smtp.port = port
            config.smtp.from = "guildhall@example.org"
            config.runtimeSections["tickets"] = ["send_transcript_email": true, "transcript_email_address": "support@example.org"]
        }
        defer { host.removeFolder() }
        try await host.run(catalogue: TicketsTests.catalogue) { server in
            let (user, moderator) = (try await server.token("user"), try await server.token("moderator"))
            let id = try await TicketsTests.open("Nobody home", as: user, on: server)
            try await assertEqual(await Self.app(server, .POST, "/api/tickets/\(id)/close", moderator).status, 200)
            try await assertEqual(await Self.app(server, .GET, "/api/tickets/\(id)", user).json["status"], "Closed")
            try await assertTrue(
                await eventually {
                    let log = try await server.request(.GET, "/api/live-log/messages?limit=50", token: moderator).json["messages"]?.arrayValue ?? []
                    return log.contains { $0["event"] == "ticket.transcript_mail_failed" && $0["data"]?["ticket_id"] == .string(id) }
                }, "staff are told")
        }
    }
}
