import Foundation
import PluginAPI

/// A multi-tenant World of Warcraft combat log parser: guilds upload logs with their API keys, the cog parses them
/// as they stream in and keeps each guild's encounters, characters and per-character figures, queryable only by
/// that guild. See docs/combatlog.md.
public struct CombatLogCog: Cog {
    public typealias Configuration = CombatLogConfig

    public static let manifest = CogManifest(
        id: "combatlog", displayName: "Combat Log", version: "1.2.0", contract: "2.0",
        summary: "Parses World of Warcraft combat logs into encounters and per-character metrics, per guild.",
        category: "games", features: ["Combat log uploads", "Encounters and character figures", "Live parse progress", "Per-guild data"],
        routePrefixes: [
            "/api/v1/logs", "/api/v1/encounters", "/api/v1/characters", "/api/v1/admin/guilds/*/activity",
            "/api/v1/admin/guilds/*/overview", "/api/v1/admin/combatlog",
        ],
        configSection: "combatlog")

    public static let migrations = CombatLogSchema.migrations

    public init() {}

    public func setup(_ context: any CogContext<CombatLogConfig>) async throws {
        let store = CombatLogStore(database: context.database)
        let processor = UploadProcessor(store: store, context: context)
        CombatLogRoutes(context: context, store: store, processor: processor).register()
        BreakdownRoutes(context: context, store: store).register()
        context.spawn("resume interrupted uploads") { try await processor.resumeInterrupted() }
        context.guildData(
            exporting: { guild in try await store.exportGuild(guild.id) },
            importing: { guild, data in try await store.importGuild(data, into: guild.id, name: guild.name) })
        let interval = try context.config().retentionIntervalSeconds
        context.schedule("retention", every: .seconds(max(1, interval)), forEachGuild: { guild in
            let days = try context.config(for: guild).retentionDays
            let purged = try await store.purge(guild: guild.id, before: Date().addingTimeInterval(-Double(days) * 86_400))
            if purged > 0 { context.logger.info("combat log retention", metadata: ["guild": "\(guild.id)", "purged": "\(purged)"]) }
        })
    }
}

/// The `combatlog` config section (a guild may overlay it).
public struct CombatLogConfig: CogConfiguration {
    /// A guild's encounters older than this many days are deleted.
    public var retentionDays = 365
    /// How often retention runs (read when the cog loads).
    public var retentionIntervalSeconds = 3600
    /// The largest upload accepted, in bytes (as sent: a gzip upload counts compressed).
    public var maxUploadBytes: Int64 = 4 << 30
    /// How far back a death recap looks: the hits and heals a player took in the seconds before dying.
    public var deathRecapSeconds = 10

    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "retention_days": 1...36_500,
            "retention_interval_seconds": 1...86_400,
            "max_upload_bytes": 1...Double(1 << 40),
            "death_recap_seconds": 1...600,
        ]
    }
}
