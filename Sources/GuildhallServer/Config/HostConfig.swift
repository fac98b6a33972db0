import Foundation
import PluginAPI
import Yams

/// `server`: where the service listens and what it accepts.
public struct ServerSettings: CogConfiguration {
    public var host = "127.0.0.1"
    public var port = 5070
    /// Largest request body read into memory (JSON bodies); larger ones answer 413.
    public var maxBodyBytes = 1 << 20
    /// Origins allowed by CORS; empty disables CORS headers.
    public var corsOrigins: [String] = []
    /// A connection that completes no request for this long is closed: an idle keep-alive connection, and one
    /// that has not finished sending a request's head (a slow-headers attack) or stalls in its body.
    public var idleTimeoutSeconds = 30.0
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "port": 0...65_535,
            "max_body_bytes": 1...Double(1 << 30),
            "idle_timeout_seconds": 0.1...3_600,
        ]
    }
    enum CodingKeys: String, CodingKey {
        case host, port, maxBodyBytes = "max_body_bytes", corsOrigins = "cors_origins", idleTimeoutSeconds = "idle_timeout_seconds"
    }
}

/// `database`: where the embedded SQLite file lives.
public struct DatabaseSettings: CogConfiguration {
    public var path = "./data/guildhall.sqlite"
    public init() {}
}

/// `auth`: token signing and login protection.
public struct AuthSettings: CogConfiguration {
    /// HS256 signing key. Empty: a random key is generated once and kept beside the database.
    public var secretKey = ""
    public var tokenTTLHours = 168
    /// bcrypt work factor for new password hashes (each +1 doubles the cost).
    public var bcryptCost = 12
    /// Login attempts allowed per client address within `login_window_seconds`.
    public var loginAttemptsPerIP = 30
    /// Failed logins allowed per user name within `login_window_seconds`.
    public var loginFailuresPerUser = 10
    public var loginWindowSeconds = 300
    /// Whether anyone may create an account with `POST /api/auth/register` (as a `user`). Off: admins create them.
    public var allowRegistration = false
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "token_ttl_hours": 1...8_760,
            "bcrypt_cost": 4...31,
            "login_attempts_per_ip": 1...1_000_000,
            "login_failures_per_user": 1...1_000_000,
            "login_window_seconds": 1...86_400,
        ]
    }
    public static var secretKeys: Set<String> { ["secret_key"] }
    enum CodingKeys: String, CodingKey {
        case secretKey = "secret_key", tokenTTLHours = "token_ttl_hours", bcryptCost = "bcrypt_cost"
        case loginAttemptsPerIP = "login_attempts_per_ip", loginFailuresPerUser = "login_failures_per_user"
        case loginWindowSeconds = "login_window_seconds", allowRegistration = "allow_registration"
    }
}

/// `plugins`: the cogs a new deployment starts with.
public struct PluginSettings: CogConfiguration {
    /// Loaded at the first start; afterwards the admin's choices, kept in the database, win.
    public var enabled: [String] = []
    /// How long an unload, reload or shutdown waits for a cog's work in flight before cancelling it.
    public var drainTimeoutSeconds = 10.0
    /// The folder of external cogs, one folder with a `cog.yaml` each; empty: `plugins/` beside the database.
    public var directory = ""
    /// How often a running external cog's health check is called; two misses in a row restart it.
    public var healthIntervalSeconds = 5.0
    /// How long a starting external cog has to answer its health check.
    public var startTimeoutSeconds = 10.0
    /// The largest `.tar.gz` `POST /api/cogs/install` accepts.
    public var maxInstallBytes = 64 << 20
    /// A host running as root starts each external cog as a user of its own: uids from this one on (no account
    /// needs to exist). Pick a range no account of the machine uses.
    public var cogUserBase = 2_000_000_000
    /// Whether a host that cannot isolate external cogs (it does not run as root) still starts them, with its own
    /// user: only for cogs you trust as much as the host.
    public var allowUnisolatedCogs = false
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "drain_timeout_seconds": 0...3_600,
            "health_interval_seconds": 0.05...3_600,
            "start_timeout_seconds": 0.1...3_600,
            "max_install_bytes": 1...Double(1 << 34),
            "cog_user_base": 1_000...4_000_000_000,
        ]
    }
}

/// `cache`: the in-memory cache.
public struct CacheSettings: CogConfiguration {
    public var capacity = 10_000
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "capacity": 1...10_000_000,
        ]
    }
}

/// `gateway`: the WebSocket gateway's limits.
public struct GatewaySettings: CogConfiguration {
    /// Largest client frame accepted; bigger ones get error 1009 and the connection closes.
    public var maxFrameBytes = 65_536
    /// Frames one connection may send per minute; past it, error 4003 (a warning comes at 95%).
    public var messagesPerMinute = 100
    /// Bot commands one connection may send per minute.
    public var commandsPerMinute = 10
    /// Open connections allowed per client address.
    public var maxConnectionsPerIP = 1000
    /// A connection that sends nothing (not even a ping) for this long is closed.
    public var heartbeatTimeoutSeconds = 120
    /// Frames sent to a client while its connection's send buffer is full before it is disconnected as too slow.
    public var outboundQueueLimit = 4096
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "max_frame_bytes": 16...Double(16 << 20),
            "messages_per_minute": 1...1_000_000,
            "commands_per_minute": 1...1_000_000,
            "max_connections_per_ip": 1...1_000_000,
            "heartbeat_timeout_seconds": 1...86_400,
            "outbound_queue_limit": 1...1_000_000,
        ]
    }
    enum CodingKeys: String, CodingKey {
        case maxFrameBytes = "max_frame_bytes", messagesPerMinute = "messages_per_minute"
        case commandsPerMinute = "commands_per_minute", maxConnectionsPerIP = "max_connections_per_ip"
        case heartbeatTimeoutSeconds = "heartbeat_timeout_seconds", outboundQueueLimit = "outbound_queue_limit"
    }
}

/// `live_log`: how long messages are kept and how much one query returns.
public struct LiveLogSettings: CogConfiguration {
    /// Messages older than this many days are deleted by an hourly task.
    public var retentionDays = 30
    /// The largest `limit` of a history or search query.
    public var maxQueryLimit = 500
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "retention_days": 1...36_500,
            "max_query_limit": 1...100_000,
        ]
    }
    enum CodingKeys: String, CodingKey {
        case retentionDays = "retention_days", maxQueryLimit = "max_query_limit"
    }
}

/// `tenancy`: what guilds may do unless their settings say otherwise.
public struct TenancySettings: CogConfiguration {
    /// Requests a minute all of one guild's API keys together may make (a guild's `settings.rate_limits` may set its own).
    public var guildRequestsPerMinute = 6_000
    /// Events a minute all of one guild's API keys together may charge.
    public var guildEventsPerMinute = 10_000_000
    /// Gateway connections all of one guild's API keys together may hold open.
    public var guildMaxConnections = 50
    /// Cogs a guild's leader may switch on and off for their guild (admins may switch any).
    public var leaderManagedCogs: [String] = []
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "guild_requests_per_minute": 1...1_000_000_000,
            "guild_events_per_minute": 1...1_000_000_000_000,
            "guild_max_connections": 1...1_000_000,
        ]
    }
    enum CodingKeys: String, CodingKey {
        case guildRequestsPerMinute = "guild_requests_per_minute", guildEventsPerMinute = "guild_events_per_minute"
        case guildMaxConnections = "guild_max_connections", leaderManagedCogs = "leader_managed_cogs"
    }
}

/// `logging`: log verbosity.
public struct LoggingSettings: CogConfiguration {
    /// trace, debug, info, notice, warning, error or critical.
    public var level = "info"
    /// Also append every record of `info` and above (the host's and the cogs') to this file as JSON lines, for
    /// `GET /api/logs` to reach back past its in-memory rings and across restarts. Empty: no file.
    public var file = ""
    /// At this size the file moves to `<file>.1` and a new one starts.
    public var maxBytes = 50 << 20
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "max_bytes": 4_096...Double(1 << 40),
        ]
    }
    enum CodingKeys: String, CodingKey {
        case level, file, maxBytes = "max_bytes"
    }
}

/// `smtp`: the mail server cogs send through (ticket transcripts). Plain SMTP with optional AUTH PLAIN, meant for a
/// relay on the machine or its private network (Postfix, an SMTP sidecar) that carries mail onward over TLS.
public struct SMTPSettings: CogConfiguration {
    /// The relay's host name; empty means no mail is sent.
    public var host = ""
    public var port = 25
    /// The sender address of every message.
    public var from = ""
    /// Credentials for AUTH PLAIN; empty sends none. Write the password as `${SMTP_PASSWORD}`.
    public var username = ""
    public var password = ""
    /// How long one message may take, connection included.
    public var timeoutSeconds = 30.0
    /// The name this host gives in EHLO.
    public var heloName = "guildhall.localhost"
    public static var secretKeys: Set<String> { ["password"] }
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "port": 1...65_535,
            "timeout_seconds": 0.1...3_600,
        ]
    }
}

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
