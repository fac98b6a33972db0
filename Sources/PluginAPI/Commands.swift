/// A bot command (`!ticket new Printer on fire`), registered by a cog with ``CogContext/command(_:)``.
public struct BotCommand: Sendable {
    /// The word after the prefix (`"ticket"`). Lowercase, unique across loaded cogs.
    public var name: String
    /// How to call it, for help (`"!ticket new <subject> | list | close <id>"`).
    public var usage: String
    /// One line on what it does.
    public var summary: String
    /// Minimum time between two uses by the same user.
    public var cooldown: Duration
    /// Who may run it.
    public var access: Access
    /// Runs the command and answers the reply text. Throw ``CommandError`` for a reply that reports a mistake.
    public var handler: @Sendable (CommandInvocation) async throws -> String

    /// A command; see each property.
    public init(
        name: String, usage: String, summary: String, cooldown: Duration = .zero, access: Access = .user,
        handler: @escaping @Sendable (CommandInvocation) async throws -> String
    ) {
        self.name = name
        self.usage = usage
        self.summary = summary
        self.cooldown = cooldown
        self.access = access
        self.handler = handler
    }
}

/// One call of a bot command.
public struct CommandInvocation: Sendable {
    /// Who sent it.
    public var caller: Identity
    /// The words after the command name, split on white space with "double quotes" grouping.
    public var arguments: [String]
    /// The text after the command name, untouched.
    public var rawArguments: String
    /// Correlates events the command publishes with the message that ran it.
    public var correlationID: String
    /// The guild the caller chats in, if resolved.
    public var guild: GuildScope?

    /// One call; the host builds these from chat messages.
    public init(caller: Identity, arguments: [String], rawArguments: String, correlationID: String, guild: GuildScope? = nil) {
        self.guild = guild
        self.caller = caller
        self.arguments = arguments
        self.rawArguments = rawArguments
        self.correlationID = correlationID
    }
}

/// A mistake in a command's use; its message is the reply.
public struct CommandError: Error, Sendable {
    /// The reply shown to the caller.
    public var message: String
    /// A mistake reported with `message`.
    public init(_ message: String) { self.message = message }
}
