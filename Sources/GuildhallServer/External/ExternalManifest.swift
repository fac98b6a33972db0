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
            reader.problem("contract", "a contract version such as \"\(ContractVersion.current)\"")
        } else if !contract.isEmpty && !ContractVersion(stringLiteral: contract).runs(on: .current) {
            reader.problems.append("contract: built for \(contract); this host implements \(ContractVersion.current)")
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
