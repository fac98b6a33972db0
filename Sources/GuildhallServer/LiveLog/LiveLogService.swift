import Foundation
import Logging
import PluginAPI

/// The live log: a persisted, searchable stream of typed messages, delivered over the gateway to the subscribers
/// allowed to see them. Cogs post through ``LiveLogPublisher``; admins through `POST /api/live-log/messages`.
final class LiveLogService: LiveLogPublisher, Sendable {
    let store: LiveLogStore
    let hub: GatewayHub
    let historyLimit: Int

    init(store: LiveLogStore, hub: GatewayHub, historyLimit: Int) {
        self.store = store
        self.hub = hub
        self.historyLimit = historyLimit
    }

    @discardableResult
    func post(_ message: JSONValue) async throws -> JSONValue {
        try await ingest(message).message
    }

    /// Validates, stores, then delivers `message`; answers it and how many connections it was sent to.
    func ingest(_ message: JSONValue) async throws -> (message: JSONValue, delivered: Int) {
        let (type, members) = try LiveLogSchema.validate(message)
        let stored = LiveLogStore.routing(type, members)
        try await store.insert(stored)
        return (stored.message, hub.deliver(stored))
    }

    /// A system message, for the host's own reports.
    func system(_ event: String, data: [String: JSONValue], severity: String = "info", audience: String = "all") async {
        do {
            try await post([
                "type": "system", "event": .string(event), "data": .object(data), "severity": .string(severity),
                "audience": .string(audience),
            ])
        } catch {
            hub.logger.error("system message not stored", metadata: ["event": "\(event)", "error": "\(error)"])
        }
    }

    /// Who may read the live log on the gateway: every signed-in person, and guild API keys with `stream` (which
    /// see their own guild's messages only, see ``LiveLogReader``). Reading needs no guild, so the hub does not
    /// ask a person for one.
    static let readers = Access.guild(.stream)

    /// The live-log protocol's actions: subscribe, unsubscribe, get_history, search and ping.
    var actions: [String: GatewayHub.Action] {
        [
            "subscribe": Self.subscription(reply: "subscribed") { $0.formUnion($1) },
            "unsubscribe": Self.subscription(reply: "unsubscribed") { $0.subtract($1) },
            "get_history": .init(owner: "host", access: Self.readers) { [self] client, frame in
                let (limit, offset) = try paging(frame)
                let filters = try LiveLogFilters(frame["filters"])
                let (messages, total) = try await store.history(for: client.reader, filters: filters, limit: limit, offset: offset)
                return [
                    "action": "history", "messages": .array(messages), "total_count": .int(Int64(total)),
                    "limit": .int(Int64(limit)), "offset": .int(Int64(offset)),
                ]
            },
            "search": .init(owner: "host", access: Self.readers) { [self] client, frame in
                guard let query = frame["query"]?.stringValue, !query.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw LiveLogStore.invalid("query", "query must be a non-empty string.")
                }
                let (limit, _) = try paging(frame)
                let results = try await store.search(
                    query, for: client.reader, filters: LiveLogFilters(frame["filters"]), limit: limit)
                return [
                    "action": "search_results", "query": .string(query), "results": .array(results),
                    "count": .int(Int64(results.count)),
                ]
            },
            "ping": .init(owner: "host", access: Self.readers) { _, _ in
                ["action": "pong", "timestamp": .string(Timestamp.string(from: Date()))]
            },
        ]
    }

    /// An action that changes the client's message types with `change` and answers them all as `reply`.
    private static func subscription(
        reply: String, change: @escaping @Sendable (inout Set<LiveLogType>, Set<LiveLogType>) -> Void
    ) -> GatewayHub.Action {
        .init(owner: "host", access: readers) { client, frame in
            let types = try messageTypes(frame)
            let current = client.state.withLock { state in
                change(&state.messageTypes, types)
                return state.messageTypes
            }
            return ["action": .string(reply), "message_types": .array(current.map(\.rawValue).sorted().map(JSONValue.string))]
        }
    }

    private func paging(_ frame: JSONValue) throws -> (limit: Int, offset: Int) {
        func integer(_ key: String) throws -> Int? {
            switch frame[key] {
            case nil, .null?: return nil
            case .int(let number)?: return Int(number)
            default: throw LiveLogStore.invalid(key, "\(key) must be an integer.")
            }
        }
        // The same bounds as every listing over HTTP, answered as the gateway's invalid_request.
        do {
            let paging = try Paging(limit: integer("limit"), offset: integer("offset"), defaultLimit: 50, max: historyLimit)
            return (paging.limit, paging.offset)
        } catch let refusal as APIError where refusal.code == "invalid_field" {
            throw LiveLogStore.invalid(refusal.details["field"]?.stringValue ?? "", refusal.message)
        }
    }

    private static func messageTypes(_ frame: JSONValue) throws -> Set<LiveLogType> {
        guard case .array(let items)? = frame["message_types"] else {
            throw LiveLogStore.invalid("message_types", "message_types must be an array of message types.")
        }
        var types: Set<LiveLogType> = []
        for item in items {
            if item == "*" { return Set(LiveLogType.allCases) }
            guard let name = item.stringValue, let type = LiveLogType(rawValue: name) else {
                throw LiveLogStore.invalid(
                    "message_types", "Invalid message type \(item); use \(LiveLogType.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            types.insert(type)
        }
        return types
    }
}
