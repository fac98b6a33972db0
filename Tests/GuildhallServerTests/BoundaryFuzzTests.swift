import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// Every number that enters from outside, tried at the bounds of its type: each typed route's numeric parameters
/// (read from the running deployment's own `/openapi.json`, so a route added tomorrow is tried too), each numeric key
/// of each config section and guild overlay, and each number of a cog manifest. No answer is a 5xx, and the server
/// still serves afterwards — the uploads, commands and reads that use those numbers included.
final class BoundaryFuzzTests: XCTestCase {
    /// The bounds of a 64-bit integer and of a double, and text that is no number.
    static let bounds = ["0", "-1", "9223372036854775807", "-9223372036854775808", "1e300", "NaN"]
    static let boundValues: [JSONValue] = [0, -1, .int(.max), .int(.min), .double(1e300), "NaN"]

    /// `(method, path template, numeric parameters)` of every operation whose path or query takes a number.
    static func numericOperations(_ document: JSONValue) -> [(String, String, [(name: String, where: String)])] {
        guard case .object(let paths)? = document["paths"] else { return [] }
        var found: [(String, String, [(name: String, where: String)])] = []
        for (path, operations) in paths.sorted(by: { $0.key < $1.key }) {
            guard case .object(let byMethod) = operations else { continue }
            for (method, operation) in byMethod.sorted(by: { $0.key < $1.key }) {
                let numeric = (operation["parameters"]?.arrayValue ?? []).compactMap { parameter -> (name: String, where: String)? in
                    let type = parameter["schema"]?["type"]?.stringValue
                    guard type == "integer" || type == "number", let name = parameter["name"]?.stringValue,
                        let place = parameter["in"]?.stringValue
                    else { return nil }
                    return (name, place)
                }
                if !numeric.isEmpty { found.append((method.uppercased(), path, numeric)) }
            }
        }
        return found
    }

    func testEveryNumericParameterConfigKeyAndManifestNumberAtItsBoundsAnswersWithoutAServerError() async throws {
        try await OpenAPITests.deployment { server in
            let admin = try await server.token("admin")
            let tenants = try await Tenants.make(on: server)
            var problems: [String] = []
            var tried = 0

            // Typed routes' parameters, as an admin and as a guild's key.
            let operations = Self.numericOperations(try await server.request(.GET, "/openapi.json").json)
            XCTAssertGreaterThan(operations.count, 10, "the deployment describes its numeric parameters")
            for (method, template, parameters) in operations where !template.hasPrefix("/api/auth/logout") {
                for parameter in parameters {
                    for value in Self.bounds {
                        var path = template
                        var query: [String] = []
                        for other in template.split(separator: "/") where other.hasPrefix("{") {
                            let name = String(other.dropFirst().dropLast())
                            path = path.replacingOccurrences(of: String(other), with: name == parameter.name ? value : "1")
                        }
                        if parameter.where == "query" { query.append("\(parameter.name)=\(value)") }
                        let target = path + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
                        for token in [admin, tenants.keyA] {
                            let reply = try await server.request(
                                HTTPMethod(rawValue: method), target, token: token, json: method == "GET" || method == "DELETE" ? nil : [:])
                            tried += 1
                            if reply.status >= 500 { problems.append("\(method) \(target): \(reply.status) \(String(decoding: reply.body.prefix(200), as: UTF8.self))") }
                        }
                    }
                }
            }

            // Config keys, deployment-wide and as a guild's overlay.
            guard case .object(let sections) = try await server.request(.GET, "/api/config", token: admin).json else {
                return XCTFail("no config")
            }
            for (name, section) in sections.sorted(by: { $0.key < $1.key }) {
                for key in Self.numericKeys(section) {
                    for value in Self.boundValues {
                        for target in ["/api/config/\(name)", "/api/v1/guilds/\(tenants.a)/config/\(name)"] {
                            let reply = try await server.request(.PUT, target, token: admin, json: Self.nested(key, value))
                            tried += 1
                            if reply.status >= 500 { problems.append("PUT \(target) \(key)=\(value): \(reply.status)") }
                        }
                    }
                }
            }
            // What used those numbers still works: commands (the cooldown), uploads (the recap window), health.
            for _ in 0..<2 {
                let help = try await server.request(.POST, "/api/bot/messages", token: admin, json: ["content": "!help"])
                XCTAssertLessThan(help.status, 500)
            }
            let upload = try await CombatLogTests.uploadAndWait(CombatLogFixtures.tww(), key: tenants.keyA, on: server)
            XCTAssertEqual(upload["status"], "completed", "\(upload)")

            print("boundary fuzz: \(tried) requests over \(operations.count) operations and \(sections.count) sections")
            XCTAssertTrue(problems.isEmpty, "\(problems.count) of \(tried) answers were server errors:\n" + problems.joined(separator: "\n"))
            try await assertEqual(await server.request(.GET, "/api/health").status, 200)
        }
    }

    func testEveryNumberOfAManifestAtItsBoundsIsRefusedOrTakenWithoutAServerError() async throws {
        let host = try ExternalCogTests.host(load: false)
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            let base = try String(contentsOf: host.folder.appendingPathComponent("plugins/probe/cog.yaml"), encoding: .utf8)
            let placements: [(String, (String) -> String)] = [
                ("timeout_seconds", { base.replacingOccurrences(of: "timeout_seconds: 1", with: "timeout_seconds: \($0)") }),
                ("cooldown_seconds", { base.replacingOccurrences(of: "summary: Echoes its arguments}", with: "summary: Echoes, cooldown_seconds: \($0)}") }),
                ("every_seconds", { base + "tasks:\n  - {name: tick, every_seconds: \($0)}\n" }),
                ("config default", { base.replacingOccurrences(of: "limit: {type: integer, default: 3}", with: "limit: {type: integer, default: \($0)}") }),
            ]
            for (label, place) in placements {
                for value in Self.bounds {
                    let folder = host.folder.appendingPathComponent("manifests/\(label)-\(value)")
                    try ExternalCogTests.copy(fixture: "probe", into: folder)
                    try place(value).write(to: folder.appendingPathComponent("cog.yaml"), atomically: true, encoding: .utf8)
                    let reply = try await server.request(.POST, "/api/cogs/install", token: admin, json: ["path": .string(folder.path)])
                    XCTAssertLessThan(reply.status, 500, "\(label) = \(value): \(String(decoding: reply.body, as: UTF8.self))")
                }
            }
            try await assertEqual(await server.request(.GET, "/api/health").status, 200)
        }
    }

    /// The dotted paths of a section's numeric keys (`status_dashboard.update_interval_minutes`).
    static func numericKeys(_ value: JSONValue, path: String = "") -> [String] {
        switch value {
        case .object(let members):
            return members.sorted { $0.key < $1.key }.flatMap { numericKeys($0.value, path: path.isEmpty ? $0.key : "\(path).\($0.key)") }
        case .int, .double:
            return [path]
        default:
            return []
        }
    }

    /// `{"a": {"b": value}}` for the path `a.b`.
    static func nested(_ path: String, _ value: JSONValue) -> JSONValue {
        path.split(separator: ".").reversed().reduce(value) { inner, key in .object([String(key): inner]) }
    }
}
