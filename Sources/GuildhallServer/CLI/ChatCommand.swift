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
        let send: (String) async throws -> String?
        var host: GuildhallHost?
        if embedded {
            let config = try options.load()
            let started = try await GuildhallHost(config: config, catalogue: Deployment.cogs, logger: makeLogger(level: "warning"))
            try await started.start()
            host = started
            let console = Identity(userID: 0, username: "console", role: .admin)
            send = { try await started.chat($0, as: console) }
        } else {
            let session = try await AdminClient.session(url)
            send = { content in
                let answer = try await session.call("POST", "/api/bot/messages", body: ["content": content])
                return answer["reply"] as? String
            }
        }
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
        try await host?.shutDown()
    }
}
