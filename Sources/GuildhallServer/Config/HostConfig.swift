import Foundation
import PluginAPI
import Yams

/// The deployment's configuration: the infrastructure sections, needed before anything starts and changed only by
/// a restart, and the raw runtime sections (`general`, a cog's section, ...) that the config API edits.
public struct HostConfig: Sendable {
    public var server = ServerSettings()
    public var database = DatabaseSettings()
    public var auth = AuthSettings()
    public var plugins = PluginSettings()
    public var cache = CacheSettings()
    public var logging = LoggingSettings()
    public var gateway = GatewaySettings()
    public var liveLog = LiveLogSettings()
    public var tenancy = TenancySettings()
    public var smtp = SMTPSettings()
    public var outbound = OutboundSettings()
    public var analytics = AnalyticsSettings()
    public var push = PushSettings()
    public var discord = DiscordSettings()
    /// Runtime sections as written in the file, validated when the host knows their types.
    public var runtimeSections: [String: JSONValue] = [:]
    /// The users created or updated at startup from API_ADMIN_USER/API_ADMIN_PASS and API_EXTRA_USERS.
    public var bootstrapUsers: [BootstrapUser] = []
    /// Where the configuration came from, for messages.
    public var source = "defaults"

    public init() {}

    /// A user the environment asks for.
    public struct BootstrapUser: Sendable, Equatable {
        public var username: String
        public var password: String
        public var role: Role

        /// A user with `role`, created (or given this password) at startup.
        public init(username: String, password: String, role: Role) {
            self.username = username
            self.password = password
            self.role = role
        }
    }

    static let infrastructureKeys = ["server", "database", "auth", "plugins", "cache", "logging", "gateway", "live_log", "tenancy", "smtp", "outbound", "analytics", "push", "discord"]

    /// Reads `path` (or only defaults when `path` is nil), substitutes `${VAR}` and `${VAR:-default}`, applies the
    /// environment overrides (API_PORT, SECRET_KEY, CORS_ORIGINS, DB_PATH, API_ADMIN_USER, API_ADMIN_PASS,
    /// API_EXTRA_USERS) and decodes every infrastructure section. Every problem found is reported, not just the first.
    public static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> HostConfig {
        var config = HostConfig()
        var problems: [String] = []
        var document: [String: JSONValue] = [:]
        if let path {
            config.source = path
            do {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                var unset: [String] = []
                switch substitute(in: try yamlValue(Yams.load(yaml: text)), environment: environment, unset: &unset) {
                case .object(let members): document = members
                case .null: break
                case let other: problems.append("the file must be a mapping of sections, found \(other.kindDescription)")
                }
                problems += unset.map { "variable ${\($0)} is used but not set (write ${\($0):-default} for a default)" }
            } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
                throw ConfigFileError(file: path, problems: ["the file does not exist"])
            } catch let error as YamlError {
                throw ConfigFileError(file: path, problems: ["not valid YAML: \(error)"])
            } catch {
                throw ConfigFileError(file: path, problems: ["cannot be read: \(error.localizedDescription)"])
            }
        }
        applyEnvironment(environment, to: &document, problems: &problems)

        func section<C: CogConfiguration>(_ key: String, _ type: C.Type) -> C {
            do {
                return try ConfigSection.decodeChecked(C.self, from: document[key] ?? .object([:]))
            } catch let error as ConfigValidationError {
                problems.append(Self.describe(error, in: key))
            } catch {
                problems.append("section '\(key)': \(error)")
            }
            return C()
        }
        config.server = section("server", ServerSettings.self)
        config.database = section("database", DatabaseSettings.self)
        config.auth = section("auth", AuthSettings.self)
        config.plugins = section("plugins", PluginSettings.self)
        config.cache = section("cache", CacheSettings.self)
        config.logging = section("logging", LoggingSettings.self)
        config.gateway = section("gateway", GatewaySettings.self)
        config.liveLog = section("live_log", LiveLogSettings.self)
        config.tenancy = section("tenancy", TenancySettings.self)
        config.smtp = section("smtp", SMTPSettings.self)
        config.outbound = section("outbound", OutboundSettings.self)
        config.analytics = section("analytics", AnalyticsSettings.self)
        config.push = section("push", PushSettings.self)
        config.discord = section("discord", DiscordSettings.self)
        config.runtimeSections = document.filter { !infrastructureKeys.contains($0.key) }
        config.bootstrapUsers = bootstrapUsers(environment, problems: &problems)
        if !(1...65535).contains(config.server.port) { problems.append("key 'server.port': expected a port from 1 to 65535") }
        if !(4...31).contains(config.auth.bcryptCost) { problems.append("key 'auth.bcrypt_cost': expected 4 to 31") }
        if config.auth.tokenTTLHours < 1 { problems.append("key 'auth.token_ttl_hours': expected at least 1") }
        if config.gateway.maxFrameBytes < 1024 { problems.append("key 'gateway.max_frame_bytes': expected at least 1024") }
        if config.gateway.heartbeatTimeoutSeconds < 5 { problems.append("key 'gateway.heartbeat_timeout_seconds': expected at least 5") }
        if !config.smtp.host.isEmpty && !config.smtp.from.contains("@") { problems.append("key 'smtp.from': expected the sender's address") }
        if config.analytics.sessionTimeoutMinutes < 1 { problems.append("key 'analytics.session_timeout_minutes': expected at least 1") }
        if config.analytics.retentionDays < 1 { problems.append("key 'analytics.retention_days': expected at least 1") }
        do {
            _ = try FCMSender.account(from: config.push)
        } catch {
            problems.append("\(error)")
        }
        if config.liveLog.retentionDays < 1 { problems.append("key 'live_log.retention_days': expected at least 1") }
        guard problems.isEmpty else { throw ConfigFileError(file: config.source, problems: problems) }
        return config
    }

    /// `"key 'server.port': expected ..., found ..."` for an error inside section `key`.
    static func describe(_ error: ConfigValidationError, in key: String) -> String {
        var qualified = error
        qualified.path = error.path.isEmpty ? key : "\(key).\(error.path)"
        return qualified.description
    }

    /// Replaces `${NAME}` and `${NAME:-default}` in every string value of the parsed file (comments are never
    /// touched). A value that is one whole expression takes the type its text reads as: `${API_PORT:-5070}` is a
    /// number. Collects the names used but unset without a default.
    static func substitute(in value: JSONValue, environment: [String: String], unset: inout [String]) -> JSONValue {
        switch value {
        case .string(let text) where text.contains("${"):
            let result = substitute(text, environment: environment, unset: &unset)
            let isWholeExpression = text.hasPrefix("${") && text.hasSuffix("}") && text.dropFirst(2).firstIndex(of: "}") == text.index(before: text.endIndex)
            return isWholeExpression ? typedScalar(result) : .string(result)
        case .array(let items):
            return .array(items.map { substitute(in: $0, environment: environment, unset: &unset) })
        case .object(let members):
            return .object(members.mapValues { substitute(in: $0, environment: environment, unset: &unset) })
        default:
            return value
        }
    }

    static func substitute(_ text: String, environment: [String: String], unset: inout [String]) -> String {
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            output += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
            let expression = rest[start.upperBound..<end]
            let name: Substring
            var fallback: Substring?
            if let separator = expression.range(of: ":-") {
                name = expression[..<separator.lowerBound]
                fallback = expression[separator.upperBound...]
            } else {
                name = expression
            }
            if let value = environment[String(name)], !value.isEmpty {
                output += value
            } else if let fallback {
                output += fallback
            } else {
                unset.append(String(name))
            }
            rest = rest[rest.index(after: end)...]
        }
        return output + rest
    }

    private static func typedScalar(_ text: String) -> JSONValue {
        if let number = Int64(text) { return .int(number) }
        if let number = Double(text) { return .double(number) }
        if text == "true" || text == "false" { return .bool(text == "true") }
        return .string(text)
    }

    private static func applyEnvironment(
        _ environment: [String: String], to document: inout [String: JSONValue], problems: inout [String]
    ) {
        func set(_ section: String, _ key: String, _ value: JSONValue) {
            var members: [String: JSONValue] = [:]
            if case .object(let existing) = document[section] { members = existing }
            members[key] = value
            document[section] = .object(members)
        }
        if let port = environment["API_PORT"] {
            if let number = Int(port) { set("server", "port", .int(Int64(number))) } else {
                problems.append("API_PORT: expected a port number, found '\(port)'")
            }
        }
        if let secret = environment["SECRET_KEY"], !secret.isEmpty { set("auth", "secret_key", .string(secret)) }
        if let path = environment["DB_PATH"], !path.isEmpty { set("database", "path", .string(path)) }
        // Document 004's variables for Discord sign-in.
        for (variable, key) in [
            ("DISCORD_CLIENT_ID", "client_id"), ("DISCORD_CLIENT_SECRET", "client_secret"), ("DISCORD_REDIRECT_URI", "redirect_uri"),
            ("DISCORD_GUILD_ID", "guild_id"), ("ADMIN_ROLE_ID", "admin_role_id"), ("MODERATOR_ROLE_ID", "moderator_role_id"),
        ] {
            if let value = environment[variable], !value.isEmpty { set("discord", key, .string(value)) }
        }
        if let origins = environment["CORS_ORIGINS"] {
            let list = origins.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            set("server", "cors_origins", .array(list.map(JSONValue.string)))
        }
    }

    private static func bootstrapUsers(_ environment: [String: String], problems: inout [String]) -> [BootstrapUser] {
        var users: [BootstrapUser] = []
        if let password = environment["API_ADMIN_PASS"], !password.isEmpty {
            let name = environment["API_ADMIN_USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "admin"
            users.append(BootstrapUser(username: name, password: password, role: .admin))
        }
        for entry in (environment["API_EXTRA_USERS"] ?? "").split(separator: ",") {
            let parts = entry.split(separator: ":", maxSplits: 2).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                problems.append("API_EXTRA_USERS: expected name:password[:role] entries separated by commas")
                continue
            }
            guard let role = parts.count == 3 ? Role(rawValue: parts[2]) : .user else {
                problems.append("API_EXTRA_USERS: role of '\(parts[0])' must be admin, moderator or user")
                continue
            }
            users.append(BootstrapUser(username: parts[0], password: parts[1], role: role))
        }
        return users
    }

    /// Converts what Yams parsed into a JSON value.
    static func yamlValue(_ value: Any?) throws -> JSONValue {
        switch value {
        case nil, is NSNull: return .null
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .int(Int64(number))
        case let number as Double: return .double(number)
        case let text as String: return .string(text)
        case let items as [Any]: return .array(try items.map(yamlValue))
        case let members as [String: Any]: return .object(try members.mapValues(yamlValue))
        case let members as [AnyHashable: Any]:
            return .object(
                Dictionary(uniqueKeysWithValues: try members.map { ("\($0.key)", try yamlValue($0.value)) }))
        case let date as Date: return .string(Timestamp.string(from: date))
        default: return .string("\(value!)")
        }
    }
}

/// A configuration that cannot be used: the file and every problem, each naming its key.
public struct ConfigFileError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var problems: [String]

    public var description: String {
        "\(file): " + (problems.count == 1 ? problems[0] : "\n" + problems.map { "  - \($0)" }.joined(separator: "\n"))
    }
}
