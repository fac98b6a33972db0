import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// Two guilds, A and B, each with an API key holding every permission and a member (alice in A, bob in B),
/// made through the admin API as an operator would.
struct Tenants: Sendable {
    let a: Int64
    let b: Int64
    let keyA: String
    let keyB: String
    let alice: String
    let bob: String

    static func make(on server: LiveServer) async throws -> Tenants {
        let admin = try await server.token("admin")
        let a = try await guild("Alpha", on: server, admin: admin)
        let b = try await guild("Beta", on: server, admin: admin)
        for (name, guild) in [("alice", a), ("bob", b)] {
            let user = try await server.host.users.upsert(username: name, password: "password-\(name)", role: .user)
            let added = try await server.request(
                .POST, "/api/v1/admin/guilds/\(guild)/members", token: admin, json: ["user_id": .int(user.id), "role": "leader"])
            guard added.status == 200 else { throw TestFailure("membership: \(added.status)") }
        }
        return Tenants(
            a: a, b: b, keyA: try await key(for: a, on: server, admin: admin), keyB: try await key(for: b, on: server, admin: admin),
            alice: try await server.token("alice"), bob: try await server.token("bob"))
    }

    static func guild(_ name: String, on server: LiveServer, admin: String) async throws -> Int64 {
        let created = try await server.request(
            .POST, "/api/v1/admin/guilds", token: admin,
            json: ["name": .string(name), "server": "Silvermoon", "region": "eu", "faction": "Horde"])
        guard case .int(let id)? = created.json["id"] else { throw TestFailure("guild: \(created.status)") }
        return id
    }

    /// A new key of `guild`; `limits` may set permissions and budgets.
    static func key(for guild: Int64, on server: LiveServer, admin: String, _ limits: [String: JSONValue] = [:]) async throws -> String {
        var body: [String: JSONValue] = ["description": "test key"]
        body.merge(limits) { $1 }
        let created = try await server.request(.POST, "/api/v1/admin/guilds/\(guild)/api-keys", token: admin, json: .object(body))
        guard created.status == 201, let secret = created.json["api_key"]?.stringValue else {
            throw TestFailure("key: \(created.status) \(String(decoding: created.body, as: UTF8.self))")
        }
        return secret
    }
}

/// Walks every GET route the running host lists, as guild B's key and as B's member, with every id guild A's
/// callers can see substituted into the route's parameters, and reports each response that shows `marker` (a
/// string planted only in guild A's data). It knows nothing of any cog: a route added tomorrow is walked too.
struct IsolationWalk {
    let server: LiveServer
    let tenants: Tenants

    struct Result {
        /// Routes whose answer to guild A's callers held the marker (proof the walk reached A's data).
        var seenByA: Set<String> = []
        /// `GET path as caller` for each answer to guild B that held the marker.
        var violations: [String] = []
    }

    func run(marker: String) async throws -> Result {
        let admin = try await server.token("admin")
        guard case .array(let routes)? = try await server.request(.GET, "/api/routes", token: admin).json["routes"] else {
            throw TestFailure("no route list")
        }
        let paths = routes.filter { $0["method"] == "GET" }.compactMap { $0["path"]?.stringValue }
        let asA: [(String, [(String, String)])] = [("A's key", [("Authorization", "Bearer \(tenants.keyA)")]),
                                                   ("alice", [("Authorization", "Bearer \(tenants.alice)")])]
        let asB: [(String, [(String, String)])] = [("B's key", [("Authorization", "Bearer \(tenants.keyB)")]),
                                                   ("bob", [("Authorization", "Bearer \(tenants.bob)")])]
        var result = Result()
        var ids: Set<String> = [String(tenants.a)]
        guard case .array(let cogs)? = try await server.request(.GET, "/api/cogs", token: admin).json["cogs"] else {
            throw TestFailure("no cog list")
        }
        let names = cogs.compactMap { $0["name"]?.stringValue }
        for path in paths where !path.contains(":") {
            for (_, headers) in asA {
                let reply = try await server.request(.GET, path, headers: headers)
                Self.collectIDs(reply.json, into: &ids)
                if String(decoding: reply.body, as: UTF8.self).contains(marker) { result.seenByA.insert(path) }
            }
        }
        for path in paths {
            let concrete = Self.fill(path, with: ids.sorted() + names)
            for url in concrete {
                for (_, headers) in asA where path.contains(":") {
                    let reply = try await server.request(.GET, url, headers: headers)
                    if String(decoding: reply.body, as: UTF8.self).contains(marker) { result.seenByA.insert(path) }
                }
                for (caller, headers) in asB {
                    let reply = try await server.request(.GET, url, headers: headers)
                    if String(decoding: reply.body, as: UTF8.self).contains(marker) {
                        result.violations.append("GET \(url) as \(caller)")
                    }
                }
            }
        }
        return result
    }

    /// Every `id` or `*_id` member (integers and strings) anywhere in `value`.
    static func collectIDs(_ value: JSONValue, into ids: inout Set<String>) {
        switch value {
        case .object(let members):
            for (key, member) in members {
                if key == "id" || key.hasSuffix("_id") {
                    if case .int(let id) = member { ids.insert(String(id)) }
                    if case .string(let id) = member, id.count <= 64, !id.contains("/") { ids.insert(id) }
                }
                collectIDs(member, into: &ids)
            }
        case .array(let items):
            for item in items { collectIDs(item, into: &ids) }
        default:
            break
        }
    }

    /// `path` with its `:parameter` segments filled with every combination of `values`.
    static func fill(_ path: String, with values: [String]) -> [String] {
        var paths = [""]
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            let choices = segment.hasPrefix(":") ? values : [String(segment)]
            paths = paths.flatMap { prefix in choices.map { prefix.isEmpty && $0.isEmpty ? "" : prefix + "/" + $0 } }
        }
        return paths
    }
}
