import ArgumentParser
import Foundation
import PluginAPI

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users in the configured database.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user, or set an existing user's password and role.",
            discussion: "The password is read from a prompt, or from standard input when it is not a terminal.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The user name.") var name: String
        @Option(help: "admin, moderator or user.") var role: String = "user"

        func run() async throws {
            guard let role = Role(rawValue: role) else {
                throw ValidationError("--role must be admin, moderator or user")
            }
            let password = Terminal.readSecret("Password for \(name): ")
            if isatty(STDIN_FILENO) == 1, Terminal.readSecret("Again: ") != password {
                printError("the passwords differ")
                throw ExitCode(1)
            }
            let database = try await openDatabase(options.load())
            do {
                let user = try await UserStore(database: database, bcryptCost: UInt8(try options.load().auth.bcryptCost))
                    .upsert(username: name, password: password, role: role, endingSessions: true)
                print("saved user \(user.username) (id \(user.id), \(user.role.rawValue))")
            } catch let error as APIError {
                printError(error.message)
                throw ExitCode(1)
            }
            try database.close()
        }
    }
}

/// Opens the configured database with the host's schema in place.
func openDatabase(_ config: HostConfig) async throws -> SQLiteDatabase {
    let database = try SQLiteDatabase(path: config.database.path)
    try await DatabaseMaintenance.migrate(database, catalogue: [])
    return database
}
