import Foundation
import PluginAPI
import Yams

/// An external cog's `cog.yaml`, read and checked: everything the host needs to start the process, route to it,
/// call it and hold it to the permissions it asked for. docs/external-cogs.md describes every key.
struct ExternalManifest: Sendable {
    /// A route the cog serves, proxied by the host.
    struct Route: Sendable {
        var method: HTTPRequest.Method
        var path: String
        var access: Access
        var summary: String
        /// Path parameters by name and type (`integer` ones are checked before the cog is called).
        var parameters: [Field]
        var query: [Field]
        /// The JSON body's fields, for the API description; nil for a route without a body.
        var body: [Field]?
    }

    /// A typed field of a route's path, query or body, or of the config.
    struct Field: Sendable, Equatable {
        var name: String
        var type: FieldType
        var required: Bool
    }

    enum FieldType: String, Sendable, CaseIterable {
        case string, integer, number, boolean, array, object
    }

    struct Command: Sendable {
        var name: String
        /// Where the host calls it (default `/commands/<name>`).
        var path: String
        var usage: String
        var summary: String
        var access: Access
        var cooldownSeconds: Double
    }

    struct Action: Sendable {
        var name: String
        /// Where the host calls it (default `/actions/<name>`).
        var path: String
        var access: Access
    }

    struct Topic: Sendable {
        var prefix: String
        /// Who may subscribe (checked against the connection's caller and guild).
        var access: Access
    }

    struct Task: Sendable {
        var name: String
        /// Where the host calls it (default `/tasks/<name>`).
        var path: String
        var everySeconds: Double
        var forEachGuild: Bool
    }

    struct ConfigKey: Sendable {
        var name: String
        var type: FieldType
        var defaultValue: JSONValue
        var secret: Bool
        /// `min`...`max` of a numeric key (contract 1.4); nil: ``ConfigRanges/fallback``.
        var range: ClosedRange<Double>?
    }

    /// The folder holding `cog.yaml`.
    let folder: URL
    let cog: CogManifest
    /// The program and its arguments; a relative program is resolved in the folder, a bare name on `PATH`.
    let command: [String]
    let healthPath: String
    let eventsPath: String
    /// Where the host posts the cog's settings after each runtime change; nil: the cog is not told (it may ask).
    let configPath: String?
    /// Bound of one call into the cog (a route, an event, a command, a task run).
    let timeout: Duration
    let routes: [Route]
    let subscriptions: [String]
    let commands: [Command]
    let actions: [Action]
    let topics: [Topic]
    let tasks: [Task]
    let config: [ConfigKey]
    let permissions: CogPermissions

    /// The name a cog folder's manifest has.
    static let fileName = "cog.yaml"
    /// Whether `id` may name a cog: it names a folder, a config section and a socket.
    static func isValidID(_ id: String) -> Bool { id.wholeMatch(of: /[a-z][a-z0-9_-]{0,31}/) != nil }

    /// Reads `folder/cog.yaml`; throws ``ManifestError`` listing every problem found.
    init(folder: URL) throws {
        let file = folder.appendingPathComponent(Self.fileName)
        let document: JSONValue
        do {
            let text = try String(contentsOf: file, encoding: .utf8)
            document = try HostConfig.yamlValue(Yams.load(yaml: text))
        } catch let error as YamlError {
            throw ManifestError(problems: ["\(Self.fileName) is not valid YAML: \(error)"])
        } catch {
            throw ManifestError(problems: ["\(Self.fileName) cannot be read in \(folder.path)"])
        }
        var reader = ManifestReader(document)
        self.folder = folder
        let id = reader.string("id") ?? ""
        if !id.isEmpty && !Self.isValidID(id) {
            reader.problem("id", "a lowercase name of letters, digits, - and _ (at most 32), starting with a letter")
        }
        let contract = reader.string("contract") ?? ""
        if !contract.isEmpty && ContractVersion(stringLiteral: contract) == ContractVersion(major: 0, minor: 0) {
            reader.problem("contract", "a contract version such as \"1.3\"")
        } else if !contract.isEmpty && !ContractVersion(stringLiteral: contract).runs(on: .current) {
            reader.problems.append("contract: built for \(contract); this host implements \(ContractVersion.current)")
        } else if !contract.isEmpty && ContractVersion(stringLiteral: contract) < ContractVersion(major: 1, minor: 3) {
            reader.problems.append("contract: external cogs arrived with contract 1.3; state \"1.3\" or later")
        }
        command = reader.strings("command", required: true)
        let prefixes = reader.strings("route_prefixes", required: false)
        let configKeys = reader.configKeys()
        cog = CogManifest(
            id: id, displayName: reader.string("name") ?? id, version: reader.string("version") ?? "",
            contract: ContractVersion(stringLiteral: contract), summary: reader.string("summary") ?? "",
            minimumHostVersion: reader.string("minimum_host_version", required: false),
            category: reader.string("category", required: false), features: reader.strings("features", required: false),
            dependsOn: reader.strings("depends_on", required: false), routePrefixes: prefixes,
            configSection: configKeys.isEmpty ? nil : id)
        healthPath = reader.path("health_path") ?? "/health"
        eventsPath = reader.path("events_path") ?? "/events"
        configPath = reader.path("config_path")
        timeout = .milliseconds(Int64((reader.number("timeout_seconds", in: 0.001...3_600) ?? 10) * 1000))
        routes = reader.routes(under: prefixes)
        subscriptions = reader.strings("subscribe", required: false)
        commands = reader.commands()
        actions = reader.actions()
        topics = reader.topics()
        tasks = reader.tasks()
        config = configKeys
        permissions = reader.permissions()
        reader.refuseUnknownKeys()
        for pattern in subscriptions where !permissions.allows(.subscribe, pattern) {
            reader.problems.append("subscribe: '\(pattern)' needs the permission events:subscribe:\(pattern)")
        }
        if !topics.isEmpty && !permissions.gatewayPublish {
            reader.problems.append("gateway.topics: claiming topics needs the permission gateway:publish")
        }
        if let program = command.first, program.hasPrefix("/") || program.contains("..") {
            reader.problems.append("command: the program must be a name on PATH or a path inside the cog's folder")
        }
        guard reader.problems.isEmpty else { throw ManifestError(problems: reader.problems) }
    }

    /// The JSON Schema of `fields`, as an object.
    static func schema(of fields: [Field]) -> JSONValue {
        var properties: [String: JSONValue] = [:]
        for field in fields { properties[field.name] = ["type": .string(field.type.rawValue)] }
        let required = fields.filter(\.required).map { JSONValue.string($0.name) }
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required) }
        return .object(schema)
    }

    /// The config section the manifest's `config` declares: its defaults, and a check of each key's type.
    var configSection: ConfigSection? {
        guard let name = cog.configSection else { return nil }
        let keys = config
        let defaults = JSONValue.object(Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0.defaultValue) }))
        return ConfigSection.dynamic(
            name: name, defaults: defaults, secretKeys: Set(keys.filter(\.secret).map(\.name)),
            ranges: Dictionary(uniqueKeysWithValues: keys.compactMap { key in key.range.map { (key.name, $0) } }),
            check: { key, value in
                guard let declared = keys.first(where: { $0.name == key }) else { return "one of: \(keys.map(\.name).joined(separator: ", "))" }
                return declared.type.admits(value) ? nil : "a value of type \(declared.type.rawValue)"
            })
    }
}

extension ExternalManifest.FieldType {
    /// Whether `value` is of this type.
    func admits(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.string, .string), (.integer, .int), (.number, .int), (.number, .double), (.boolean, .bool),
            (.array, .array), (.object, .object):
            true
        default: false
        }
    }

    /// Whether `text` (a path or query parameter) reads as this type.
    func admits(text: String) -> Bool {
        switch self {
        case .integer: Int64(text) != nil
        case .number: Double(text) != nil
        case .boolean: text == "true" || text == "false"
        default: true
        }
    }
}

/// A `cog.yaml` that cannot be used, with every problem found.
struct ManifestError: Error, CustomStringConvertible, Sendable {
    var problems: [String]
    var description: String { "invalid cog.yaml: " + problems.joined(separator: "; ") }
}

/// Reads the manifest's keys, collecting a problem per bad key instead of stopping at the first.
private struct ManifestReader {
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
        let number: Double
        switch value(key) {
        case nil, .null: return nil
        case .int(let integer): number = Double(integer)
        case .double(let double): number = double
        default: number = .nan
        }
        guard range.contains(number) else {
            problem(key, ConfigRanges.describe(range))
            return nil
        }
        return number
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
