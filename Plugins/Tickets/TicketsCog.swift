import Foundation
import PluginAPI

/// Support tickets with real-time chat, to the HazeBot API's contract (see docs/tickets.md): users open tickets and
/// write in them, staff answer, close and reopen them, and everyone in a ticket's room sees messages as they come,
/// over the gateway's JSON or Socket.IO transport.
public struct TicketsCog: Cog {
    public typealias Configuration = TicketsConfig

    public static let manifest = CogManifest(
        id: "tickets", displayName: "Tickets", version: "1.1.0", contract: "1.0",
        summary: "Support tickets with real-time chat between users and staff.", category: "community",
        features: ["Support tickets", "Live chat in ticket rooms", "Transcripts", "!ticket command", "Auto-close"],
        routePrefixes: ["/api/tickets"], configSection: "tickets")

    public static let migrations = TicketStore.migrations

    public init() {}

    public func setup(_ context: any CogContext<TicketsConfig>) async throws {
        let settings = try context.config()
        let service = TicketService(
            store: TicketStore(database: context.database), context: context, lists: TicketListCache(cache: context.cache))
        TicketRoutes(service: service, context: context).register()
        TicketRealtime.register(service, on: context)
        context.command(TicketCommands.command(service))
        context.schedule("auto-close", every: .seconds(max(1, settings.autoCloseCheckSeconds))) {
            let hours = service.config.autoCloseHours
            guard hours > 0 else { return }
            let bot = Identity(userID: 0, username: "system", role: .admin)
            for ticket in try await service.store.idle(since: Date().addingTimeInterval(-Double(hours) * 3600)) {
                try await service.setStatus(
                    ticket.id, open: false, by: bot, note: "Closed automatically after \(hours) hours without activity.", correlationID: nil)
            }
        }
    }
}

/// The `tickets` config section, applied live through `/api/config/tickets`.
public struct TicketsConfig: CogConfiguration {
    /// While false, opening tickets is refused.
    public var enabled = true
    /// How many open tickets one user may have.
    public var maxOpenPerUser = 3
    /// Tickets without a message for this long are closed automatically; 0 never.
    public var autoCloseHours = 72
    /// Whether a transcript is stored when a ticket closes.
    public var transcriptEnabled = true
    /// The longest message (and subject) accepted, in characters.
    public var maxMessageLength = 2000
    /// How often idle tickets are looked for (read when the cog loads).
    public var autoCloseCheckSeconds = 300

    public init() {}
}
