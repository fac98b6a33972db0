import Foundation
import PluginAPI

/// Ticket rooms on the gateway: `join_ticket` / `leave_ticket` `{ticket_id}`. Joining answers `message_history`;
/// the room then hears `new_message` and `ticket_status`. Only the ticket's owner and staff may join.
enum TicketRealtime {
    static func register(_ service: TicketService, on context: any CogContext) {
        let store = service.store
        context.topic("ticket") { identity, guild, topic in
            guard let guild, let id = Int64(topic.dropFirst("ticket:".count)) else { return false }
            return try await store.ticket(id, for: identity, in: guild) != nil
        }
        context.action("join_ticket", access: .user) { call in
            let id = try ticketID(call)
            guard let guild = call.guild, try await store.ticket(id, for: call.caller, in: guild) != nil else { throw TicketRoutes.notFound }
            try await call.join(TicketService.topic(id))
            return [
                "action": "message_history", "ticket_id": .string(String(id)),
                "messages": .array(try await store.messages(of: id).map(\.json)),
            ]
        }
        context.action("leave_ticket", access: .user) { call in
            let id = try ticketID(call)
            call.leave(TicketService.topic(id))
            return ["action": "left_ticket", "ticket_id": .string(String(id))]
        }
    }

    /// `ticket_id` as a string or a number.
    private static func ticketID(_ call: GatewayCall) throws -> Int64 {
        switch call.body["ticket_id"] {
        case .string(let text)?: if let id = Int64(text) { return id }
        case .int(let id)?: return id
        default: break
        }
        throw APIError(.badRequest, "invalid_field", "ticket_id must be a ticket's id.", details: ["field": "ticket_id"])
    }
}
