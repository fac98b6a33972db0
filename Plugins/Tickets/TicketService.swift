import Foundation
import PluginAPI

/// What tickets do, whichever way they are reached (HTTP, gateway, bot commands, the auto-close task): the store
/// changes, then the ticket's room hears of it, the bus gets a `ticket.*` event and staff see it in the live log.
struct TicketService: Sendable {
    let store: TicketStore
    let context: any CogContext<TicketsConfig>
    let lists: TicketListCache

    static func topic(_ ticket: Int64) -> String { "ticket:\(ticket)" }

    var config: TicketsConfig { (try? context.config()) ?? TicketsConfig() }

    /// Longest subject and category, in characters.
    static let subjectLimit = 200, categoryLimit = 50

    /// A text field, trimmed, refused when empty or longer than `limit` (the configured message limit by default).
    func validated(_ text: String, field: String, limit: Int? = nil) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw APIError(.badRequest, "empty_\(field)", "The \(field) must not be empty.", details: ["field": .string(field)])
        }
        let limit = limit ?? config.maxMessageLength
        guard trimmed.count <= limit else {
            throw APIError(.badRequest, "\(field)_too_long", "The \(field) is longer than \(limit) characters.", details: ["field": .string(field)])
        }
        return trimmed
    }

    func open(
        by caller: Identity, in guild: GuildScope, subject: String, category: String?, message: String, correlationID: String?
    ) async throws
        -> (TicketStore.Ticket, TicketStore.Message)
    {
        let config = self.config
        guard config.enabled else { throw APIError(.forbidden, "tickets_disabled", "Tickets are switched off.") }
        let subject = try validated(subject, field: "subject", limit: Self.subjectLimit)
        let category = try category.map { try validated($0, field: "category", limit: Self.categoryLimit) }
        let message = try validated(message, field: "message")
        let (ticket, first) = try await store.open(
            by: caller, in: guild, subject: subject, category: category, message: message, maxOpen: config.maxOpenPerUser)
        lists.changed()
        await announce(
            "ticket.opened", ticket: ticket.id, by: caller, extra: ["subject": .string(ticket.subject)], guild: guild.id,
            correlationID: correlationID)
        return (ticket, first)
    }

    func send(_ text: String, to ticket: Int64, from caller: Identity, correlationID: String?) async throws -> TicketStore.Message {
        let content = try validated(text, field: "message")
        let message = try await store.send(content, to: ticket, from: caller)
        lists.changed()
        deliver(message)
        await announce("ticket.message", ticket: ticket, by: caller, extra: ["message_id": .string("msg_\(message.id)")], correlationID: correlationID)
        return message
    }

    /// Closes (`open` false) or reopens a ticket; answers false if it already was.
    @discardableResult
    func setStatus(_ ticket: Int64, open: Bool, by caller: Identity, note: String? = nil, correlationID: String?) async throws -> Bool {
        let text = note ?? (open ? "Ticket reopened by \(caller.username)." : "Ticket closed by \(caller.username).")
        guard let message = try await store.setStatus(ticket, open: open, by: caller, note: text, keepTranscript: config.transcriptEnabled)
        else { return false }
        lists.changed()
        deliver(message)
        context.publish(topic: Self.topic(ticket), [
            "action": "ticket_status", "ticket_id": .string(String(ticket)), "status": .string(open ? "open" : "closed"),
            "changed_by": .string(caller.username),
        ])
        await announce(open ? "ticket.reopened" : "ticket.closed", ticket: ticket, by: caller, extra: [:], correlationID: correlationID)
        return true
    }

    func delete(_ ticket: Int64, by caller: Identity, correlationID: String?) async throws -> Bool {
        guard try await store.delete(ticket) else { return false }
        lists.changed()
        context.publish(topic: Self.topic(ticket), ["action": "ticket_status", "ticket_id": .string(String(ticket)), "status": "deleted"])
        await announce("ticket.deleted", ticket: ticket, by: caller, extra: [:], correlationID: correlationID)
        return true
    }

    /// Marks the ticket read for `reader` only.
    func markRead(_ ticket: Int64, by reader: Identity) async throws {
        try await store.markRead(ticket, by: reader)
        lists.changed()
    }

    /// The conversation as it stands, as plain text.
    func transcript(_ ticket: Int64) async throws -> String {
        TicketStore.transcript(try await store.messages(of: ticket))
    }

    /// Sends a new message to the ticket's room: `new_message` with the message as `message` and `messageData`.
    private func deliver(_ message: TicketStore.Message) {
        context.publish(topic: Self.topic(message.ticketID), [
            "action": "new_message", "ticket_id": .string(String(message.ticketID)), "message": message.json, "messageData": message.json,
        ])
    }

    /// A `ticket.*` event on the bus and a system message in the live log that staff see.
    private func announce(
        _ event: String, ticket: Int64, by caller: Identity, extra: [String: JSONValue], guild: Int64? = nil, correlationID: String?
    ) async {
        var data = extra
        data["ticket_id"] = .string(String(ticket))
        data["user_id"] = .string(String(caller.userID))
        data["username"] = .string(caller.username)
        context.events.publish(event, payload: JSONValue.object(data), guild: guild, correlationID: correlationID)
        do {
            try await context.liveLog.post([
                "type": "system", "event": .string(event), "data": .object(data), "severity": "info", "audience": "staff",
            ])
        } catch {
            context.logger.warning("ticket live-log message not posted", metadata: ["error": "\(error)"])
        }
    }
}
