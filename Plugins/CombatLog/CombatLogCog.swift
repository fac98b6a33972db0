import PluginAPI

/// A multi-tenant World of Warcraft combat log parser. This release ships the cog's manifest and configuration;
/// the parser and its API arrive with the CombatLog issue.
public struct CombatLogCog: Cog {
    public static let manifest = CogManifest(
        id: "combatlog", displayName: "Combat Log", version: "0.1.0",
        summary: "Parses World of Warcraft combat logs into encounters and per-character metrics, per guild.",
        routePrefixes: ["/api/v1/logs", "/api/v1/encounters", "/api/v1/characters"],
        config: .section("combatlog", CombatLogConfig.self))

    public init() {}

    public func setup(_ context: any CogContext) async throws {
        _ = try context.config(CombatLogConfig.self)
    }
}

/// The `combatlog` config section.
public struct CombatLogConfig: CogConfiguration {
    /// Encounters older than this many days are deleted.
    public var retentionDays = 365
    /// The largest upload accepted, in bytes.
    public var maxUploadBytes = 4 << 30

    public init() {}

    enum CodingKeys: String, CodingKey {
        case retentionDays = "retention_days", maxUploadBytes = "max_upload_bytes"
    }
}
