import Foundation
import PluginAPI

/// `!ticket new <subject>`, `!ticket list`, `!ticket close <id>`.
enum TicketCommands {
    static func command(_ service: TicketService) -> BotCommand {
        BotCommand(
            name: "ticket", usage: "!ticket new <subject> | list | close <id>", summary: "Open, list and close support tickets"
        ) { call in
            guard let guild = call.guild else { throw CommandError("You belong to several guilds: chat in one to use tickets.") }
            switch call.arguments.first?.lowercased() {
            case "new":
                let subject = call.rawArguments.dropFirst(3).trimmingCharacters(in: .whitespaces)
                guard !subject.isEmpty else { throw CommandError("Usage: !ticket new <subject>") }
                do {
                    let (ticket, _) = try await service.open(
                        by: call.caller, in: guild, subject: subject, category: nil, message: subject, correlationID: call.correlationID)
                    return "Opened ticket #\(ticket.id): \(ticket.subject)"
                } catch let error as APIError {
                    throw CommandError(error.message)
                }
            case "list":
                let tickets = try await service.store.views(for: call.caller, in: guild)
                    .filter { $0["status"] != .string(TicketStore.Status.closed.rawValue) }
                guard !tickets.isEmpty else { return "No open tickets." }
                return tickets.prefix(20).map { ticket in
                    let unread = ticket["unread_count"].flatMap { if case .int(let count) = $0, count > 0 { " (\(count) unread)" } else { nil } }
                    return "#\(ticket["ticket_id"]?.stringValue ?? "?") \(ticket["subject"]?.stringValue ?? "") — "
                        + "\(ticket["user_name"]?.stringValue ?? "")\(unread ?? "")"
                }.joined(separator: "\n")
            case "close":
                guard call.arguments.count == 2, let id = Int64(call.arguments[1].trimmingCharacters(in: CharacterSet(charactersIn: "#"))) else {
                    throw CommandError("Usage: !ticket close <id>")
                }
                guard call.caller.role >= .moderator else { throw CommandError("Only moderators and admins close tickets.") }
                guard try await service.store.ticket(id, for: call.caller, in: guild) != nil else { throw CommandError("There is no ticket #\(id).") }
                let closed = try await service.setStatus(id, open: false, by: call.caller, correlationID: call.correlationID)
                return closed ? "Closed ticket #\(id)." : "Ticket #\(id) is closed already."
            default:
                throw CommandError("Usage: !ticket new <subject> | list | close <id>")
            }
        }
    }
}
