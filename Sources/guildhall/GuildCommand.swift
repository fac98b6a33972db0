import ArgumentParser
import Foundation
import Host
import PluginAPI

struct GuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guild", abstract: "Manage guilds in the configured database.", subcommands: [Create.self, List.self])

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
}
