import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import PluginAPI
import XCTest

@testable import GuildhallServer

/// A host on a temporary folder with a real SQLite file, serving on an ephemeral port, with three users:
/// admin, moderator and user (password `password-<name>`).
struct TestHost {
    let folder: URL
    var config: HostConfig

    init(enabled: [String] = [], folder: URL? = nil, configure: (inout HostConfig) -> Void = { _ in }) {
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

    /// Opens the host, loads its cogs, serves it for `body` and shuts it down.
    func run<T: Sendable>(
        catalogue: [any Cog.Type] = TestCogs.all, _ body: @Sendable (LiveServer) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "guildhall-test")
        logger.logLevel = .critical
        let host = try await GuildhallHost(config: config, catalogue: catalogue, logger: logger)
        try await host.start()
        let application = host.makeApplication(port: 0)
        do {
            let result = try await application.test(.live) { client in
                try await body(LiveServer(host: host, port: client.port!))
            }
            try await host.shutDown()
            return result
        } catch {
            try? await host.shutDown()
            throw error
        }
    }

    func removeFolder() {
        try? FileManager.default.removeItem(at: folder)
    }
}

/// A running test server and a real HTTP client for it.
struct LiveServer: Sendable {
    let host: GuildhallHost
    let port: Int

    struct Reply: Sendable {
        let status: Int
        let headers: [(String, String)]
        let body: Data

        var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
        var error: String? { json["error"]?.stringValue }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// Sends a request; `json` is encoded as the body, `raw` is sent as it is.
    func request(
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

    /// Signs in and answers the token.
    func token(_ user: String) async throws -> String {
        let reply = try await request(.POST, "/api/auth/login", json: ["username": .string(user), "password": .string("password-\(user)")])
        guard reply.status == 200, let token = reply.json["token"]?.stringValue else {
            throw TestFailure("login of \(user) failed: \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
        }
        return token
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
