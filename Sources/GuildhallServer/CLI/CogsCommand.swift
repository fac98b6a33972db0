import ArgumentParser
import AsyncHTTPClient
import Foundation

/// `guildhall cogs list|load|unload|reload|install|uninstall`: the admin API of a running server.
struct CogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cogs", abstract: "List, load, unload, reload, install or uninstall cogs on a running server.",
        discussion: """
            Signs in with GUILDHALL_USER and GUILDHALL_PASSWORD (or API_ADMIN_USER and API_ADMIN_PASS) from the
            environment, else asks.
            """,
        subcommands: [List.self, Load.self, Unload.self, Reload.self, Install.self, Uninstall.self])

    struct Server: ParsableArguments {
        @Option(help: "The server's base URL.")
        var url = "http://127.0.0.1:5070"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every cog and its state.")
        @OptionGroup var server: Server

        func run() async throws {
            let answer = try await AdminClient.call(server.url, "GET", "/api/cogs", body: nil)
            guard let cogs = answer["cogs"] as? [[String: Any]] else { return }
            print("NAME".padding(toLength: 16, withPad: " ", startingAt: 0) + "STATE".padding(toLength: 12, withPad: " ", startingAt: 0) + "VERSION   SUMMARY")
            for cog in cogs {
                let name = (cog["name"] as? String ?? "").padding(toLength: 16, withPad: " ", startingAt: 0)
                let state = (cog["state"] as? String ?? "").padding(toLength: 12, withPad: " ", startingAt: 0)
                let version = (cog["version"] as? String ?? "").padding(toLength: 10, withPad: " ", startingAt: 0)
                print(name + state + version + (cog["summary"] as? String ?? ""))
                if let error = cog["error"] as? String { print("  error: \(error)") }
            }
        }
    }

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load a cog.")
        @OptionGroup var server: Server
        @Argument(help: "The cog's name.") var name: String
        func run() async throws { try await CogsCommand.operate("load", name, cascade: false, server.url) }
    }

    struct Unload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Unload a cog.")
        @OptionGroup var server: Server
        @Argument(help: "The cog's name.") var name: String
        @Flag(help: "Unload the cogs that depend on it first.") var cascade = false
        func run() async throws { try await CogsCommand.operate("unload", name, cascade: cascade, server.url) }
    }

    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reload a cog; the old instance serves until the new one is ready.")
        @OptionGroup var server: Server
        @Argument(help: "The cog's name.") var name: String
        @Flag(help: "Reload the cogs that depend on it too, as one unit.") var cascade = false
        func run() async throws { try await CogsCommand.operate("reload", name, cascade: cascade, server.url) }
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install an external cog from a .tar.gz (uploaded) or a folder (read by the server, on its machine).",
            discussion: "The cog is installed, not loaded: read the permissions it asks for, then `guildhall cogs load NAME`.")
        @OptionGroup var server: Server
        @Argument(help: "A .tar.gz of the cog, or its folder.") var path: String
        @Option(help: "The archive's expected SHA-256 (hex).") var sha256: String?

        func run() async throws {
            let url = URL(fileURLWithPath: path).standardizedFileURL
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
                printError("\(path) does not exist")
                throw ExitCode(1)
            }
            let session = try await AdminClient.session(server.url)
            let answer: [String: Any]
            if isFolder.boolValue {
                answer = try await session.call("POST", "/api/cogs/install", body: ["path": url.path])
            } else {
                let query = sha256.map { "?sha256=\($0)" } ?? ""
                answer = try await session.upload("/api/cogs/install" + query, try Data(contentsOf: url), contentType: "application/gzip")
            }
            print("\(answer["name"] as? String ?? "?") \(answer["version"] as? String ?? ""): installed, not loaded")
            let permissions = answer["permissions"] as? [String] ?? []
            print(permissions.isEmpty ? "  asks for no permissions" : "  asks for: " + permissions.joined(separator: ", "))
        }
    }

    struct Uninstall: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Uninstall an unloaded external cog (its stored data stays).")
        @OptionGroup var server: Server
        @Argument(help: "The cog's name.") var name: String
        func run() async throws {
            _ = try await AdminClient.call(server.url, "DELETE", "/api/cogs/\(name)", body: nil)
            print("\(name): uninstalled")
        }
    }

    static func operate(_ operation: String, _ name: String, cascade: Bool, _ url: String) async throws {
        let answer = try await AdminClient.call(url, "POST", "/api/cogs/\(operation)", body: ["cog_name": name, "cascade": cascade])
        print("\(answer["name"] as? String ?? name): \(answer["state"] as? String ?? "?")")
    }
}

/// Signs in to a running server and calls its API, printing API errors as their message.
enum AdminClient {
    /// A signed-in connection to a server.
    struct Session {
        let base: String
        let token: String

        func call(_ method: String, _ path: String, body: [String: Any]?) async throws -> [String: Any] {
            try await AdminClient.request(base, method, path, body: body, token: token)
        }

        /// POSTs `data` as the body, of `contentType`.
        func upload(_ path: String, _ data: Data, contentType: String) async throws -> [String: Any] {
            try await AdminClient.request(base, "POST", path, body: nil, raw: (data, contentType), token: token)
        }
    }

    static func session(_ base: String) async throws -> Session {
        Session(base: base, token: try await signIn(base))
    }

    static func call(_ base: String, _ method: String, _ path: String, body: [String: Any]?) async throws -> [String: Any] {
        try await session(base).call(method, path, body: body)
    }

    private static func signIn(_ base: String) async throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let username = environment["GUILDHALL_USER"] ?? environment["API_ADMIN_USER"] ?? prompt("User name: ")
        let password = environment["GUILDHALL_PASSWORD"] ?? environment["API_ADMIN_PASS"] ?? Terminal.readSecret("Password: ")
        let answer = try await request(base, "POST", "/api/auth/login", body: ["username": username, "password": password], token: nil)
        guard let token = answer["token"] as? String else { throw ExitCode(1) }
        return token
    }

    private static func prompt(_ text: String) -> String {
        print(text, terminator: "")
        return readLine() ?? ""
    }

    fileprivate static func request(
        _ base: String, _ method: String, _ path: String, body: [String: Any]?, raw: (Data, String)? = nil, token: String?
    ) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base + path)
        request.method = .init(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(Array(try JSONSerialization.data(withJSONObject: body)))
        } else if let (data, contentType) = raw {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(Array(data))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        } catch {
            printError("cannot reach \(base): \(error)")
            throw ExitCode(1)
        }
        var data = Data()
        for try await chunk in response.body { data.append(contentsOf: chunk.readableBytesView) }
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard (200..<300).contains(response.status.code) else {
            printError("\(response.status.code) \(json["error"] as? String ?? ""): \(json["message"] as? String ?? String(decoding: data, as: UTF8.self))")
            throw ExitCode(1)
        }
        return json
    }
}

/// Reading a secret from the terminal without echoing it, or from standard input when that is not a terminal.
enum Terminal {
    static func readSecret(_ prompt: String) -> String {
        guard isatty(STDIN_FILENO) == 1 else { return readLine() ?? "" }
        print(prompt, terminator: "")
        var settings = termios()
        tcgetattr(STDIN_FILENO, &settings)
        let saved = settings
        settings.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &settings)
        defer {
            var restore = saved
            tcsetattr(STDIN_FILENO, TCSANOW, &restore)
            print("")
        }
        return readLine() ?? ""
    }
}
