import Foundation
import PluginAPI

/// The HazeBot ticket API: every route needs a signed-in user; staff (moderators and admins) see every ticket,
/// users their own, and another user's ticket answers 404 as if it did not exist.
struct TicketRoutes {
    let service: TicketService
    let context: any CogContext
    var store: TicketStore { service.store }

    struct NewTicket: Decodable {
        var subject: String
        var message: String
        var category: String?
    }

    struct NewMessage: Decodable {
        var message: String
    }

    func register() {
        context.route(.post, "/api/tickets", access: .user, summary: "Open a ticket {subject, message, category?}") { request, ctx in
            let body = try await request.decodeJSON(NewTicket.self, context: ctx)
            let (ticket, first) = try await service.open(
                by: try ctx.requireIdentity(), subject: body.subject, category: body.category, message: body.message,
                correlationID: ctx.requestID)
            return JSONResponse(.created, [
                "success": true, "ticket": Self.summary(ticket, lastMessage: first.content, unread: 0), "message": first.json,
            ] as JSONValue)
        }
        context.route(.get, "/api/tickets", access: .user, summary: "Tickets the caller may see (?status=open|closed|all)") { request, ctx in
            let status = request.uri.queryParameters["status"].map(String.init) ?? "all"
            guard ["open", "closed", "all"].contains(status) else {
                throw APIError(.badRequest, "invalid_query", "status must be open, closed or all.", details: ["field": "status"])
            }
            let reader = try ctx.requireIdentity()
            let body = try await service.lists.listing(for: reader, status: status) {
                (["tickets": .array(try await store.list(for: reader, status: status == "all" ? nil : status))] as JSONValue).jsonBuffer
            }
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
        }
        context.route(.get, "/api/tickets/:id", access: .user, summary: "A ticket with its messages") { _, ctx in
            let ticket = try await visible(ctx)
            let messages = try await store.messages(of: ticket.id)
            guard case .object(var members) = Self.summary(ticket, lastMessage: messages.last?.content, unread: nil) else { return JSONValue.null }
            members["user_avatar"] = .null
            members["messages"] = .array(messages.map(\.json))
            return .object(members)
        }
        context.route(.post, "/api/tickets/:id/send", access: .user, summary: "Write in a ticket {message}") { request, ctx in
            let ticket = try await visible(ctx)
            let body = try await request.decodeJSON(NewMessage.self, context: ctx)
            let message = try await service.send(body.message, to: ticket.id, from: try ctx.requireIdentity(), correlationID: ctx.requestID)
            let json = message.json
            return [
                "success": true,
                "message": ["id": json["id"]!, "author_id": json["author_id"]!, "content": json["content"]!, "timestamp": json["timestamp"]!],
            ] as JSONValue
        }
        context.route(.post, "/api/tickets/:id/close", access: .moderator, summary: "Close a ticket") { _, ctx in
            let ticket = try await visible(ctx)
            guard try await service.setStatus(ticket.id, open: false, by: try ctx.requireIdentity(), correlationID: ctx.requestID) else {
                throw APIError.conflict("already_closed", "The ticket is closed already.")
            }
            return ["success": true, "message": "Ticket closed"] as JSONValue
        }
        context.route(.post, "/api/tickets/:id/reopen", access: .user, summary: "Reopen a ticket (its owner or staff)") { _, ctx in
            let ticket = try await visible(ctx)
            let caller = try ctx.requireIdentity()
            if caller.userID == ticket.userID, try await store.openCount(of: caller.userID) >= service.config.maxOpenPerUser {
                throw APIError.conflict("too_many_open_tickets", "You have as many open tickets as allowed; close one first.")
            }
            guard try await service.setStatus(ticket.id, open: true, by: caller, correlationID: ctx.requestID) else {
                throw APIError.conflict("already_open", "The ticket is open already.")
            }
            return ["success": true, "message": "Ticket reopened"] as JSONValue
        }
        context.route(.delete, "/api/tickets/:id", access: .admin, summary: "Delete a ticket and its messages") { _, ctx in
            let ticket = try await visible(ctx)
            guard try await service.delete(ticket.id, by: try ctx.requireIdentity(), correlationID: ctx.requestID) else {
                throw Self.notFound
            }
            return ["success": true, "message": "Ticket deleted"] as JSONValue
        }
        context.route(.post, "/api/tickets/:id/mark-read", access: .user, summary: "Clear the caller's unread count") { _, ctx in
            let ticket = try await visible(ctx)
            try await service.markRead(ticket.id, by: try ctx.requireIdentity())
            return ["success": true] as JSONValue
        }
        context.route(.get, "/api/tickets/:id/transcript", access: .user, summary: "The conversation as text (?format=json for JSON)") {
            request, ctx in
            let ticket = try await visible(ctx)
            let format = request.uri.queryParameters["format"].map(String.init) ?? "text"
            guard format == "text" || format == "json" else {
                throw APIError(.badRequest, "invalid_query", "format must be text or json.", details: ["field": "format"])
            }
            // The transcript stored at close, else the conversation as it stands.
            let text: String
            if let stored = try await store.storedTranscript(ticket.id) {
                text = stored
            } else {
                text = try await service.transcript(ticket.id)
            }
            if format == "json" {
                let messages = try await store.messages(of: ticket.id)
                let answer: JSONValue = [
                    "ticket_id": .string(String(ticket.id)), "subject": .string(ticket.subject), "transcript": .string(text),
                    "messages": .array(messages.map(\.json)),
                ]
                return try answer.response(from: request, context: ctx)
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    /// The path's ticket if the caller may see it; 404 otherwise.
    private func visible(_ ctx: GuildhallRequestContext) async throws -> TicketStore.Ticket {
        guard let id = ctx.parameters.get("id", as: Int64.self) else {
            throw APIError.badRequest("invalid_id", "A ticket id is an integer.")
        }
        guard let ticket = try await store.ticket(id, for: try ctx.requireIdentity()) else { throw Self.notFound }
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
