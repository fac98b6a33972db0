import PluginAPI

// The infrastructure sections of config.yaml: read at startup, changed by a restart (docs/operating.md).

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
