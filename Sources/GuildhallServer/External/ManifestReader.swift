import Foundation
import PluginAPI

/// Reads the manifest's keys, collecting a problem per bad key instead of stopping at the first.
struct ManifestReader {
    let document: [String: JSONValue]
    var problems: [String] = []
    private var read: Set<String> = []

    init(_ value: JSONValue) {
        if case .object(let members) = value {
            document = members
        } else {
            document = [:]
            problems.append("the file must be a mapping of keys")
        }
    }

    mutating func problem(_ key: String, _ expected: String) { problems.append("\(key): expected \(expected)") }

    mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        return document[key]
    }

    mutating func string(_ key: String, required: Bool = true) -> String? {
        switch value(key) {
        case .string(let text) where !text.isEmpty: return text
        case nil, .null: if required { problem(key, "a value") }
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        default: problem(key, "a string")
        }
        return nil
    }

    /// The number at `key`, which must lie in `range`.
    mutating func number(_ key: String, in range: ClosedRange<Double>) -> Double? {
        bounded(value(key), range, at: key)
    }

    mutating func path(_ key: String) -> String? {
        guard let path = string(key, required: false) else { return nil }
        guard path.hasPrefix("/") else {
            problem(key, "a path starting with /")
            return nil
        }
        return path
    }

    mutating func strings(_ key: String, required: Bool) -> [String] {
        switch value(key) {
        case nil, .null:
            if required { problem(key, "a list") }
            return []
        case .array(let items):
            let texts = items.compactMap(\.stringValue)
            if texts.count != items.count || (required && texts.isEmpty) { problem(key, "a list of strings") }
            return texts
        default:
            problem(key, "a list of strings")
            return []
        }
    }

    mutating func list(_ key: String) -> [(Int, [String: JSONValue])] {
        switch value(key) {
        case nil, .null: return []
        case .array(let items):
            return items.enumerated().compactMap { index, item in
                guard case .object(let members) = item else {
                    problem("\(key)[\(index)]", "a mapping")
                    return nil
                }
                return (index, members)
            }
        default:
            problem(key, "a list")
            return []
        }
    }

    mutating func access(_ text: String?, at key: String) -> Access {
        guard let text else { return .admin }
        if let access = Self.access(text) { return access }
        problem(key, "public, user, moderator, admin, guild or guild:<permission>[:<role>]")
        return .admin
    }

    static func access(_ text: String) -> Access? {
        switch text {
        case "public": return .public
        case "user": return .user
        case "moderator": return .moderator
        case "admin": return .admin
        case "guild": return .guild(.query)
        default:
            let parts = text.split(separator: ":").map(String.init)
            guard parts.count >= 2, parts.count <= 3, parts[0] == "guild", !parts[1].isEmpty else { return nil }
            let role = parts.count == 3 ? Role(rawValue: parts[2]) : .user
            guard let role else { return nil }
            return .guild(GuildPermission(rawValue: parts[1]), minimumRole: role)
        }
    }

    mutating func fields(_ value: JSONValue?, at key: String) -> [ExternalManifest.Field]? {
        guard let value else { return nil }
        guard case .object(let members) = value else {
            problem(key, "a mapping of field names to types")
            return []
        }
        return members.keys.sorted().compactMap { name in
            var text = members[name]?.stringValue ?? ""
            let optional = text.hasSuffix("?")
            if optional { text.removeLast() }
            guard let type = ExternalManifest.FieldType(rawValue: text) else {
                problem("\(key).\(name)", "one of \(ExternalManifest.FieldType.allCases.map(\.rawValue).joined(separator: ", ")), ? for optional")
                return nil
            }
            return .init(name: name, type: type, required: !optional)
        }
    }

    mutating func routes(under prefixes: [String]) -> [ExternalManifest.Route] {
        list("routes").compactMap { index, members in
            let key = "routes[\(index)]"
            let method = HTTPRequest.Method(members["method"]?.stringValue?.uppercased() ?? "")
            guard let method, ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(method.rawValue) else {
                problem("\(key).method", "GET, POST, PUT, PATCH or DELETE")
                return nil
            }
            guard let path = members["path"]?.stringValue, path.hasPrefix("/") else {
                problem("\(key).path", "a path starting with /")
                return nil
            }
            if !prefixes.contains(where: { PathPrefix.path(CogHTTP.routerPath(path), isUnder: $0) }) {
                problems.append("\(key).path: \(path) lies outside route_prefixes \(prefixes)")
            }
            let parameters = fields(members["parameters"], at: "\(key).parameters") ?? []
            let names = path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
            let declared = names.map { name in
                parameters.first { $0.name == name } ?? .init(name: name, type: .string, required: true)
            }
            for extra in parameters where !names.contains(extra.name) {
                problems.append("\(key).parameters: \(extra.name) is not in the path")
            }
            for (name, _) in members where !["method", "path", "access", "summary", "parameters", "query", "body"].contains(name) {
                problems.append("\(key): unknown key \(name)")
            }
            return .init(
                method: method, path: path, access: access(members["access"]?.stringValue, at: "\(key).access"),
                summary: members["summary"]?.stringValue ?? "\(method) \(path)", parameters: declared,
                query: fields(members["query"], at: "\(key).query") ?? [], body: fields(members["body"], at: "\(key).body"))
        }
    }

    /// A call's path from the manifest, or `fallback`.
    /// A number of a list entry, which must lie in `range`; nil (and a problem) when it does not, nil when absent.
    mutating func bounded(_ value: JSONValue?, _ range: ClosedRange<Double>, at key: String) -> Double? {
        guard let value, value != .null else { return nil }
        guard let number = value.doubleValue, range.contains(number) else {
            problem(key, ConfigRanges.describe(range))
            return nil
        }
        return number
    }

    mutating func callPath(_ value: JSONValue?, default fallback: String, at key: String) -> String {
        guard let value else { return fallback }
        guard let path = value.stringValue, path.hasPrefix("/") else {
            problem(key, "a path starting with /")
            return fallback
        }
        return path
    }

    mutating func commands() -> [ExternalManifest.Command] {
        list("commands").compactMap { index, members in
            guard let name = members["name"]?.stringValue, name.wholeMatch(of: /[a-z][a-z0-9_-]*/) != nil else {
                problem("commands[\(index)].name", "a lowercase word")
                return nil
            }
            return .init(
                name: name, path: callPath(members["path"], default: "/commands/\(name)", at: "commands[\(index)].path"),
                usage: members["usage"]?.stringValue ?? "!\(name)", summary: members["summary"]?.stringValue ?? "",
                access: access(members["access"]?.stringValue ?? "user", at: "commands[\(index)].access"),
                cooldownSeconds: bounded(members["cooldown_seconds"], 0...86_400, at: "commands[\(index)].cooldown_seconds") ?? 0)
        }
    }

    mutating func actions() -> [ExternalManifest.Action] {
        guard case .object(let gateway)? = value("gateway") else { return [] }
        let items = gateway["actions"]?.arrayValue ?? []
        return items.enumerated().compactMap { index, item in
            guard let name = item["name"]?.stringValue, !name.isEmpty else {
                problem("gateway.actions[\(index)].name", "a name")
                return nil
            }
            return .init(
                name: name, path: callPath(item["path"], default: "/actions/\(name)", at: "gateway.actions[\(index)].path"),
                access: access(item["access"]?.stringValue ?? "user", at: "gateway.actions[\(index)].access"))
        }
    }

    mutating func topics() -> [ExternalManifest.Topic] {
        guard case .object(let gateway)? = document["gateway"] else { return [] }
        let items = gateway["topics"]?.arrayValue ?? []
        return items.enumerated().compactMap { index, item in
            guard let prefix = item["prefix"]?.stringValue, !prefix.isEmpty, !prefix.contains(":") else {
                problem("gateway.topics[\(index)].prefix", "a name without ':'")
                return nil
            }
            return .init(prefix: prefix, access: access(item["access"]?.stringValue ?? "guild", at: "gateway.topics[\(index)].access"))
        }
    }

    mutating func tasks() -> [ExternalManifest.Task] {
        list("tasks").compactMap { index, members in
            guard let name = members["name"]?.stringValue, name.wholeMatch(of: /[a-z0-9_-]+/) != nil else {
                problem("tasks[\(index)].name", "a name of lowercase letters, digits, - and _")
                return nil
            }
            guard let every = bounded(members["every_seconds"], 1...31_536_000, at: "tasks[\(index)].every_seconds") else {
                if members["every_seconds"] == nil { problem("tasks[\(index)].every_seconds", "a number of seconds") }
                return nil
            }
            return .init(
                name: name, path: callPath(members["path"], default: "/tasks/\(name)", at: "tasks[\(index)].path"), everySeconds: every,
                forEachGuild: members["for_each_guild"] == .bool(true))
        }
    }

    mutating func configKeys() -> [ExternalManifest.ConfigKey] {
        guard let section = value("config"), section != .null else { return [] }
        guard case .object(let members) = section else {
            problem("config", "a mapping of keys")
            return []
        }
        return members.keys.sorted().compactMap { name in
            let key = "config.\(name)"
            guard case .object(let spec)? = members[name], let typeName = spec["type"]?.stringValue,
                let type = ExternalManifest.FieldType(rawValue: typeName)
            else {
                problem(key, "a mapping with a type (\(ExternalManifest.FieldType.allCases.map(\.rawValue).joined(separator: ", ")))")
                return nil
            }
            guard let defaultValue = spec["default"], type.admits(defaultValue) else {
                problem("\(key).default", "a default of type \(typeName)")
                return nil
            }
            var range: ClosedRange<Double>?
            if spec["min"] != nil || spec["max"] != nil {
                guard type == .integer || type == .number, let low = (spec["min"] ?? .double(ConfigRanges.fallback.lowerBound)).doubleValue,
                    let high = (spec["max"] ?? .double(ConfigRanges.fallback.upperBound)).doubleValue, low <= high
                else {
                    problem(key, "min and max only on an integer or number key, min at most max")
                    return nil
                }
                range = low...high
            }
            if let number = defaultValue.doubleValue, !(range ?? ConfigRanges.fallback).contains(number) {
                problem("\(key).default", ConfigRanges.describe(range ?? ConfigRanges.fallback))
                return nil
            }
            return .init(name: name, type: type, defaultValue: defaultValue, secret: spec["secret"] == .bool(true), range: range)
        }
    }

    mutating func permissions() -> CogPermissions {
        let texts = strings("permissions", required: false)
        var permissions = CogPermissions()
        for text in texts {
            do {
                try permissions.grant(text)
            } catch {
                problems.append("permissions: \(error)")
            }
        }
        return permissions
    }

    mutating func refuseUnknownKeys() {
        for key in document.keys.sorted() where !read.contains(key) && key != "gateway" {
            problems.append("\(key): not a manifest key")
        }
    }
}
