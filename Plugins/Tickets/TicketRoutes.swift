import Foundation
import PluginAPI

/// The HazeBot ticket API: every route needs a signed-in user; staff (moderators and admins) see every ticket,
/// users their own, and another user's ticket answers 404 as if it did not exist.
struct TicketRoutes {
    let service: TicketService
    let context: any CogContext<TicketsConfig>
    var store: TicketStore { service.store }

    struct NewTicket: Decodable, Sendable {
        var subject: String
        var message: String
        var category: String?
    }

    struct NewMessage: Decodable, Sendable {
        var message: String
    }

    struct TicketPath: Decodable, Sendable {
        var id: Int64
    }

    enum StatusFilter: String, Codable, Sendable, CaseIterable {
        case open, closed, all
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

    /// `{"success": true, "message": text}`, the answer of the ticket actions.
    struct Done: Codable, ResponseConvertible {
        var success = true
        var message: String
    }

    private static let missing = ResponseDescription.error(.notFound, "ticket_not_found")

    func register() {
        context.route(
            .post, "/api/tickets", access: .user, summary: "Open a ticket", body: NewTicket.self,
            responses: [.json(.created, JSONValue.self, "The ticket and its first message"), .error(.conflict, "too_many_open_tickets")]
        ) { call in
            let (ticket, first) = try await service.open(
                by: try call.requireIdentity(), in: try call.requireGuild(), subject: call.body.subject, category: call.body.category, message: call.body.message,
                correlationID: call.requestID)
            return JSONResponse(.created, [
                "success": true, "ticket": Self.summary(ticket, lastMessage: first.content, unread: 0), "message": first.json,
            ] as JSONValue)
        }
        context.route(
            .get, "/api/tickets", access: .user, summary: "Tickets the caller may see", query: ListQuery.self,
            responses: [.json(.ok, JSONValue.self, "`{tickets: [...]}` with the caller's unread counts")]
        ) { call in
            let status = call.query.status ?? .all
            let reader = try call.requireIdentity(), guild = try call.requireGuild()
            let body = try await service.lists.listing(for: reader, in: guild, status: status.rawValue) {
                let tickets = try await store.list(for: reader, in: guild, status: status == .all ? nil : status.rawValue)
                return try (["tickets": .array(tickets)] as JSONValue).response()
            }
            return body
        }
        context.route(
            .get, "/api/tickets/{id}", access: .user, summary: "A ticket with its messages", parameters: TicketPath.self,
            responses: [.json(.ok, JSONValue.self, "The ticket with `messages`"), Self.missing]
        ) { call in
            let ticket = try await visible(call)
            let messages = try await store.messages(of: ticket.id)
            guard case .object(var members) = Self.summary(ticket, lastMessage: messages.last?.content, unread: nil) else { return JSONValue.null }
            members["user_avatar"] = .null
            members["messages"] = .array(messages.map(\.json))
            return .object(members)
        }
        context.route(
            .post, "/api/tickets/{id}/send", access: .user, summary: "Write in a ticket", parameters: TicketPath.self,
            body: NewMessage.self, responses: [.json(.ok, JSONValue.self, "The stored message"), Self.missing]
        ) { call in
            let ticket = try await visible(call)
            let message = try await service.send(call.body.message, to: ticket.id, from: try call.requireIdentity(), correlationID: call.requestID)
            let json = message.json
            return [
                "success": true,
                "message": ["id": json["id"]!, "author_id": json["author_id"]!, "content": json["content"]!, "timestamp": json["timestamp"]!],
            ] as JSONValue
        }
        context.route(
            .post, "/api/tickets/{id}/close", access: .moderator, summary: "Close a ticket", parameters: TicketPath.self,
            responses: [.json(.ok, Done.self), Self.missing, .error(.conflict, "already_closed")]
        ) { call in
            let ticket = try await visible(call)
            guard try await service.setStatus(ticket.id, open: false, by: try call.requireIdentity(), correlationID: call.requestID) else {
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
            .delete, "/api/tickets/{id}", access: .admin, summary: "Delete a ticket and its messages", parameters: TicketPath.self,
            responses: [.json(.ok, Done.self), Self.missing]
        ) { call in
            let ticket = try await visible(call)
            guard try await service.delete(ticket.id, by: try call.requireIdentity(), correlationID: call.requestID) else {
                throw Self.notFound
            }
            return Done(message: "Ticket deleted")
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

    /// The path's ticket if the caller may see it; 404 otherwise.
    private func visible<Query, Body>(_ call: RouteCall<TicketPath, Query, Body>) async throws -> TicketStore.Ticket {
        let ticket = try await store.ticket(call.parameters.id, for: try call.requireIdentity(), in: try call.requireGuild())
        guard let ticket else { throw Self.notFound }
        return ticket
    }

    static let notFound = APIError.notFound("ticket_not_found", "There is no such ticket.")

    static func summary(_ ticket: TicketStore.Ticket, lastMessage: String?, unread: Int?) -> JSONValue {
        var members: [String: JSONValue] = [
            "ticket_id": .string(String(ticket.id)), "user_id": .string(String(ticket.userID)), "user_name": .string(ticket.userName),
            "subject": .string(ticket.subject), "category": ticket.category.map(JSONValue.string) ?? .null,
            "status": .string(ticket.status), "created_at": .string(Timestamp.string(from: ticket.createdAt)),
            "last_message": lastMessage.map(JSONValue.string) ?? .null,
        ]
        if let unread { members["unread_count"] = .int(Int64(unread)) }
        if let closedAt = ticket.closedAt { members["closed_at"] = .string(Timestamp.string(from: closedAt)) }
        return .object(members)
    }
}
