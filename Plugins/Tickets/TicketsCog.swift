import PluginAPI

/// Support tickets with real-time chat. This release ships the cog's manifest and configuration; its routes,
/// gateway rooms and commands arrive with the Tickets issue.
public struct TicketsCog: Cog {
    public static let manifest = CogManifest(
        id: "tickets", displayName: "Tickets", version: "0.1.0",
        summary: "Support tickets with real-time chat between users and staff.",
        routePrefixes: ["/api/tickets"], config: .section("tickets", TicketsConfig.self))

    public init() {}

    public func setup(_ context: any CogContext) async throws {
        _ = try context.config(TicketsConfig.self)
    }
}

/// The `tickets` config section.
public struct TicketsConfig: CogConfiguration {
    /// While false, opening tickets is refused.
    public var enabled = true
    /// How many open tickets one user may have.
    public var maxOpenPerUser = 3
    /// Tickets without a message for this long are closed automatically; 0 never.
    public var autoCloseHours = 72
    /// Whether a transcript is stored when a ticket closes.
    public var transcriptEnabled = true

    public init() {}

    enum CodingKeys: String, CodingKey {
        case enabled
        case maxOpenPerUser = "max_open_per_user"
        case autoCloseHours = "auto_close_hours"
        case transcriptEnabled = "transcript_enabled"
    }
}
