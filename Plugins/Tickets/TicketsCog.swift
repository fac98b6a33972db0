import Foundation
import PluginAPI

/// Support tickets with real-time chat, to the HazeBot API's contract (see docs/tickets.md): users open tickets and
/// write in them, staff answer, close and reopen them, and everyone in a ticket's room sees messages as they come,
/// over the gateway's JSON or Socket.IO transport.
public struct TicketsCog: Cog {
    public typealias Configuration = TicketsConfig

    public static let manifest = CogManifest(
        id: "tickets", displayName: "Tickets", version: "1.3.0", contract: "2.0",
        summary: "Support tickets with real-time chat between users and staff.", category: "community",
        features: [
            "Support tickets", "Live chat in ticket rooms", "Claim and assign", "Transcripts by e-mail", "Push notifications",
            "!ticket command", "Auto-close", "Auto-delete",
        ],
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
        let store = service.store
        let transfer = TicketTransfer(database: context.database, people: context.people)
        context.guildData(exporting: { try await transfer.export($0) }, importing: { try await transfer.import($1, into: $0) })
        context.figures {
            let (total, open) = try await store.counts()
            return ["total_tickets": .int(total), "open_tickets": .int(open)]
        }
        context.schedule("housekeeping", every: .seconds(max(1, settings.autoCloseCheckSeconds))) {
            try await service.closeIdleTickets()
            try await service.deleteLongClosedTickets()
        }
        context.validateConfig { config in
            if config.sendTranscriptEmail && !config.transcriptEmailAddress.contains("@") {
                throw APIError(.badRequest, "invalid_config", "send_transcript_email needs a transcript_email_address.")
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
    /// How often idle and long-closed tickets are looked for (read when the cog loads).
    public var autoCloseCheckSeconds = 300
    /// The kinds of ticket a user picks from when opening one; a ticket's `type` (or `category`) must be one of
    /// them (any letter case). Empty accepts any.
    public var categories = ["Application", "Bug", "Support"]
    /// Closed tickets are deleted, with their messages and transcript, this many days after closing; 0 keeps them.
    public var autoDeleteAfterCloseDays = 0
    /// Staff must claim a ticket (or be assigned to it) before writing in it.
    public var requireClaim = false
    /// Whether a ticket's creator may close it (the document says staff only).
    public var ownerCanClose = false
    /// E-mail each closed ticket's transcript to `transcript_email_address` (through the host's `smtp` relay).
    public var sendTranscriptEmail = false
    public var transcriptEmailAddress = ""

    /// What the app's create form reads as a plain user.
    public static var publicKeys: Set<String> { ["categories", "enabled", "max_message_length"] }

    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "max_open_per_user": 1...10_000,
            "auto_close_hours": 0...87_600,
            "max_message_length": 1...1_000_000,
            "auto_close_check_seconds": 1...86_400,
            "auto_delete_after_close_days": 0...36_500,
        ]
    }
}
