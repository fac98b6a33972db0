import ArgumentParser
import Foundation
import PluginAPI

/// `guildhall chat`: a terminal REPL for trying bot commands, against a running server or an embedded host.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat", abstract: "Type chat messages and bot commands (!help) and read the replies.",
        discussion: """
            Against a running server (default), signs in like `guildhall cogs` does. With --embedded, starts the
            configured host in this process (no HTTP server) and chats as the local console, with admin rights.
            End with Ctrl-D.
            """)

    @Option(help: "The running server's base URL.") var url = "http://127.0.0.1:5070"
    @Flag(help: "Run the configured host in this process instead of talking to a server.") var embedded = false
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        if embedded {
            let host = try await GuildhallHost(config: try options.load(), catalogue: Deployment.cogs, logger: makeLogger(level: "warning"))
            let console = Identity(userID: 0, username: "console", role: .admin)
            try await host.running { try await Self.converse { try await host.chat($0, as: console) } }
        } else {
            let session = try await AdminClient.session(url)
            try await Self.converse { content in
                let answer = try await session.call("POST", "/api/bot/messages", body: ["content": content])
                return answer["reply"] as? String
            }
        }
    }

    /// Reads lines until the end of input, sends each and prints the reply.
    private static func converse(_ send: (String) async throws -> String?) async throws {
        let interactive = isatty(STDIN_FILENO) == 1
        if interactive { print("Connected. Type !help; Ctrl-D ends.") }
        while true {
            if interactive { print("> ", terminator: "") }
            guard let line = readLine() else { break }
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            do {
                if let reply = try await send(line) { print(reply) }
            } catch let error as APIError {
                printError(error.message)
            }
        }
    }
}
