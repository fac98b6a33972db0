import Foundation
import PluginAPI

/// The ticket API, to document 004 and to the HazeBot admin app over one implementation: every route needs a
/// signed-in user; staff (moderators and admins) see every ticket, users their own, and another user's ticket
/// answers 404 as if it did not exist.
struct TicketRoutes {
    let service: TicketService
    let context: any CogContext<TicketsConfig>
    var store: TicketStore { service.store }

    /// The document's `{subject, message, category?}` or the app's `{type, subject, description}`.
    struct NewTicket: Decodable, Sendable {
        var subject: String
        var message: String?
        var description: String?
        var category: String?
        var type: String?
    }

    /// The document's `{message}` (`/send`) or the app's `{content}` (`/messages`).
    struct NewMessage: Decodable, Sendable {
        var message: String?
        var content: String?
    }

    struct TicketPath: Decodable, Sendable {
        var id: Int64
    }

    /// A status to list, in any letter case (`?status=open` and `?status=Open` alike).
    enum StatusFilter: String, Decodable, Sendable, CaseIterable {
        case open, claimed, closed, all

        init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let value = Self(rawValue: text.lowercased()) else {
                throw DecodingError.typeMismatch(
                    Self.self, .init(codingPath: decoder.codingPath, debugDescription: "one of: open, claimed, closed, all (any case)"))
            }
            self = value
        }

        var status: TicketStore.Status? {
            switch self {
            case .open: .open
            case .claimed: .claimed
            case .closed: .closed
            case .all: nil
            }
        }
    }

    struct ListQuery: Decodable, Sendable {
        var status: StatusFilter?
    }

    enum TranscriptFormat: String, Codable, Sendable, CaseIterable {
        case text, json
    }

    struct TranscriptQuery: Decodable, Sendable {
        var format: TranscriptFormat?
    }

    /// The app's `{close_message}`; the document's clients send no body.
    struct Closing: Decodable, Sendable {
        var closeMessage: String?
    }

    /// The app's `{assigned_to}`: a user id, as a string or a number.
    struct Assignment: Decodable, Sendable {
        var assignedTo: JSONValue
    }

    /// `{"success": true, "message": text}`, the answer of the ticket actions.
    struct Done: Codable, ResponseConvertible {
        var success = true
        var message: String
    }

    private static let missing = ResponseDescription.error(.notFound, "ticket_not_found")

    func register() {
        registerLists()
        registerConversation()
        registerHandling()
    }

    private func registerLists() {
        context.route(
            .post, "/api/tickets", access: .user, summary: "Open a ticket: `{subject, message, category?}` or `{type, subject, description}`",
            body: NewTicket.self,
            responses: [
                .json(.created, JSONValue.self, "The ticket (`ticket`, `ticket_id`, `ticket_num`) and its first message"),
                .error(.conflict, "too_many_open_tickets"),
                .error(
                    .badRequest, "invalid_category", "empty_subject", "subject_too_long", "empty_message", "message_too_long",
                    "empty_category", "category_too_long"),
                .error(.forbidden, "tickets_disabled"),
            ]
        ) { call in
            let body = call.body
            guard let text = body.message ?? body.description else {
                throw APIError(.badRequest, "invalid_field", "Field 'message' (or 'description'): expected a string.", details: ["field": "message"])
            }
            let (caller, guild) = (try call.requireIdentity(), try call.requireGuild())
            let (ticket, first) = try await service.open(
                by: caller, in: guild, subject: body.subject, category: body.type ?? body.category, message: text, correlationID: call.requestID)
            let view = try await store.views(for: caller, in: guild, id: ticket.id).first ?? .null
            return JSONResponse(.created, [
                "success": true, "ticket": view, "message": first.json, "ticket_id": .string(String(ticket.id)), "ticket_num": .int(ticket.id),
            ] as JSONValue)
        }
        context.route(
            .get, "/api/tickets", access: .user, summary: "Tickets the caller may see (staff: all of the guild's)", query: ListQuery.self,
            responses: [.json(.ok, JSONValue.self, "`{tickets: [...], total}` with the caller's unread counts")]
        ) { call in
            try await listing(call, mine: false)
        }
        context.route(
            .get, "/api/tickets/my", access: .user, summary: "The caller's own tickets", query: ListQuery.self,
            responses: [.json(.ok, JSONValue.self, "`{tickets: [...], total}`")]
        ) { call in
            try await listing(call, mine: true)
        }
        context.route(
            .get, "/api/tickets/{id}", access: .user, summary: "A ticket with its messages", parameters: TicketPath.self,
            responses: [.json(.ok, JSONValue.self, "The ticket with `messages`"), Self.missing]
        ) { call in
            let ticket = try await visible(call)
            guard case .object(var members)? = try await store.views(for: try call.requireIdentity(), in: try call.requireGuild(), id: ticket.id).first
            else { throw Self.notFound }
            members["user_avatar"] = .null
            members["messages"] = .array(try await store.messages(of: ticket.id).map(\.json))
            return JSONValue.object(members)
        }
        context.route(
            .delete, "/api/tickets/{id}", access: .admin, summary: "Delete a ticket and its messages", parameters: TicketPath.self,
            responses: [.json(.ok, Done.self), Self.missing]
        ) { call in
            let ticket = try await visible(call)
            guard try await service.delete(ticket.id, by: try call.requireIdentity(), correlationID: call.requestID) else {
                throw Self.notFound
            }
            return Done(message: "Ticket deleted")
        }
    }

    /// `{tickets, total}`: cached per reader, status and kind of list, since dashboards poll it.
    private func listing<Body>(_ call: RouteCall<None, ListQuery, Body>, mine: Bool) async throws -> CogResponse {
        let status = call.query.status ?? .all
        let reader = try call.requireIdentity(), guild = try call.requireGuild()
        return try await service.lists.listing(for: reader, in: guild, list: "\(mine ? "my" : "all"):\(status.rawValue)") {
            let tickets = try await store.views(for: reader, in: guild, status: status.status, mine: mine)
            return try (["tickets": .array(tickets), "total": .int(Int64(tickets.count))] as JSONValue).response()
        }
    }

    private func registerConversation() {
        context.route(
            .post, "/api/tickets/{id}/send", access: .user, summary: "Write in a ticket (document 004: `{message}`)", parameters: TicketPath.self,
            body: NewMessage.self, responses: [.json(.ok, JSONValue.self, "The stored message"), Self.missing, .error(.conflict, "ticket_closed")]
        ) { call in
            let json = try await write(call).json
            return [
                "success": true,
                "message": ["id": json["id"]!, "author_id": json["author_id"]!, "content": json["content"]!, "timestamp": json["timestamp"]!],
            ] as JSONValue
        }
        context.route(
            .post, "/api/tickets/{id}/messages", access: .user, summary: "Write in a ticket (the app: `{content}`)", parameters: TicketPath.self,
            body: NewMessage.self,
            responses: [.json(.ok, JSONValue.self, "`{success, message, data}`: `data` is the stored message"), Self.missing,
                        .error(.conflict, "ticket_closed", "claim_required")]
        ) { call in
            ["success": true, "message": "Message sent successfully", "data": try await write(call).json] as JSONValue
        }
        context.route(
            .get, "/api/tickets/{id}/messages", access: .user, summary: "A ticket's messages, oldest first", parameters: TicketPath.self,
            responses: [.json(.ok, JSONValue.self, "`{messages: [...]}`"), Self.missing]
        ) { call in
            let ticket = try await visible(call)
            return ["messages": .array(try await store.messages(of: ticket.id).map(\.json))] as JSONValue
        }
        context.route(
            .post, "/api/tickets/{id}/mark-read", access: .user, summary: "Clear the caller's unread count", parameters: TicketPath.self,
            responses: [.json(.ok, JSONValue.self, "`{success: true}`"), Self.missing]
        ) { call in
            let ticket = try await visible(call)
            try await service.markRead(ticket.id, by: try call.requireIdentity())
            return ["success": true] as JSONValue
        }
        context.route(
            .get, "/api/tickets/{id}/transcript", access: .user, summary: "The conversation as text, or JSON with ?format=json",
            parameters: TicketPath.self, query: TranscriptQuery.self,
            responses: [.content(.ok, "text/plain", "The transcript"), .json(.ok, JSONValue.self, "With ?format=json"), Self.missing]
        ) { call in
            let ticket = try await visible(call)
            // The transcript stored at close, else the conversation as it stands.
            let text: String
            if let stored = try await store.storedTranscript(ticket.id) {
                text = stored
            } else {
                text = try await service.transcript(ticket.id)
            }
            guard call.query.format == .json else { return CogResponse.text(text) }
            let messages = try await store.messages(of: ticket.id)
            let answer: JSONValue = [
                "ticket_id": .string(String(ticket.id)), "subject": .string(ticket.subject), "transcript": .string(text),
                "messages": .array(messages.map(\.json)),
            ]
            return try answer.response()
        }
    }

    /// Stores the call's message (`message` or `content`) in the path's ticket.
    private func write(_ call: RouteCall<TicketPath, None, NewMessage>) async throws -> TicketStore.Message {
        let ticket = try await visible(call)
        guard let text = call.body.message ?? call.body.content else {
            throw APIError(.badRequest, "invalid_field", "Field 'content' (or 'message'): expected a string.", details: ["field": "content"])
        }
        return try await service.send(text, to: ticket, from: try call.requireIdentity(), correlationID: call.requestID)
    }

    private func registerHandling() {
        context.route(
            .post, "/api/tickets/{id}/close", access: .user,
            summary: "Close a ticket (staff; its creator too with `owner_can_close`), with an optional `{close_message}`",
            parameters: TicketPath.self, body: Closing.self,
            responses: [.json(.ok, Done.self), Self.missing, .error(.conflict, "already_closed"), .error(.forbidden, "forbidden")]
        ) { call in
            let ticket = try await visible(call)
            let caller = try call.requireIdentity()
            guard caller.role >= .moderator || (caller.userID == ticket.userID && service.config.ownerCanClose) else {
                throw APIError.forbidden("Only staff close tickets here.")
            }
            guard
                try await service.setStatus(ticket.id, open: false, by: caller, closing: call.body.closeMessage, correlationID: call.requestID)
            else {
                throw APIError.conflict("already_closed", "The ticket is closed already.")
            }
            return Done(message: "Ticket closed")
        }
        context.route(
            .post, "/api/tickets/{id}/reopen", access: .user, summary: "Reopen a ticket (its owner or staff)", parameters: TicketPath.self,
            responses: [.json(.ok, Done.self), Self.missing, .error(.conflict, "already_open", "too_many_open_tickets")]
        ) { call in
            let ticket = try await visible(call)
            let caller = try call.requireIdentity()
            if caller.userID == ticket.userID,
                try await store.openCount(of: caller.userID, in: call.requireGuild()) >= service.config.maxOpenPerUser
            {
                throw APIError.conflict("too_many_open_tickets", "You have as many open tickets as allowed; close one first.")
            }
            guard try await service.setStatus(ticket.id, open: true, by: caller, correlationID: call.requestID) else {
                throw APIError.conflict("already_open", "The ticket is open already.")
            }
            return Done(message: "Ticket reopened")
        }
        context.route(
            .post, "/api/tickets/{id}/claim", access: .moderator,
            summary: "Take a ticket: the caller becomes its handler and it shows `Claimed` (the app's `{user_id}` is not needed)",
            parameters: TicketPath.self, responses: [.json(.ok, Done.self), Self.missing, .error(.conflict, "ticket_closed")]
        ) { call in
            let ticket = try await visible(call)
            let caller = try call.requireIdentity()
            try await service.setHandler(.claim, of: ticket.id, to: caller, by: caller, correlationID: call.requestID)
            return Done(message: "Ticket claimed")
        }
        context.route(
            .post, "/api/tickets/{id}/assign", access: .moderator, summary: "Assign a ticket to a staff member: `{assigned_to: user id}`",
            parameters: TicketPath.self, body: Assignment.self,
            responses: [.json(.ok, Done.self), Self.missing, .error(.badRequest, "invalid_field", "not_staff"), .error(.conflict, "ticket_closed")]
        ) { call in
            let ticket = try await visible(call)
            let guild = try call.requireGuild()
            let id: Int64?
            switch call.body.assignedTo {
            case .int(let number): id = number
            case .string(let text): id = Int64(text.trimmingCharacters(in: .whitespaces))
            default: id = nil
            }
            guard let id, let person = try await context.people.person(id, in: guild) else {
                throw APIError(
                    .badRequest, "invalid_field", "Field 'assigned_to': expected the id of a person in this guild.", details: ["field": "assigned_to"])
            }
            guard person.role >= .moderator else {
                throw APIError(.badRequest, "not_staff", "\(person.username) is not staff; tickets are assigned to moderators and admins.")
            }
            try await service.setHandler(.assign, of: ticket.id, to: person, by: try call.requireIdentity(), correlationID: call.requestID)
            return Done(message: "Ticket assigned to \(person.username)")
        }
    }

    /// The path's ticket if the caller may see it; 404 otherwise.
    private func visible<Query, Body>(_ call: RouteCall<TicketPath, Query, Body>) async throws -> TicketStore.Ticket {
        let ticket = try await store.ticket(call.parameters.id, for: try call.requireIdentity(), in: try call.requireGuild())
        guard let ticket else { throw Self.notFound }
        return ticket
    }

    static let notFound = APIError.notFound("ticket_not_found", "There is no such ticket.")
}
