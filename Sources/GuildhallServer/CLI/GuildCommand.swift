import ArgumentParser
import Foundation
import PluginAPI

struct GuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guild", abstract: "Manage guilds in the configured database.", subcommands: [Create.self, List.self, APIKeyCommand.self])

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
