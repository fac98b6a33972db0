import AsyncHTTPClient
import Foundation
import GuildhallServer
import Hummingbird
import Synchronization
import Logging
import NIOCore
@_exported import enum NIOHTTP1.HTTPMethod
import PluginAPI

/// A whole host for an end-to-end test: a temporary folder with a real SQLite file, the cogs you choose, serving on
/// an ephemeral port of 127.0.0.1, with three users — `admin`, `moderator` and `user`, each with the password
/// `password-<name>`.
///
/// ```swift
/// let host = TestHost(enabled: ["greeter"])
/// defer { host.removeFolder() }
/// try await host.run(catalogue: [GreeterCog.self]) { server in
///     let token = try await server.token("user")
///     let reply = try await server.request(.POST, "/api/greetings", token: token, json: ["name": "Ann"])
///     XCTAssertEqual(reply.status, 201)
/// }
/// ```
public struct TestHost: Sendable {
    /// The folder holding the database; remove it with ``removeFolder()``.
    public let folder: URL
    /// The configuration the host starts with (change it in `init`'s `configure`).
    public var config: HostConfig

    /// A host that loads the cogs `enabled` at start (work in flight is drained for at most one second), with
    /// `configure` applied last.
    public init(enabled: [String] = [], folder: URL? = nil, configure: (inout HostConfig) -> Void = { _ in }) {
        self.folder = folder ?? FileManager.default.temporaryDirectory.appendingPathComponent("guildhall-test-\(UUID().uuidString)")
        var config = HostConfig()
        config.database.path = self.folder.appendingPathComponent("guildhall.sqlite").path
        config.auth.bcryptCost = 4
        config.auth.secretKey = "test-secret-key-of-enough-length-0123456789"
        config.plugins.enabled = enabled
        config.plugins.drainTimeoutSeconds = 1
        config.bootstrapUsers = [
            .init(username: "admin", password: "password-admin", role: .admin),
            .init(username: "moderator", password: "password-moderator", role: .moderator),
            .init(username: "user", password: "password-user", role: .user),
        ]
        configure(&config)
        self.config = config
    }

    /// Opens the host with `catalogue` as its cogs, loads the enabled ones, serves it for `body` and shuts it down.
    public func run<T: Sendable>(
        catalogue: [any Cog.Type], _ body: @Sendable (LiveServer) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "guildhall-test")
        logger.logLevel = .critical
        let host = try await GuildhallHost(config: config, catalogue: catalogue, logger: logger)
        // The same services `guildhall serve` runs, the HTTP server on a port of the system's choosing.
        let bound = BoundPort()
        let application = host.makeApplication(port: 0) { channel in bound.set(channel.localAddress?.port ?? 0) }
        return try await host.running(application: application) {
            let port = try await bound.value()
            // Gateway connections the test left open are closed first: the server's graceful shutdown waits for them.
            defer { host.closeGatewayConnections() }
            return try await body(LiveServer(host: host, port: port))
        }
    }

    /// Removes the folder and the database in it.
    public func removeFolder() {
        try? FileManager.default.removeItem(at: folder)
    }
}

/// A running test server and a real HTTP client for it.
public struct LiveServer: Sendable {
    /// The host behind the server.
    public let host: GuildhallHost
    /// The port it serves on, at 127.0.0.1.
    public let port: Int

    /// An answer.
    public struct Reply: Sendable {
        /// The status code.
        public let status: Int
        /// The header fields, as sent.
        public let headers: [(String, String)]
        /// The body.
        public let body: Data

        /// The body as JSON, `null` if it is not JSON.
        public var json: JSONValue { (try? JSONValue(parsing: body)) ?? .null }
        /// The `error` code of a JSON error answer.
        public var error: String? { json["error"]?.stringValue }
        /// The first header field named `name` (any case).
        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// Sends a request; `json` is encoded as the body, `raw` is sent as it is; `token` goes in
    /// `Authorization: Bearer`.
    public func request(
        _ method: HTTPMethod, _ path: String, token: String? = nil, json: JSONValue? = nil, raw: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: json.jsonData()))
        } else if let raw {
            request.body = .bytes(ByteBuffer(string: raw))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return Reply(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
            body: Data(buffer: body))
    }

    /// Signs in as `user` (password `password-<user>`) and answers the token.
    public func token(_ user: String) async throws -> String {
        let reply = try await request(.POST, "/api/auth/login", json: ["username": .string(user), "password": .string("password-\(user)")])
        guard reply.status == 200, let token = reply.json["token"]?.stringValue else {
            throw TestFailure("login of \(user) failed: \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
        }
        return token
    }
}

/// A test's own failure, with what went wrong.
public struct TestFailure: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String
    /// A failure saying `description`.
    public init(_ description: String) { self.description = description }
}

/// Checks `condition` every 10 ms until it holds or `timeout` passes; answers whether it held. For what happens
/// asynchronously (an event delivered, a frame sent), never for timing.
public func eventually(timeout: Duration = .seconds(5), _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// The port a test server bound, once it has.
final class BoundPort: Sendable {
    private let port = Mutex<Int?>(nil)

    func set(_ value: Int) { port.withLock { $0 = value } }

    /// The port, waiting up to ten seconds for the server to bind it.
    func value() async throws -> Int {
        for _ in 0..<1000 {
            if let port = port.withLock({ $0 }) { return port }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("the test server did not start listening within ten seconds")
    }
}
