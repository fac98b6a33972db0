import ArgumentParser
import Foundation
import PluginAPI

struct GuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guild", abstract: "Manage guilds in the configured database.", subcommands: [Create.self, List.self, APIKeyCommand.self, Export.self, Import.self])

    /// The configured host, with its cogs loaded, for as long as `body` runs.
    static func withHost<T: Sendable>(_ options: ConfigOptions, _ body: @Sendable (GuildhallHost) async throws -> T) async throws -> T {
        let host = try await GuildhallHost(config: try options.load(), catalogue: Deployment.cogs, logger: makeLogger(level: "warning"))
        return try await host.running { try await body(host) }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one guild's data (the guild, its members, switches, overlays and each cog's rows) as JSON.")
        @OptionGroup var options: ConfigOptions
        @Option(name: .customLong("guild-id"), help: "The guild.") var guildID: Int64
        @Option(help: "The file to write; standard output without.") var output: String?

        func run() async throws {
            let document: JSONValue
            do {
                document = try await GuildCommand.withHost(options) { try await $0.exportGuild(guildID) }
            } catch let error as APIError {
                printError(error.message)
                throw ExitCode(1)
            }
            if let output {
                try document.jsonData().write(to: URL(fileURLWithPath: output))
                print("exported guild \(guildID) to \(output)")
            } else {
                FileHandle.standardOutput.write(document.jsonData())
                print()
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a guild from a file `guildhall guild export` wrote (in another deployment, or this one).")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The export file.") var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file), let document = try? JSONValue(parsing: data) else {
                printError("\(file) is not a readable JSON file")
                throw ExitCode(1)
            }
            do {
                let report = try await GuildCommand.withHost(options) { try await $0.importGuild(document, by: "cli") }
                print("imported as guild \(report["guild_id"]?.intValue ?? 0): \(report["guild_name"]?.stringValue ?? "")")
                for cog in report["cogs_imported"]?.arrayValue ?? [] { print("  \(cog.stringValue ?? ""): imported") }
                for note in report["skipped"]?.arrayValue ?? [] { print("  skipped: \(note.stringValue ?? "")") }
            } catch let error as APIError {
                printError(error.message)
                throw ExitCode(1)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a guild.")
        @OptionGroup var options: ConfigOptions
        @Option(help: "The guild's name.") var name: String
        @Option(help: "Its server (realm).") var server: String
        @Option(help: "Its region (eu, us, ...).") var region: String
        @Option(help: "Alliance or Horde.") var faction: String

        func run() async throws {
            guard let faction = Guild.Faction(rawValue: faction.capitalized) else {
                throw ValidationError("--faction must be Alliance or Horde")
            }
            let database = try await openDatabase(options.load())
            do {
                let guild = try await GuildStore(database: database).create(name: name, server: server, region: region, faction: faction)
                print("created guild \(guild.id): \(guild.name) (\(guild.server), \(guild.region), \(guild.faction.rawValue))")
            } catch let error as APIError {
                printError(error.message)
                throw ExitCode(1)
            }
            try database.close()
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the guilds.")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let database = try await openDatabase(options.load())
            for guild in try await GuildStore(database: database).all() {
                print("\(guild.id)\t\(guild.name)\t\(guild.server)\t\(guild.region)\t\(guild.faction.rawValue)\t\(guild.isActive ? "active" : "inactive")")
            }
            try database.close()
        }
    }

    struct APIKeyCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "api-key", abstract: "Create a guild API key for a machine (an uploader, an integration); it is shown once.")
        @OptionGroup var options: ConfigOptions
        @Option(name: .customLong("guild-id"), help: "The guild the key acts in.") var guildID: Int64
        @Option(help: "What the key is for.") var description: String
        @Option(help: "Comma-separated permissions.") var permissions = "stream,query,upload"
        @Option(name: .customLong("events-per-minute")) var eventsPerMinute = APIKeyRequest(description: "").eventsPerMinute
        @Option(name: .customLong("requests-per-minute")) var requestsPerMinute = APIKeyRequest(description: "").requestsPerMinute
        @Option(name: .customLong("max-connections")) var maxConnections = APIKeyRequest(description: "").maxConnections

        func run() async throws {
            let database = try await openDatabase(options.load())
            defer { try? database.close() }
            guard let guild = try await GuildStore(database: database).find(guildID), guild.isActive else {
                printError("there is no active guild \(guildID)")
                throw ExitCode(1)
            }
            let wanted = APIKeyRequest(
                description: description,
                permissions: permissions.split(separator: ",").map { GuildPermission(rawValue: $0.trimmingCharacters(in: .whitespaces)) },
                eventsPerMinute: eventsPerMinute, requestsPerMinute: requestsPerMinute, maxConnections: maxConnections)
            do {
                let (key, secret) = try await APIKeyStore(database: database).create(guild: guild.id, wanted, by: "cli")
                print(secret)
                printError("key \(key.id) for guild \(guild.id) (\(guild.name)); store it now, it is not shown again")
            } catch let error as APIError {
                printError(error.message)
                throw ExitCode(1)
            }
        }
    }
}
