import Foundation
import PluginAPI

/// What tickets do, whichever way they are reached (HTTP, gateway, bot commands, the housekeeping task): the store
/// changes, then the ticket's room hears of it, the bus gets a `ticket.*` event and staff see it in the live log.
struct TicketService: Sendable {
    let store: TicketStore
    let context: any CogContext<TicketsConfig>
    let lists: TicketListCache

    static func topic(_ ticket: Int64) -> String { "ticket:\(ticket)" }

    /// Who closes, deletes and notes on behalf of the cog itself.
    static let system = Identity(userID: 0, username: "system", role: .admin)

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

    /// `category` as the configured list spells it; refused if the list has it in no letter case.
    func category(_ category: String?) throws -> String? {
        guard let category else { return nil }
        let given = try validated(category, field: "category", limit: Self.categoryLimit)
        let known = config.categories
        guard !known.isEmpty else { return given }
        guard let match = known.first(where: { $0.caseInsensitiveCompare(given) == .orderedSame }) else {
            throw APIError(
                .badRequest, "invalid_category", "The type must be one of: \(known.joined(separator: ", ")).",
                details: ["field": "type", "categories": .array(known.map(JSONValue.string))])
        }
        return match
    }

    func open(
        by caller: Identity, in guild: GuildScope, subject: String, category: String?, message: String, correlationID: String?
    ) async throws
        -> (TicketStore.Ticket, TicketStore.Message)
    {
        let config = self.config
        guard config.enabled else { throw APIError(.forbidden, "tickets_disabled", "Tickets are switched off.") }
        let subject = try validated(subject, field: "subject", limit: Self.subjectLimit)
        let category = try self.category(category)
        let message = try validated(message, field: "message")
        let (ticket, first) = try await store.open(
            by: caller, in: guild, subject: subject, category: category, message: message, maxOpen: config.maxOpenPerUser)
        lists.changed()
        await announce(
            "ticket.opened", ticket: ticket.id, by: caller, extra: ["subject": .string(ticket.subject)], guild: guild.id,
            correlationID: correlationID)
        push(.staff, "ticket_created", ticket: ticket.id, title: "New ticket #\(ticket.id)", body: "\(caller.username): \(ticket.subject)", except: caller)
        return (ticket, first)
    }

    /// Writes in `ticket`. With `require_claim`, staff write only in tickets they claimed or were assigned
    /// (409 `claim_required`); the ticket's creator always may.
    func send(_ text: String, to ticket: TicketStore.Ticket, from caller: Identity, correlationID: String?) async throws -> TicketStore.Message {
        let content = try validated(text, field: "message")
        if config.requireClaim, caller.role >= .moderator, caller.userID != ticket.userID,
            ticket.claimedBy != caller.userID, ticket.assignedTo != caller.userID
        {
            throw APIError.conflict("claim_required", "Claim the ticket (or be assigned to it) before answering.")
        }
        let message = try await store.send(content, to: ticket.id, from: caller)
        lists.changed()
        deliver([message])
        await announce("ticket.message", ticket: ticket.id, by: caller, extra: ["message_id": .string("msg_\(message.id)")], correlationID: correlationID)
        // The other party hears of it: staff (the claimer or assignee, else all staff) when the creator writes, the
        // creator when staff do.
        let handlers = [ticket.claimedBy, ticket.assignedTo].compactMap { $0 }
        let audience: PushAudience =
            caller.userID == ticket.userID ? (handlers.isEmpty ? .staff : .users(handlers)) : .users([ticket.userID])
        push(audience, "ticket_new_messages", ticket: ticket.id, title: "Ticket #\(ticket.id): \(caller.username)", body: content, except: caller)
        return message
    }

    /// Closes (`open` false) or reopens a ticket; answers false if it already was. `closing` (a close message) is
    /// posted into the conversation as the closer's. A close e-mails the transcript when the config asks.
    @discardableResult
    func setStatus(
        _ ticket: Int64, open: Bool, by caller: Identity, note: String? = nil, closing: String? = nil, correlationID: String?
    ) async throws -> Bool {
        let config = self.config
        let text = note ?? (open ? "Ticket reopened by \(caller.username)." : "Ticket closed by \(caller.username).")
        let closing = closing.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        guard
            let messages = try await store.setStatus(
                ticket, open: open, by: caller, note: text, closing: try closing.map { try validated($0, field: "close_message") },
                keepTranscript: config.transcriptEnabled)
        else { return false }
        lists.changed()
        deliver(messages)
        let status = open ? TicketStore.Status.open.rawValue : TicketStore.Status.closed.rawValue
        context.publish(topic: Self.topic(ticket), [
            "action": "ticket_status", "ticket_id": .string(String(ticket)), "status": .string(status), "changed_by": .string(caller.username),
        ])
        update(ticket, open ? "ticket_reopened" : "ticket_closed", [
            "status": .string(status), "changed_by": .string(caller.username), "close_message": closing.map(JSONValue.string) ?? .null,
        ])
        await announce(open ? "ticket.reopened" : "ticket.closed", ticket: ticket, by: caller, extra: [:], correlationID: correlationID)
        if !open && config.sendTranscriptEmail { mailTranscript(of: ticket, to: config.transcriptEmailAddress) }
        return true
    }

    /// Makes `person` the ticket's claimer or assignee (staff only; 409 `ticket_closed` on a closed ticket).
    func setHandler(_ handler: TicketStore.Handler, of ticket: Int64, to person: Identity, by caller: Identity, correlationID: String?)
        async throws
    {
        let note = handler == .claim ? "Ticket claimed by \(person.username)." : "Ticket assigned to \(person.username) by \(caller.username)."
        guard let message = try await store.setHandler(handler, of: ticket, to: person, by: caller, note: note) else {
            throw APIError.conflict("ticket_closed", "The ticket is closed; reopen it first.")
        }
        lists.changed()
        deliver([message])
        let (event, field) = handler == .claim ? ("ticket_claimed", "claimed_by") : ("ticket_assigned", "assigned_to")
        update(ticket, event, [
            field: .string(String(person.userID)), "\(field)_name": .string(person.username),
            "status": .string(handler == .claim ? TicketStore.Status.claimed.rawValue : TicketStore.Status.open.rawValue),
        ])
        await announce(
            handler == .claim ? "ticket.claimed" : "ticket.assigned", ticket: ticket, by: caller,
            extra: [field: .string(String(person.userID))], correlationID: correlationID)
        if handler == .assign {
            push(.users([person.userID]), "ticket_assigned", ticket: ticket, title: "Ticket #\(ticket) assigned to you", body: note, except: caller)
        }
    }

    func delete(_ ticket: Int64, by caller: Identity, correlationID: String?) async throws -> Bool {
        guard try await store.delete(ticket) else { return false }
        lists.changed()
        context.publish(topic: Self.topic(ticket), ["action": "ticket_status", "ticket_id": .string(String(ticket)), "status": "Deleted"])
        update(ticket, "ticket_deleted", [:])
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

    /// Closes open tickets idle for `auto_close_hours`.
    func closeIdleTickets() async throws {
        let hours = config.autoCloseHours
        guard hours > 0 else { return }
        for ticket in try await store.idle(since: Date().addingTimeInterval(-Double(hours) * 3600)) {
            try await setStatus(ticket.id, open: false, by: Self.system, note: "Closed automatically after \(hours) hours without activity.", correlationID: nil)
        }
    }

    /// Deletes tickets closed more than `auto_delete_after_close_days` ago.
    func deleteLongClosedTickets() async throws {
        let days = config.autoDeleteAfterCloseDays
        guard days > 0 else { return }
        for ticket in try await store.closed(before: Date().addingTimeInterval(-Double(days) * 86_400)) {
            _ = try await delete(ticket.id, by: Self.system, correlationID: nil)
        }
    }

    /// Sends the closed ticket's transcript to `address` off the request's path; a failure is logged and told to
    /// staff in the live log, and the close stands.
    private func mailTranscript(of ticket: Int64, to address: String) {
        let context = self.context, store = self.store
        _ = context.spawn("transcript-mail") {
            do {
                var text = try await store.storedTranscript(ticket)
                if text == nil { text = TicketStore.transcript(try await store.messages(of: ticket)) }
                guard let subject = try await store.subject(of: ticket) else { return }
                try await context.mail.send(Mail(to: [address], subject: "Ticket #\(ticket) closed: \(subject)", text: text ?? ""))
            } catch {
                context.logger.warning("transcript of ticket \(ticket) not mailed", metadata: ["error": "\(error)"])
                _ = try? await context.liveLog.post([
                    "type": "system", "event": "ticket.transcript_mail_failed", "severity": "warning", "audience": "staff",
                    "data": ["ticket_id": .string(String(ticket)), "error": .string("\(error)")],
                ])
            }
        }
    }

    /// Sends new messages to the ticket's room: the document's `new_message` (the message as `message` and
    /// `messageData`) and the app's `ticket_update` with `event_type: new_message`.
    private func deliver(_ messages: [TicketStore.Message]) {
        for message in messages {
            context.publish(topic: Self.topic(message.ticketID), [
                "action": "new_message", "ticket_id": .string(String(message.ticketID)), "message": message.json, "messageData": message.json,
            ])
            update(message.ticketID, "new_message", message.json)
        }
    }

    /// The app's `ticket_update {ticket_id, event_type, data}` to the ticket's room.
    private func update(_ ticket: Int64, _ eventType: String, _ data: JSONValue) {
        context.publish(topic: Self.topic(ticket), [
            "action": "ticket_update", "ticket_id": .string(String(ticket)), "event_type": .string(eventType), "data": data,
        ])
    }

    /// A push notification about `ticket` (the admin app opens the ticket from `ticket_id`); a list of users never
    /// includes `except`, who caused it.
    private func push(_ audience: PushAudience, _ kind: String, ticket: Int64, title: String, body: String, except: Identity) {
        let audience: PushAudience =
            if case .users(let ids) = audience { .users(ids.filter { $0 != except.userID }) } else { audience }
        if case .users(let ids) = audience, ids.isEmpty { return }
        context.notifications.notify(
            audience,
            PushNotification(
                kind: kind, title: title, body: String(body.prefix(240)),
                data: ["ticket_id": String(ticket), "ticket_num": String(ticket), "notification_type": kind, "open_tab": "tickets"]))
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
