import PluginAPI

/// `general`: the bot's name, how it reads commands, and how its messages look (the admin app's general screen).
public struct GeneralConfig: CogConfiguration {
    public var botName = "Guildhall"
    /// The text that marks a chat message as a command (`!help`).
    public var commandPrefix = "!"
    /// Seconds between presence updates of bots that show one.
    public var presenceUpdateInterval = 300
    /// Seconds a user waits between two uses of one command.
    public var messageCooldown = 5
    /// 0...1: how close an unknown command must be to a known one to be suggested.
    public var fuzzyMatchingThreshold = 0.6
    /// The accent colour of the bot's embeds, as an RGB integer.
    public var pinkColor = 0xAD1457
    /// The footer line under the bot's embeds.
    public var embedFooterText = ""
    /// Display names of roles, by role key (`"admin": "Staff"`).
    public var roleNames: [String: String] = [:]
    /// The status dashboard's refresh and contents.
    public var statusDashboard = StatusDashboard()

    /// `status_dashboard`.
    public struct StatusDashboard: Codable, Sendable, Equatable {
        public var updateIntervalMinutes = 5
        public var showMonitoring = true
        public init() {}
    }

    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "presence_update_interval": 1...86_400,
            "message_cooldown": 0...86_400,
            "fuzzy_matching_threshold": 0...1,
            "pink_color": 0...0xFF_FFFF,
            "status_dashboard.update_interval_minutes": 1...10_080,
        ]
    }

    enum CodingKeys: String, CodingKey {
        case botName = "bot_name", commandPrefix = "command_prefix", presenceUpdateInterval = "presence_update_interval"
        case messageCooldown = "message_cooldown", fuzzyMatchingThreshold = "fuzzy_matching_threshold"
        case pinkColor = "pink_color", embedFooterText = "embed_footer_text", roleNames = "role_names"
        case statusDashboard = "status_dashboard"
    }
}

/// `channels`: ids of the community's channels that features post into. Each takes a string of digits, an integer
/// or null, and reads back as a string.
public struct ChannelsConfig: CogConfiguration {
    public var logChannelID: SnowflakeID = ""
    public var changelogChannelID: SnowflakeID = ""
    public var todoChannelID: SnowflakeID = ""
    public var rlChannelID: SnowflakeID = ""
    public var memeChannelID: SnowflakeID = ""
    public var serverGuideChannelID: SnowflakeID = ""
    public var welcomeRulesChannelID: SnowflakeID = ""
    public var welcomePublicChannelID: SnowflakeID = ""
    public var transcriptChannelID: SnowflakeID = ""
    public var ticketsCategoryID: SnowflakeID = ""
    public var gamingChannelID: SnowflakeID = ""
    public var statusChannelID: SnowflakeID = ""

    public init() {}

    enum CodingKeys: String, CodingKey {
        case logChannelID = "log_channel_id", changelogChannelID = "changelog_channel_id"
        case todoChannelID = "todo_channel_id", rlChannelID = "rl_channel_id", memeChannelID = "meme_channel_id"
        case serverGuideChannelID = "server_guide_channel_id", welcomeRulesChannelID = "welcome_rules_channel_id"
        case welcomePublicChannelID = "welcome_public_channel_id", transcriptChannelID = "transcript_channel_id"
        case ticketsCategoryID = "tickets_category_id", gamingChannelID = "gaming_channel_id"
        case statusChannelID = "status_channel_id"
    }
}

/// `roles`: ids of the community's roles (strings of digits, integers or null; read back as strings).
public struct RolesConfig: CogConfiguration {
    public var adminRoleID: SnowflakeID = ""
    public var moderatorRoleID: SnowflakeID = ""
    public var normalRoleID: SnowflakeID = ""
    public var memberRoleID: SnowflakeID = ""
    public var changelogRoleID: SnowflakeID = ""
    public var memeRoleID: SnowflakeID = ""
    public var interestRoleIDs: [SnowflakeID] = []
    /// Interest name → role id.
    public var interestRoles: [String: SnowflakeID] = [:]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case adminRoleID = "admin_role_id", moderatorRoleID = "moderator_role_id", normalRoleID = "normal_role_id"
        case memberRoleID = "member_role_id", changelogRoleID = "changelog_role_id", memeRoleID = "meme_role_id"
        case interestRoleIDs = "interest_role_ids", interestRoles = "interest_roles"
    }
}

/// `welcome`: what new members are shown.
public struct WelcomeConfig: CogConfiguration {
    public var rulesText = ""
    public var welcomeMessages: [String] = ["Welcome!"]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case rulesText = "rules_text", welcomeMessages = "welcome_messages"
    }
}

/// `server_guide`: the categories of the community's guide.
public struct ServerGuideConfig: CogConfiguration {
    public struct Category: Codable, Sendable, Equatable {
        public var name: String
        public var description: String
        public var channels: [String]
    }

    public var title = "Server guide"
    public var categories: [Category] = []

    public init() {}
}

/// The runtime-editable sections the host itself owns.
enum HostSections {
    static let all: [ConfigSection] = [
        .section("general", GeneralConfig.self),
        .section("channels", ChannelsConfig.self),
        .section("roles", RolesConfig.self),
        .section("welcome", WelcomeConfig.self),
        .section("server_guide", ServerGuideConfig.self),
    ]

    /// The community's own sections, which a guild may overlay like a cog's.
    static let community: Set<String> = ["general", "channels", "roles", "welcome"]
}

/// The `general` section as it applies to a guild's chat: the deployment's value with the guild's overlay.
struct CommunitySettings: Sendable {
    let config: ConfigStore
    let overlays: GuildConfigOverlays

    /// `general` for `guild` (the deployment's alone without one, or when the guild sets none of it). Read on every
    /// chat frame, so a guild without an overlay costs only the store's kept decoding.
    func general(for guild: GuildScope?) -> GeneralConfig {
        if let guild, overlays.overlay(of: "general", for: guild.id) != .object([:]),
            let value = try? overlays.effective("general", for: guild.id),
            let general = try? ConfigSection.decode(GeneralConfig.self, from: value)
        {
            return general
        }
        return (try? config.decode("general", as: GeneralConfig.self)) ?? GeneralConfig()
    }

    /// Whether `content`, chatted in `guild`, is a command: it starts with the guild's prefix and names something.
    func isCommand(_ content: String, in guild: GuildScope?) -> Bool {
        let prefix = general(for: guild).commandPrefix
        return !prefix.isEmpty && content.hasPrefix(prefix) && content.count > prefix.count
    }
}
