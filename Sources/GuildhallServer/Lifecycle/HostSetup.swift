import AsyncHTTPClient
import Foundation
import Logging
import PluginAPI

/// What the host is built from before its parts: its client for calls out, its folders and its signing key.
extension GuildhallHost {
    /// The host's client for calls out. It fails a connection that cannot be made at once instead of retrying it
    /// until the deadline: the outbound client retries itself (with backoff and a circuit), and a cog's supervisor
    /// polls its process's socket.
    static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// `plugins.directory`, else `plugins/` beside the database: where external cogs are installed.
    static func pluginsDirectory(_ config: HostConfig) -> URL {
        config.plugins.directory.isEmpty
            ? URL(fileURLWithPath: config.database.path).deletingLastPathComponent().appendingPathComponent("plugins")
            : URL(fileURLWithPath: config.plugins.directory)
    }

    /// SECRET_KEY / `auth.secret_key`, else a random key generated once and kept beside the database (mode 0600).
    static func signingSecret(config: HostConfig, logger: Logger) throws -> String {
        if !config.auth.secretKey.isEmpty { return config.auth.secretKey }
        let file = URL(fileURLWithPath: config.database.path).deletingLastPathComponent().appendingPathComponent("secret.key")
        if let existing = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
            existing.count >= 32
        {
            return existing
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<48).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = Data(bytes).base64EncodedString()
        guard
            FileManager.default.createFile(
                atPath: file.path, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw ConfigFileError(file: file.path, problems: ["cannot write the generated signing key; set SECRET_KEY"])
        }
        logger.notice("generated a token signing key", metadata: ["file": "\(file.path)"])
        return secret
    }
}
