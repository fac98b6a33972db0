import ArgumentParser
import Foundation
import Host
import Logging

@main
struct Guildhall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guildhall",
        abstract: "A plugin host for community services: cogs loaded, unloaded and reloaded at runtime.",
        version: GuildhallHost.version,
        subcommands: [
            Serve.self, ConfigCommand.self, CogsCommand.self, ChatCommand.self, UserCommand.self, GuildCommand.self,
            DatabaseCommand.self, CombatLogCommand.self,
        ],
        defaultSubcommand: Serve.self)
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

func printError(_ message: String) {
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
            host = try await GuildhallHost(config: config, catalogue: BuiltInCogs.all, logger: logger)
        } catch let error as ConfigFileError {
            printError(error.description)
            throw ExitCode(2)
        }
        logger.info("Guildhall \(GuildhallHost.version) starting", metadata: ["address": "\(config.server.host):\(config.server.port)"])
        try await host.run()
    }
}
