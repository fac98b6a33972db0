import ArgumentParser
import Foundation

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Inspect the configuration.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the configuration file; print every problem and exit non-zero if there is one.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            let problems = ConfigCheck.problems(in: config, catalogue: Deployment.cogs)
            guard problems.isEmpty else {
                printError("\(config.source):\n" + problems.map { "  - \($0)" }.joined(separator: "\n"))
                throw ExitCode(1)
            }
            print("\(config.source): OK")
        }
    }
}
