import Foundation
import Hummingbird
import Logging
import PluginAPI

/// The callbacks external cogs make into the host, served on the host's private Unix socket: a thin adapter of the
/// external protocol over each cog's ``CogPort``. Every call carries the calling process's secret
/// (`Authorization: Bearer ...`), which names the cog and so the port; the port holds the rules (the manifest's
/// permissions, the cog's own config, topics and key-value store).
struct CogHostAPI: Sendable {
    let grants: CallbackGrants
    let logger: Logger

    struct PublishedEvent: Decodable, Sendable {
        var name: String
        var payload: JSONValue?
        var guildID: Int64?
        var correlationID: String?

        enum CodingKeys: String, CodingKey {
            case name, payload
            case guildID = "guild_id"
            case correlationID = "correlation_id"
        }
    }

    struct TopicFrame: Decodable, Sendable {
        var topic: String?
        var guildID: Int64?
        var frame: JSONValue

        enum CodingKeys: String, CodingKey {
            case topic, frame
            case guildID = "guild_id"
        }
    }

    struct KeyWrite: Decodable, Sendable {
        var key: String
        var value: JSONValue
        var guildID: Int64?
        var ifVersion: Int64?
        var ttlSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case key, value
            case guildID = "guild_id"
            case ifVersion = "if_version"
            case ttlSeconds = "ttl_seconds"
        }
    }

    func application(socketPath: String) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        router.get("/v1/config") { request, _ in
            try port(request).configValue(for: try guildID(request))
        }
        router.post("/v1/events") { request, _ in
            let port = try port(request)
            let event = try await decode(PublishedEvent.self, request)
            try port.publish(
                event: event.name, payload: event.payload ?? .object([:]), guild: event.guildID, correlationID: event.correlationID)
            return Response(status: .accepted)
        }
        router.post("/v1/live-log") { request, _ in
            let port = try port(request)
            return try await port.postToLiveLog(try await decode(JSONValue.self, request))
        }
        router.post("/v1/gateway/publish") { request, _ in
            let port = try port(request)
            let body = try await decode(TopicFrame.self, request)
            guard let topic = body.topic else { throw APIError.badRequest("invalid_field", "Name the topic to publish to.") }
            return delivered(try port.publish(topic: topic, body.frame))
        }
        router.post("/v1/gateway/broadcast") { request, _ in
            let port = try port(request)
            let body = try await decode(TopicFrame.self, request)
            guard let guild = body.guildID else { throw APIError.badRequest("invalid_field", "Name the guild_id to broadcast to.") }
            return delivered(try port.broadcast(toGuild: guild, body.frame))
        }
        router.get("/v1/kv") { request, _ in
            let store = try port(request).keyValues(in: try guildID(request) ?? 0)
            if let key = request.uri.queryParameters["key"] {
                guard let item = try await store.get(String(key)) else { throw Self.noKey(key) }
                return try JSONValue(encoding: item)
            }
            let limit = min(Int(request.uri.queryParameters["limit"].map(String.init) ?? "") ?? 100, 1000)
            let items = try await store.list(prefix: String(request.uri.queryParameters["prefix"] ?? ""), limit: max(1, limit))
            return JSONValue.object(["items": try JSONValue(encoding: items)])
        }
        router.put("/v1/kv") { request, _ in
            let port = try port(request)
            let write = try await decode(KeyWrite.self, request)
            let store = try port.keyValues(in: write.guildID ?? 0)
            return try JSONValue(encoding: try await store.put(write.key, write.value, ifVersion: write.ifVersion, ttl: write.ttlSeconds))
        }
        router.delete("/v1/kv") { request, _ in
            let store = try port(request).keyValues(in: try guildID(request) ?? 0)
            guard let key = request.uri.queryParameters["key"] else { throw APIError.badRequest("invalid_field", "Name the key.") }
            let expected = request.uri.queryParameters["if_version"].flatMap { Int64(String($0)) }
            guard try await store.delete(String(key), ifVersion: expected) else { throw Self.noKey(key) }
            return Response(status: .noContent)
        }
        router.get("/v1/people") { request, _ in
            let port = try port(request)
            guard let text = request.uri.queryParameters["user_id"], let userID = Int64(String(text)) else {
                throw APIError.badRequest("invalid_field", "Name the person with an integer user_id.")
            }
            guard let guild = try guildID(request) else { throw APIError.badRequest("invalid_field", "Name the guild_id they act in.") }
            guard let person = try await port.person(userID, inGuild: guild) else {
                throw APIError.notFound("person_not_found", "User \(userID) does not act in guild \(guild).")
            }
            return JSONValue.object([
                "user_id": .int(person.userID), "username": .string(person.username), "role": .string(person.role.rawValue),
            ])
        }
        return Application(
            router: router, configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "Guildhall"),
            logger: logger)
    }

    /// The calling process's port, from its secret; 401 `invalid_secret` without a live one.
    private func port(_ request: Request) throws -> CogPort {
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), let port = grants.lookup(String(header.dropFirst(7))) else {
            throw APIError(.unauthorized, "invalid_secret", "Call back with the secret the host gave this process.")
        }
        return port
    }

    private func delivered(_ count: Int) -> JSONValue { ["delivered": .int(Int64(count))] }

    private static func noKey(_ key: some StringProtocol) -> APIError { APIError.notFound("key_not_found", "There is no key '\(key)'.") }

    private func guildID(_ request: Request) throws -> Int64? {
        guard let text = request.uri.queryParameters["guild_id"] else { return nil }
        guard let id = Int64(String(text)) else { throw APIError.badRequest("invalid_field", "guild_id must be an integer.") }
        return id
    }

    private func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        return try RequestDecoding.body(T.self, from: buffer)
    }
}
