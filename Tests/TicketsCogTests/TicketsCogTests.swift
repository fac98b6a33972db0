import Foundation
import GuildhallTesting
import PluginAPI
import TicketsCog
import XCTest

/// The Tickets cog on the test harness: no server, a real SQLite file, a clock the test moves.
final class TicketsCogTests: XCTestCase {
    let ann = Identity.person(.user, id: 10, name: "ann")
    let staff = Identity.person(.moderator, id: 20, name: "mod")

    func testOpenWriteAndReadThroughTheRoutes() async throws {
        let harness = try await CogHarness(TicketsCog.self)
        let opened = await harness.request(.post, "/api/tickets", as: ann, body: ["subject": "Printer", "message": "On fire"])
        XCTAssertEqual(opened.status, .created)
        let id = try XCTUnwrap(opened.json["ticket"]?["ticket_id"]?.stringValue)

        let sent = await harness.request(.post, "/api/tickets/\(id)/send", as: staff, body: ["message": "Water?"])
        XCTAssertEqual(sent.status, .ok)
        let detail = await harness.request(.get, "/api/tickets/\(id)", as: ann)
        guard case .array(let messages)? = detail.json["messages"] else { return XCTFail("no messages: \(detail.text)") }
        XCTAssertEqual(messages.compactMap { $0["content"]?.stringValue }, ["On fire", "Water?"])
        XCTAssertEqual(harness.topicFrames.last?.topic, "ticket:\(id)")
        XCTAssertEqual(harness.publishedEvents.map(\.name), ["ticket.opened", "ticket.message"])

        let anonymous = await harness.request(.get, "/api/tickets/\(id)")
        XCTAssertEqual(anonymous.status, .unauthorized)
        let closedByOwner = await harness.request(.post, "/api/tickets/\(id)/close", as: ann)
        XCTAssertEqual(closedByOwner.status, .forbidden)
        let badID = await harness.request(.get, "/api/tickets/abc", as: ann)
        XCTAssertEqual(badID.error, "invalid_id")
        let badStatus = await harness.request(.get, "/api/tickets?status=pending", as: ann)
        XCTAssertEqual(badStatus.error, "invalid_field")
        let other = Identity.person(.user, id: 11, name: "bob")
        let othersTicket = await harness.request(.get, "/api/tickets/\(id)", as: other)
        XCTAssertEqual(othersTicket.error, "ticket_not_found")
        await harness.tearDown()
    }

    func testATicketBelongsToTheGuildItWasOpenedIn() async throws {
        let alpha = GuildScope(id: 2, name: "Alpha"), beta = GuildScope(id: 3, name: "Beta")
        let harness = try await CogHarness(TicketsCog.self, guilds: [alpha, beta])
        let opened = await harness.request(.post, "/api/tickets", as: ann, guild: alpha, body: ["subject": "Raid", "message": "Help"])
        let id = try XCTUnwrap(opened.json["ticket"]?["ticket_id"]?.stringValue)
        let fromBeta = await harness.request(.get, "/api/tickets/\(id)", as: staff, guild: beta)
        XCTAssertEqual(fromBeta.error, "ticket_not_found", "staff of another guild do not see it")
        let betaList = await harness.request(.get, "/api/tickets", as: staff, guild: beta)
        XCTAssertEqual(betaList.json["tickets"], [])
        let alphaList = await harness.request(.get, "/api/tickets", as: staff, guild: alpha)
        XCTAssertEqual(alphaList.json["tickets"]?.arrayValue?.count, 1)
        XCTAssertEqual(harness.publishedEvents.first?.guildID, alpha.id)
        let joined = try await harness.action("join_ticket", ["ticket_id": .string(id)], as: staff, guild: alpha)
        XCTAssertEqual(joined?["action"], "message_history")
        do {
            _ = try await harness.action("join_ticket", ["ticket_id": .string(id)], as: staff, guild: beta)
            XCTFail("another guild's ticket room stays closed")
        } catch let error as APIError {
            XCTAssertEqual(error.code, "ticket_not_found")
        }
        await harness.tearDown()
    }

    func testTheCommandAndTheAutoCloseTask() async throws {
        let harness = try await CogHarness(TicketsCog.self, config: ["auto_close_hours": 1, "auto_close_check_seconds": 60])
        let reply = try await harness.command("!ticket new Lost my sword", as: ann)
        XCTAssertTrue(reply.hasPrefix("Opened ticket #1"), reply)
        let listed = try await harness.command("!ticket list", as: ann)
        XCTAssertEqual(listed, "#1 Lost my sword — ann")
        let refusedClose = try await harness.command("!ticket close 1", as: ann)
        XCTAssertEqual(refusedClose, "Only moderators and admins close tickets.")

        // An hour and a half without a word: the next check closes it.
        let stale = Timestamp.string(from: Date().addingTimeInterval(-5400))
        try await harness.database.execute("UPDATE tickets SET last_activity_at = ?", [stale])
        await harness.advance(by: .seconds(59))
        let beforeCheck = try await harness.command("!ticket list", as: ann)
        XCTAssertEqual(beforeCheck, "#1 Lost my sword — ann", "not checked yet")
        let failures = await harness.advance(by: .seconds(1))
        XCTAssertTrue(failures.isEmpty)
        let afterCheck = try await harness.command("!ticket list", as: ann)
        XCTAssertEqual(afterCheck, "No open tickets.")
        await harness.tearDown()
    }

    func testSettingsAreValidatedAndAppliedLive() async throws {
        let harness = try await CogHarness(TicketsCog.self)
        try await harness.updateConfig(["max_open_per_user": 1])
        let answer11 = await harness.request(.post, "/api/tickets", as: ann, body: ["subject": "a", "message": "b"])
        XCTAssertEqual(answer11.status, .created)
        let second = await harness.request(.post, "/api/tickets", as: ann, body: ["subject": "c", "message": "d"])
        XCTAssertEqual(second.error, "too_many_open_tickets")
        do {
            try await harness.updateConfig(["max_open_per_user": "many"])
            XCTFail("a string is not a count")
        } catch let error as ConfigValidationError {
            XCTAssertEqual(error.path, "max_open_per_user")
        }
        await harness.tearDown()
    }

    func testAssignmentChecksThePersonAndClosingMailsTheTranscript() async throws {
        let admin = Identity.person(.admin, id: 30, name: "boss")
        let harness = try await CogHarness(
            TicketsCog.self, config: ["send_transcript_email": true, "transcript_email_address": "desk@example.org"],
            people: [ann, staff, admin])
        let opened = await harness.request(.post, "/api/tickets", as: ann, body: ["type": "support", "subject": "Lost", "description": "My key"])
        let id = try XCTUnwrap(opened.json["ticket_id"]?.stringValue)
        XCTAssertEqual(opened.json["ticket"]?["type"], "Support")
        let toUser = await harness.request(.post, "/api/tickets/\(id)/assign", as: staff, body: ["assigned_to": 10])
        XCTAssertEqual(toUser.error, "not_staff")
        let toStranger = await harness.request(.post, "/api/tickets/\(id)/assign", as: staff, body: ["assigned_to": "77"])
        XCTAssertEqual(toStranger.error, "invalid_field")
        let assigned = await harness.request(.post, "/api/tickets/\(id)/assign", as: staff, body: ["assigned_to": "30"])
        XCTAssertEqual(assigned.status, .ok)
        XCTAssertEqual(harness.publishedEvents.last?.name, "ticket.assigned")

        let closed = await harness.request(.post, "/api/tickets/\(id)/close", as: admin, body: ["close_message": "Found it"])
        XCTAssertEqual(closed.status, .ok)
        await harness.waitForSpawnedWork()
        XCTAssertEqual(harness.sentMail.map(\.to), [["desk@example.org"]])
        XCTAssertEqual(harness.sentMail.first?.subject, "Ticket #\(id) closed: Lost")
        XCTAssertTrue(harness.sentMail.first?.text.contains("boss (staff): Found it") ?? false, harness.sentMail.first?.text ?? "")
        await harness.tearDown()
    }

    func testPushNotificationsReachTheOtherPartyAndFiguresCountTickets() async throws {
        let admin = Identity.person(.admin, id: 30, name: "boss")
        let harness = try await CogHarness(TicketsCog.self, people: [ann, staff, admin])
        let opened = await harness.request(.post, "/api/tickets", as: ann, body: ["type": "bug", "subject": "Crash", "description": "Boom"])
        let id = try XCTUnwrap(opened.json["ticket_id"]?.stringValue)
        XCTAssertEqual(harness.sentNotifications.last?.audience, .staff)
        XCTAssertEqual(harness.sentNotifications.last?.notification.kind, "ticket_created")

        // Nobody handles it yet: the creator's message goes to all staff; staff's answer to the creator.
        _ = await harness.request(.post, "/api/tickets/\(id)/messages", as: ann, body: ["content": "Still broken"])
        XCTAssertEqual(harness.sentNotifications.last?.audience, .staff)
        _ = await harness.request(.post, "/api/tickets/\(id)/messages", as: staff, body: ["content": "On it"])
        let answer = try XCTUnwrap(harness.sentNotifications.last)
        XCTAssertEqual(answer.audience, .users([10]))
        XCTAssertEqual(answer.notification.kind, "ticket_new_messages")
        XCTAssertEqual(answer.notification.body, "On it")
        XCTAssertEqual(answer.notification.data["ticket_id"], id)

        // Once claimed, the creator's messages go to the claimer only; assignment tells the assignee.
        _ = await harness.request(.post, "/api/tickets/\(id)/claim", as: staff)
        _ = await harness.request(.post, "/api/tickets/\(id)/messages", as: ann, body: ["content": "Thanks"])
        XCTAssertEqual(harness.sentNotifications.last?.audience, .users([20]))
        _ = await harness.request(.post, "/api/tickets/\(id)/assign", as: staff, body: ["assigned_to": "30"])
        XCTAssertEqual(harness.sentNotifications.last?.audience, .users([30]))
        XCTAssertEqual(harness.sentNotifications.last?.notification.kind, "ticket_assigned")
        let count = harness.sentNotifications.count
        _ = await harness.request(.post, "/api/tickets/\(id)/assign", as: admin, body: ["assigned_to": "30"])
        XCTAssertEqual(harness.sentNotifications.count, count, "nobody is notified of what they did themselves")

        let figures = try await harness.figures()
        XCTAssertEqual(figures["total_tickets"], 1)
        XCTAssertEqual(figures["open_tickets"], 1)
        await harness.tearDown()
    }

    func testAGuildsTicketsMoveToAnotherDeploymentFoundByName() async throws {
        let source = try await CogHarness(TicketsCog.self, people: [ann, staff])
        let opened = await source.request(.post, "/api/tickets", as: ann, body: ["type": "bug", "subject": "Crash", "description": "Boom"])
        let id = try XCTUnwrap(opened.json["ticket_id"]?.stringValue)
        _ = await source.request(.post, "/api/tickets/\(id)/claim", as: staff)
        _ = await source.request(.post, "/api/tickets/\(id)/messages", as: staff, body: ["content": "Looking"])
        let export = try await source.exportGuildData(GuildScope(id: GuildScope.defaultGuildID, name: "Default"))
        let exported = try XCTUnwrap(export)
        XCTAssertEqual(exported["tickets"]?.arrayValue?.count, 1)
        XCTAssertNil(exported["tickets"]?.arrayValue?.first?["user_id"], "people travel by name, not by id")
        await source.tearDown()

        // Elsewhere the same people have other ids; one of them is not there at all.
        let annThere = Identity.person(.user, id: 50, name: "ann")
        let target = try await CogHarness(TicketsCog.self, people: [annThere])
        try await target.importGuildData(exported, into: GuildScope(id: GuildScope.defaultGuildID, name: "Default"))
        let mine = await target.request(.get, "/api/tickets", as: annThere)
        let tickets = mine.json["tickets"]?.arrayValue ?? []
        XCTAssertEqual(tickets.count, 1, "\(mine.text)")
        let newID = try XCTUnwrap(tickets.first?["ticket_id"]?.stringValue)
        XCTAssertEqual(tickets.first?["claimed_by_name"], "mod", "the name is kept")
        let messages = await target.request(.get, "/api/tickets/\(newID)/messages", as: annThere)
        let contents = (messages.json["messages"]?.arrayValue ?? []).compactMap { $0["content"]?.stringValue }
        XCTAssertTrue(contents.contains("Boom") && contents.contains("Looking"), "\(messages.text)")
        await target.tearDown()
    }
}
