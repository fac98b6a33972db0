import ArgumentParser
import Foundation
import Logging

import PluginAPI
import Synchronization

/// The `guildhall` command line — serve, config check, cogs, chat, user, guild, db — for a deployment's own set of
/// cogs. An executable is a few lines that name its cogs:
///
/// ```swift
/// import GuildhallServer
/// import TicketsCog
///
/// @main
/// enum Server {
///     static func main() async {
///         await GuildhallCommand.main(cogs: [TicketsCog.self, MyCog.self])
///     }
/// }
/// ```
public struct GuildhallCommand: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "guildhall",
            abstract: "A plugin host for community services: cogs loaded, unloaded and reloaded at runtime.",
            version: GuildhallHost.version,
            subcommands: [
                Serve.self, ConfigCommand.self, CogsCommand.self, ChatCommand.self, UserCommand.self, GuildCommand.self,
                DatabaseCommand.self,
            ] + Deployment.commands,
            defaultSubcommand: Serve.self)
    }

    public init() {}

    /// Runs the command line with `cogs` as the deployment's catalogue (the cogs `serve` can load, `db migrate`
    /// migrates and `config check` validates) and `commands` as extra subcommands (a cog's own tools).
    public static func main(cogs: [any Cog.Type], commands: [any ParsableCommand.Type] = []) async {
        Deployment.set(cogs: cogs, commands: commands)
        await main()
    }
}

/// What the running executable was built with: its cogs and extra commands, set once at start.
enum Deployment {
    private static let chosen = Mutex<(cogs: [any Cog.Type], commands: [any ParsableCommand.Type])>(([], []))

    static var cogs: [any Cog.Type] { chosen.withLock { $0.cogs } }
    static var commands: [any ParsableCommand.Type] { chosen.withLock { $0.commands } }

    static func set(cogs: [any Cog.Type], commands: [any ParsableCommand.Type]) {
        chosen.withLock { $0 = (cogs, commands) }
    }
}

/// `--config PATH`: the deployment's configuration file.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file (default: ./config.yaml if present, else built-in defaults).")
    var config: String?

    /// The configuration, or an exit with every problem printed (never a stack trace).
    func load() throws -> HostConfig {
        let path = config ?? (FileManager.default.fileExists(atPath: "config.yaml") ? "config.yaml" : nil)
        do {
            return try HostConfig.load(path: path)
        } catch let error as ConfigFileError {
            printError(error.description)
            throw ExitCode(2)
        }
    }
}

/// Prints `error: message` to standard error, as every subcommand reports a problem.
public func printError(_ message: String) {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
}

func makeLogger(level: String) -> Logger {
    var logger = Logger(label: "guildhall")
    logger.logLevel = Logger.Level(rawValue: level) ?? .info
    return logger
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the service until SIGTERM or SIGINT.")

    @OptionGroup var options: ConfigOptions
    @Option(help: "Listen on this port instead of the configured one.")
    var port: Int?

    func run() async throws {
        var config = try options.load()
        if let port { config.server.port = port }
        let logger = makeLogger(level: config.logging.level)
        let host: GuildhallHost
        do {
            host = try await GuildhallHost(config: config, catalogue: Deployment.cogs, logger: logger)
        } catch let error as ConfigFileError {
            printError(error.description)
            throw ExitCode(2)
        }
        logger.info("Guildhall \(GuildhallHost.version) starting", metadata: ["address": "\(config.server.host):\(config.server.port)"])
        try await host.serve()
    }
}
