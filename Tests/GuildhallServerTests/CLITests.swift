import AsyncHTTPClient
import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// Runs the built `guildhall` executable as a user would.
final class CLITests: XCTestCase {
    struct Run {
        let status: Int32
        let output: String
        let errors: String
    }

    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("guildhall")
    }

    /// Runs `guildhall arguments` in `folder` with `input` on standard input.
    static func guildhall(_ arguments: [String], in folder: URL, input: String = "", environment: [String: String] = [:]) async throws -> Run {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw TestFailure("\(executable.path) is missing: run `swift build --build-tests` (scripts/test.sh does) first")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("API_") }.merging(environment) { $1 }
        let (stdin, stdout, stderr) = (Pipe(), Pipe(), Pipe())
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self), errors: String(decoding: errors, as: UTF8.self))
    }

    func makeFolder(config: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("guildhall-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try config.write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    func testGuildExportAndImportBetweenTwoDeployments() async throws {
        let config = "database:\n  path: ./g.sqlite\nauth:\n  bcrypt_cost: 4\nplugins:\n  enabled: [combatlog]\n"
        let source = try makeFolder(config: config), target = try makeFolder(config: config)
        defer {
            try? FileManager.default.removeItem(at: source)
            try? FileManager.default.removeItem(at: target)
        }
        let created = try await Self.guildhall(
            ["guild", "create", "--name", "Loothing", "--server", "Silvermoon", "--region", "eu", "--faction", "horde"], in: source)
        XCTAssertEqual(created.status, 0, created.errors)
        let file = source.appendingPathComponent("loothing.json").path
        let exported = try await Self.guildhall(["guild", "export", "--guild-id", "2", "--output", file], in: source)
        XCTAssertEqual(exported.status, 0, exported.errors)
        let document = try JSONValue(parsing: try Data(contentsOf: URL(fileURLWithPath: file)))
        XCTAssertEqual(document["format"], "guildhall.guild-export")
        XCTAssertNotNil(document["cogs"]?["combatlog"], "the loaded cog's rows are in it")

        let imported = try await Self.guildhall(["guild", "import", file], in: target)
        XCTAssertEqual(imported.status, 0, imported.errors)
        XCTAssertTrue(imported.output.contains("imported as guild 2: Loothing"), imported.output)
        XCTAssertTrue(imported.output.contains("combatlog: imported"), imported.output)
        let listed = try await Self.guildhall(["guild", "list"], in: target)
        XCTAssertTrue(listed.output.contains("Loothing\tSilvermoon\teu\tHorde"), listed.output)
        let again = try await Self.guildhall(["guild", "import", file], in: target)
        XCTAssertEqual(again.status, 1)
        XCTAssertFalse(again.errors.isEmpty)
        let missing = try await Self.guildhall(["guild", "export", "--guild-id", "99"], in: source)
        XCTAssertNotEqual(missing.status, 0)
    }

    func testConfigCheckPrintsEveryProblem() async throws {
        let folder = try makeFolder(config: "server:\n  port: high\ntickets:\n  max_open_per_user: lots\nplugins:\n  enabled: [tickets, nope]\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        let check = try await Self.guildhall(["config", "check"], in: folder)
        XCTAssertEqual(check.status, 2)
        XCTAssertTrue(check.errors.contains("config.yaml"), check.errors)
        XCTAssertTrue(check.errors.contains("key 'server.port'"), check.errors)
        let serve = try await Self.guildhall(["serve"], in: folder)
        XCTAssertEqual(serve.status, 2, "an invalid file stops startup")
        XCTAssertTrue(serve.errors.hasPrefix("error: config.yaml"), serve.errors)

        try "tickets:\n  max_open_per_user: lots\nplugins:\n  enabled: [tickets, nope]\n"
            .write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let sections = try await Self.guildhall(["config", "check"], in: folder)
        XCTAssertEqual(sections.status, 1)
        XCTAssertTrue(sections.errors.contains("key 'tickets.max_open_per_user'"), sections.errors)
        XCTAssertTrue(sections.errors.contains("unknown cog 'nope'"), sections.errors)

        try "server:\n  port: 5071\n".write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let good = try await Self.guildhall(["config", "check"], in: folder)
        XCTAssertEqual(good.status, 0, good.errors)
        XCTAssertEqual(good.output, "config.yaml: OK\n")
    }

    func testConfigCheckKnowsTheInstalledExternalCogs() async throws {
        let folder = try makeFolder(config: "database:\n  path: ./g.sqlite\nprobe:\n  limit: many\nplugins:\n  enabled: [probe, ghost]\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        try ExternalCogTests.copy(fixture: "probe", into: folder.appendingPathComponent("plugins/probe"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("plugins/broken"), withIntermediateDirectories: true)
        try "id: broken\n".write(to: folder.appendingPathComponent("plugins/broken/cog.yaml"), atomically: true, encoding: .utf8)
        let check = try await Self.guildhall(["config", "check"], in: folder)
        XCTAssertEqual(check.status, 1)
        XCTAssertTrue(check.errors.contains("key 'probe.limit'"), check.errors)
        XCTAssertTrue(check.errors.contains("unknown cog 'ghost'"), check.errors)
        XCTAssertFalse(check.errors.contains("unknown cog 'probe'"), check.errors)
        XCTAssertTrue(check.errors.contains("plugins/broken: invalid cog.yaml"), check.errors)

        try "database:\n  path: ./g.sqlite\nprobe:\n  limit: 9\nplugins:\n  enabled: [probe]\n"
            .write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("plugins/broken"))
        let good = try await Self.guildhall(["config", "check"], in: folder)
        XCTAssertEqual(good.status, 0, good.errors)
    }

    func testUsersMigrationsAndBackups() async throws {
        let folder = try makeFolder(config: "database:\n  path: ./state/g.sqlite\nauth:\n  bcrypt_cost: 4\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        let migrate = try await Self.guildhall(["db", "migrate"], in: folder)
        XCTAssertEqual(migrate.status, 0, migrate.errors)
        XCTAssertTrue(migrate.output.contains("applied host/001_users"), migrate.output)
        let again = try await Self.guildhall(["db", "migrate"], in: folder)
        XCTAssertEqual(again.output, "up to date\n")

        let add = try await Self.guildhall(["user", "add", "ann", "--role", "moderator"], in: folder, input: "a-long-password\n")
        XCTAssertEqual(add.status, 0, add.errors)
        XCTAssertTrue(add.output.contains("saved user ann"), add.output)
        let weak = try await Self.guildhall(["user", "add", "bob"], in: folder, input: "short\n")
        XCTAssertEqual(weak.status, 1)
        XCTAssertTrue(weak.errors.contains("8 to 72 bytes"), weak.errors)
        let badRole = try await Self.guildhall(["user", "add", "bob", "--role", "king"], in: folder, input: "a-long-password\n")
        XCTAssertNotEqual(badRole.status, 0)

        let backup = try await Self.guildhall(["db", "backup", "copy.sqlite"], in: folder)
        XCTAssertEqual(backup.status, 0, backup.errors)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("copy.sqlite").path))
        let overwrite = try await Self.guildhall(["db", "backup", "copy.sqlite"], in: folder)
        XCTAssertEqual(overwrite.status, 1)
        XCTAssertTrue(overwrite.errors.contains("exists"))
    }

    func testCogsCommandsDriveARunningServer() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        let folder = try makeFolder(config: "")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await host.run { server in
            let url = "http://127.0.0.1:\(server.port)"
            let credentials = ["GUILDHALL_USER": "admin", "GUILDHALL_PASSWORD": "password-admin"]
            let list = try await Self.guildhall(["cogs", "list", "--url", url], in: folder, environment: credentials)
            XCTAssertEqual(list.status, 0, list.errors)
            XCTAssertTrue(list.output.contains("echo"), list.output)
            XCTAssertTrue(list.output.contains("loaded"), list.output)
            let reload = try await Self.guildhall(["cogs", "reload", "echo", "--url", url], in: folder, environment: credentials)
            XCTAssertEqual(reload.output, "echo: loaded\n", reload.errors)
            let missing = try await Self.guildhall(["cogs", "load", "nope", "--url", url], in: folder, environment: credentials)
            XCTAssertEqual(missing.status, 1)
            XCTAssertTrue(missing.errors.contains("404 cog_not_found"), missing.errors)
            let wrong = try await Self.guildhall(
                ["cogs", "list", "--url", url], in: folder, environment: ["GUILDHALL_USER": "admin", "GUILDHALL_PASSWORD": "nope-nope"])
            XCTAssertEqual(wrong.status, 1)
            XCTAssertTrue(wrong.errors.contains("401 invalid_credentials"), wrong.errors)
        }
    }

    func testCogsInstallAndUninstallAnExternalCog() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        let folder = try makeFolder(config: "")
        defer { try? FileManager.default.removeItem(at: folder) }
        let counter = ExternalExamplesTests.examples.appendingPathComponent("node-counter")
        XCTAssertEqual(try ExternalCogTests.run(["tar", "-czf", folder.appendingPathComponent("counter.tar.gz").path, "-C", counter.path, "."]), 0)
        try await host.run(catalogue: []) { server in
            let url = "http://127.0.0.1:\(server.port)"
            let credentials = ["GUILDHALL_USER": "admin", "GUILDHALL_PASSWORD": "password-admin"]
            let wrongSum = try await Self.guildhall(
                ["cogs", "install", "counter.tar.gz", "--sha256", String(repeating: "a", count: 64), "--url", url], in: folder,
                environment: credentials)
            XCTAssertEqual(wrongSum.status, 1)
            XCTAssertTrue(wrongSum.errors.contains("422 checksum_mismatch"), wrongSum.errors)
            let installed = try await Self.guildhall(["cogs", "install", "counter.tar.gz", "--url", url], in: folder, environment: credentials)
            XCTAssertEqual(installed.status, 0, installed.errors)
            XCTAssertEqual(installed.output, "counter 1.0.0: installed, not loaded\n  asks for: kv, events:publish:counter.*\n")
            let again = try await Self.guildhall(["cogs", "install", counter.path, "--url", url], in: folder, environment: credentials)
            XCTAssertEqual(again.status, 0, "a folder is installed over the archive's version: \(again.errors)")
            let removed = try await Self.guildhall(["cogs", "uninstall", "counter", "--url", url], in: folder, environment: credentials)
            XCTAssertEqual(removed.output, "counter: uninstalled\n", removed.errors)
            let list = try await Self.guildhall(["cogs", "list", "--url", url], in: folder, environment: credentials)
            XCTAssertFalse(list.output.contains("counter"), list.output)
        }
    }

    func testServeShutsDownCleanlyOnSIGTERM() async throws {
        let port = Int.random(in: 20_000...29_999)
        let folder = try makeFolder(config: "server:\n  port: \(port)\ndatabase:\n  path: ./g.sqlite\nauth:\n  bcrypt_cost: 4\nplugins:\n  enabled: [tickets, memes]\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["serve"]
        process.currentDirectoryURL = folder
        process.environment = ["API_ADMIN_PASS": "a-long-password", "PATH": "/usr/bin:/bin"]
        let log = Pipe()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        let up = try await eventually(timeout: .seconds(10)) {
            let answer = try? await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/health"), timeout: .seconds(1))
            return answer?.status.code == 200
        }
        XCTAssertTrue(up, "the service answered")
        // A live-log client stays connected through the signal: the server must not wait for it to leave.
        var login = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/auth/login")
        login.method = .POST
        login.body = .bytes(ByteBuffer(string: #"{"username": "admin", "password": "a-long-password"}"#))
        let answer = try await HTTPClient.shared.execute(login, timeout: .seconds(10))
        let token = try JSONValue(parsing: Data(buffer: try await answer.body.collect(upTo: 1 << 16)))["token"]?.stringValue ?? ""
        let listener = WSTestClient(port: port, token: token)
        _ = await listener.next("connected")
        let signalled = ContinuousClock.now
        process.terminate()  // SIGTERM
        let exited = try await eventually(timeout: .seconds(15)) { !process.isRunning }
        XCTAssertTrue(exited)
        XCTAssertLessThan(ContinuousClock.now - signalled, .seconds(5), "open sockets are closed, not waited for")
        let close = try await listener.closeFrame()
        XCTAssertNotNil(close, "the server closed the socket")
        XCTAssertEqual(process.terminationStatus, 0)
        let output = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertFalse(output.contains("error"), output)
        let wal = folder.appendingPathComponent("g.sqlite-wal").path
        let walSize = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
        XCTAssertEqual(walSize, 0, "the database was checkpointed and closed")
    }

    func testChatAgainstAServerAndEmbedded() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        let folder = try makeFolder(config: "database:\n  path: ./g.sqlite\nplugins:\n  enabled: [memes]\nlogging:\n  level: error\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await host.run { server in
            let remote = try await Self.guildhall(
                ["chat", "--url", "http://127.0.0.1:\(server.port)"], in: folder, input: "!echo hello there\nplain words\n!ecoh\n",
                environment: ["GUILDHALL_USER": "user", "GUILDHALL_PASSWORD": "password-user"])
            XCTAssertEqual(remote.status, 0, remote.errors)
            XCTAssertEqual(remote.output, "hello there\nUnknown command !ecoh. Did you mean !echo?\n")
        }
        let embedded = try await Self.guildhall(["chat", "--embedded"], in: folder, input: "!cogs\n")
        XCTAssertEqual(embedded.status, 0, embedded.errors)
        XCTAssertTrue(embedded.output.contains("memes: loaded"), embedded.output)
        XCTAssertTrue(embedded.output.contains("tickets: available"), embedded.output)
    }

    func testGuildCommands() async throws {
        let folder = try makeFolder(config: "database:\n  path: ./g.sqlite\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        let create = try await Self.guildhall(
            ["guild", "create", "--name", "Dragonslayers", "--server", "Silvermoon", "--region", "eu", "--faction", "horde"], in: folder)
        XCTAssertEqual(create.status, 0, create.errors)
        XCTAssertEqual(create.output, "created guild 2: Dragonslayers (Silvermoon, eu, Horde)\n")
        let again = try await Self.guildhall(
            ["guild", "create", "--name", "Dragonslayers", "--server", "Silvermoon", "--region", "eu", "--faction", "Horde"], in: folder)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.errors.contains("exists already"), again.errors)
        let list = try await Self.guildhall(["guild", "list"], in: folder)
        XCTAssertEqual(list.output, "1\tDefault\tdefault\tdefault\tAlliance\tactive\n2\tDragonslayers\tSilvermoon\teu\tHorde\tactive\n")

        let key = try await Self.guildhall(
            ["guild", "api-key", "--guild-id", "2", "--description", "uploader", "--permissions", "upload,query"], in: folder)
        XCTAssertEqual(key.status, 0, key.errors)
        let secret = key.output.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(secret.hasPrefix("ghk_"), "only the key goes to standard output, for scripts: \(key.output)")
        XCTAssertTrue(key.errors.contains("not shown again"), key.errors)
        let database = try SQLiteDatabase(path: folder.appendingPathComponent("g.sqlite").path)
        let stored = try await APIKeyStore(database: database).find(secret: secret)
        XCTAssertEqual(stored?.guildID, 2)
        XCTAssertEqual(stored?.permissions, ["upload", "query"])
        try database.close()
        let unknown = try await Self.guildhall(["guild", "api-key", "--guild-id", "9", "--description", "x"], in: folder)
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.errors.contains("no active guild 9"), unknown.errors)
    }
}
