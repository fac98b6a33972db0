import Foundation
import Hummingbird
import PluginAPI

/// The live log and bot over HTTP: ingest messages, read history, search, send a chat message or command.
struct LiveLogRoutes {
    let liveLog: LiveLogService
    let dispatcher: CommandDispatcher
    let hub: GatewayHub
    let guilds: GuildStore
    let tenants: TenantPolicy

    struct ChatMessage: Decodable {
        var content: String
        var channel: String?
    }

    func register(on routes: CoreRouter) {
        routes.add(
            .post, "/api/live-log/messages", access: .guild(.upload, minimumRole: .admin),
            summary: "Store and deliver a live-log message (admins; guild API keys: their guild's raid and guild messages)",
            body: JSONValue.self
        ) { _, context, message in
            var message = message
            if try context.requireIdentity().apiKey != nil { message = try Self.confined(message, to: context.requireGuild()) }
            let (stored, delivered) = try await liveLog.ingest(message)
            return JSONResponse(.created, ["success": true, "message": stored, "delivered": .int(Int64(delivered))] as JSONValue)
        }
        routes.add(
            .get, "/api/live-log/messages", access: .user, summary: "History the caller may see, newest first", query: HistoryQuery.self
        ) { _, context, query in
            let paging = try Paging(query, max: liveLog.historyLimit)
            let filters = try LiveLogFilters(query.filters)
            let reader = try await reader(context)
            let (messages, total) = try await liveLog.store.history(for: reader, filters: filters, limit: paging.limit, offset: paging.offset)
            return [
                "messages": .array(messages), "total_count": .int(Int64(total)), "limit": .int(Int64(paging.limit)),
                "offset": .int(Int64(paging.offset)),
            ] as JSONValue
        }
        routes.add(
            .get, "/api/live-log/search", access: .user, summary: "Full-text search of what the caller may see", query: HistoryQuery.self
        ) { _, context, query in
            guard let words = query.q, !words.isEmpty else {
                throw APIError(.badRequest, "invalid_field", "Send the words to find as ?q=.", details: ["field": "q", "in": "query"])
            }
            let paging = try Paging(query, max: liveLog.historyLimit)
            let reader = try await reader(context)
            let results = try await liveLog.store.search(words, for: reader, filters: LiveLogFilters(query.filters), limit: paging.limit)
            return ["query": .string(words), "results": .array(results), "count": .int(Int64(results.count))] as JSONValue
        }
        routes.add(.get, "/api/live-log/stats", access: .admin, summary: "Gateway connections now") { _, _ in
            let clients = hub.connected
            return [
                "connections": .int(Int64(clients.count)), "users_online": .int(Int64(Set(clients.map(\.identity.userID)).count)),
            ] as JSONValue
        }
        routes.add(
            .post, "/api/bot/messages", access: .user, summary: "Post a chat message; a command runs and is answered", body: ChatMessage.self
        ) { request, context, chat in
            let caller = try context.requireIdentity()
            let guild = try await tenants.guild(of: .init(identity: caller), explicit: request.headers[.guildID], required: false)
            let (posted, outcome) = try await dispatcher.chat(
                chat.content, channel: chat.channel, caller: caller, guild: guild, correlationID: context.requestID)
            return [
                "message": posted, "command": outcome?.command.map(JSONValue.string) ?? .null,
                "reply": outcome.map { .string($0.reply) } ?? .null, "reply_message": outcome?.message ?? .null,
            ] as JSONValue
        }
    }

    /// A service key's message, kept inside its guild: only guild-scoped types, stamped with the key's guild.
    static func confined(_ message: JSONValue, to guild: GuildScope) throws -> JSONValue {
        guard case .object(var members) = message else { return message }
        guard let type = members["type"]?.stringValue, ["raid", "guild"].contains(type) else {
            throw APIError(
                .forbidden, "type_not_allowed", "A guild API key may post raid and guild messages of its own guild only.",
                details: ["field": "type"])
        }
        if let claimed = members["guild_id"], claimed != .string(String(guild.id)) {
            throw APIError(.forbidden, "wrong_guild", "A guild API key posts into its own guild (\(guild.id)) only.", details: ["field": "guild_id"])
        }
        members["guild_id"] = .string(String(guild.id))
        if type == "guild", members["guild_name"] == nil { members["guild_name"] = .string(guild.name) }
        return .object(members)
    }

    /// The caller with the guilds they belong to.
    private func reader(_ context: GuildhallRequestContext) async throws -> LiveLogReader {
        let identity = try context.requireIdentity()
        return LiveLogReader(identity: identity, guilds: Set(try await guilds.guildIDs(of: identity.userID).map(String.init)))
    }

    /// The history's and the search's query: paging, the words to find (search), and the filters.
    struct HistoryQuery: PagedQuery {
        var limit: Int?
        var offset: Int?
        /// The words to find (search only).
        var q: String?
        var type: String?
        var userID: String?
        var channel: String?
        var dateFrom: String?
        var dateTo: String?

        enum CodingKeys: String, CodingKey {
            case limit, offset, q, type, channel
            case userID = "user_id", dateFrom = "date_from", dateTo = "date_to"
        }

        /// `type`, `user_id`, `channel`, `date_from`, `date_to` as the live log's filters read them.
        var filters: JSONValue {
            let pairs: [(String, String?)] = [
                ("type", type), ("user_id", userID), ("channel", channel), ("date_from", dateFrom), ("date_to", dateTo),
            ]
            return .object(Dictionary(uniqueKeysWithValues: pairs.compactMap { key, value in value.map { (key, JSONValue.string($0)) } }))
        }
    }
}
