import PluginAPI

/// Offline database operations shared by the CLI.
public enum DatabaseMaintenance {
    /// Applies the host's pending migrations, then each cog's; answers `owner/id` of each one applied.
    @discardableResult
    public static func migrate(_ database: SQLiteDatabase, catalogue: [any Cog.Type]) async throws -> [String] {
        let migrator = Migrator(database: database)
        var applied = try await migrator.apply(HostMigrations.all, owner: "host").map { "host/\($0)" }
        for type in catalogue {
            let owner = type.manifest.id
            applied += try await migrator.apply(type.migrations, owner: owner).map { "\(owner)/\($0)" }
        }
        return applied
    }
}
