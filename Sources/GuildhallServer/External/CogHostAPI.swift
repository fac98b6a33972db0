import Foundation
import Hummingbird
import PluginAPI

/// The callbacks external cogs make into the host, served on the host's private Unix socket. Every call carries the
/// calling process's secret (`Authorization: Bearer ...`), which names the cog; what the cog may do is what its
/// manifest's permissions say, and it reaches only its own config, topics and key-value store.
struct CogHostAPI: Sendable {
    let grants: CallbackGrants
    let services: CogServices
    let store: CogKeyValueStore

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
            let grant = try authorize(request)
            let section = grant.cog
            guard services.config.sections[section] != nil else { return JSONValue.object([:]) }
            if let guild = try guildID(request) { return try services.overlays.effective(section, for: guild) }
            return services.config.value(of: section) ?? .object([:])
        }
        router.post("/v1/events") { request, _ in
            let grant = try authorize(request)
            let event = try await decode(PublishedEvent.self, request)
            guard !event.name.isEmpty, !event.name.hasPrefix("cog.") else {
                throw APIError.badRequest("invalid_field", "An event needs a name, and cog.* names are the host's.")
            }
            guard grant.permissions.allows(.publish, event.name) else { throw denied(grant, "events:publish:\(event.name)") }
            services.bus.publish(
                event.name, payload: event.payload ?? .object([:]), source: grant.cog, guild: event.guildID,
                correlationID: event.correlationID)
            return Response(status: .accepted)
        }
        router.post("/v1/live-log") { request, _ in
            let grant = try authorize(request)
            guard grant.permissions.liveLog else { throw denied(grant, "live_log:post") }
            let message = try await decode(JSONValue.self, request)
            return try await services.liveLog.post(message)
        }
        router.post("/v1/gateway/publish") { request, _ in
            let grant = try authorize(request)
            guard grant.permissions.gatewayPublish else { throw denied(grant, "gateway:publish") }
            let body = try await decode(TopicFrame.self, request)
            guard let topic = body.topic, services.hub.owner(ofTopic: topic)?.owner == grant.cog else {
                throw APIError(.forbidden, "not_your_topic", "A cog publishes only to the topics its manifest claims.")
            }
            guard body.frame["action"] != nil else { throw APIError.badRequest("invalid_field", "A frame needs an action.") }
            return JSONValue.object(["delivered": .int(Int64(services.hub.publish(topic: topic, body.frame)))])
        }
        router.post("/v1/gateway/broadcast") { request, _ in
            let grant = try authorize(request)
            guard grant.permissions.gatewayPublish else { throw denied(grant, "gateway:publish") }
            let body = try await decode(TopicFrame.self, request)
            guard let guild = body.guildID else { throw APIError.badRequest("invalid_field", "Name the guild_id to broadcast to.") }
            guard body.frame["action"] != nil else { throw APIError.badRequest("invalid_field", "A frame needs an action.") }
            let delivered = services.gate.switches.isOff(grant.cog, for: guild) ? 0 : services.hub.broadcast(toGuild: guild, body.frame)
            return JSONValue.object(["delivered": .int(Int64(delivered))])
        }
        router.get("/v1/kv") { request, _ in
            let grant = try authorize(request, needsStore: true)
            let guild = try guildID(request) ?? 0
            if let key = request.uri.queryParameters["key"] {
                guard let item = try await store.get(cog: grant.cog, guild: guild, key: String(key)) else {
                    throw APIError.notFound("key_not_found", "There is no key '\(key)'.")
                }
                return try JSONValue(encoding: item)
            }
            let limit = min(Int(request.uri.queryParameters["limit"].map(String.init) ?? "") ?? 100, 1000)
            let items = try await store.list(
                cog: grant.cog, guild: guild, prefix: String(request.uri.queryParameters["prefix"] ?? ""), limit: max(1, limit))
            return JSONValue.object(["items": try JSONValue(encoding: items)])
        }
        router.put("/v1/kv") { request, _ in
            let grant = try authorize(request, needsStore: true)
            let write = try await decode(KeyWrite.self, request)
            let item = try await store.put(
                cog: grant.cog, guild: write.guildID ?? 0, key: write.key, value: write.value, expectedVersion: write.ifVersion,
                ttl: write.ttlSeconds)
            return try JSONValue(encoding: item)
        }
        router.delete("/v1/kv") { request, _ in
            let grant = try authorize(request, needsStore: true)
            guard let key = request.uri.queryParameters["key"] else { throw APIError.badRequest("invalid_field", "Name the key.") }
            let expected = request.uri.queryParameters["if_version"].flatMap { Int64(String($0)) }
            let removed = try await store.delete(cog: grant.cog, guild: try guildID(request) ?? 0, key: String(key), expectedVersion: expected)
            guard removed else { throw APIError.notFound("key_not_found", "There is no key '\(key)'.") }
            return Response(status: .noContent)
        }
        return Application(
            router: router, configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "Guildhall"),
            logger: services.logger)
    }

    /// The calling process's grant, from its secret; 401 `invalid_secret` without a live one.
    private func authorize(_ request: Request, needsStore: Bool = false) throws -> CallbackGrants.Grant {
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), let grant = grants.lookup(String(header.dropFirst(7))) else {
            throw APIError(.unauthorized, "invalid_secret", "Call back with the secret the host gave this process.")
        }
        if needsStore && !grant.permissions.keyValue { throw denied(grant, "kv") }
        return grant
    }

    private func denied(_ grant: CallbackGrants.Grant, _ permission: String) -> APIError {
        services.logs.append(grant.cog, level: .warning, "refused: the manifest does not ask for \(permission)")
        return APIError(
            .forbidden, "permission_denied", "The cog's manifest does not ask for the permission \(permission).",
            details: ["permission": .string(permission)])
    }

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
