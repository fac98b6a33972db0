import ArgumentParser
import Foundation

struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Maintain the database.", subcommands: [Migrate.self, Backup.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the pending migrations of the host and every built-in cog.")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let database = try SQLiteDatabase(path: options.load().database.path)
            let applied = try await DatabaseMaintenance.migrate(database, catalogue: Deployment.cogs)
            try database.close()
            print(applied.isEmpty ? "up to date" : applied.map { "applied \($0)" }.joined(separator: "\n"))
        }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the database to PATH with SQLite's online backup (safe while the service runs).")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Where to write the copy; must not exist.") var path: String

        func run() async throws {
            guard !FileManager.default.fileExists(atPath: path) else {
                printError("\(path) exists; choose a new file")
                throw ExitCode(1)
            }
            let database = try SQLiteDatabase(path: options.load().database.path)
            try database.backup(to: path)
            try database.close()
            print("backed up \(database.path) to \(path)")
        }
    }
}
