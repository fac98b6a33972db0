import PluginAPI

/// `general`: the bot's name and how it reads commands.
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

    public init() {}

    enum CodingKeys: String, CodingKey {
        case botName = "bot_name", commandPrefix = "command_prefix", presenceUpdateInterval = "presence_update_interval"
        case messageCooldown = "message_cooldown", fuzzyMatchingThreshold = "fuzzy_matching_threshold"
    }
}

/// `channels`: ids of the community's channels that features post into.
public struct ChannelsConfig: CogConfiguration {
    public var logChannelID = ""
    public var changelogChannelID = ""
    public var todoChannelID = ""
    public var rlChannelID = ""
    public var memeChannelID = ""
    public var serverGuideChannelID = ""
    public var welcomeRulesChannelID = ""
    public var welcomePublicChannelID = ""
    public var transcriptChannelID = ""
    public var ticketsCategoryID = ""

    public init() {}

    enum CodingKeys: String, CodingKey {
        case logChannelID = "log_channel_id", changelogChannelID = "changelog_channel_id"
        case todoChannelID = "todo_channel_id", rlChannelID = "rl_channel_id", memeChannelID = "meme_channel_id"
        case serverGuideChannelID = "server_guide_channel_id", welcomeRulesChannelID = "welcome_rules_channel_id"
        case welcomePublicChannelID = "welcome_public_channel_id", transcriptChannelID = "transcript_channel_id"
        case ticketsCategoryID = "tickets_category_id"
    }
}

/// `roles`: ids of the community's roles.
public struct RolesConfig: CogConfiguration {
    public var adminRoleID = ""
    public var moderatorRoleID = ""
    public var normalRoleID = ""
    public var memberRoleID = ""
    public var changelogRoleID = ""
    public var memeRoleID = ""
    public var interestRoleIDs: [String] = []
    /// Interest name → role id.
    public var interestRoles: [String: String] = [:]

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
}
