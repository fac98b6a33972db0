import Foundation
import Logging
import PluginAPI
import Synchronization

/// Runs bot commands: a chat message starting with `general.command_prefix` names a command of the registry. The
/// dispatcher parses the arguments, checks the caller's role and cooldown, runs the command and posts the reply
/// into the live log as a direct message from the bot to the caller. Prefix, bot name, cooldown and suggestion
/// threshold are those of the guild the message is chatted in (its overlay of `general`).
final class CommandDispatcher: Sendable {
    let registry: CommandRegistry
    let settings: CommunitySettings
    let liveLog: LiveLogService
    /// How a command enters its cog (access, the guild's switch, the instance's door).
    let entry: CogEntry
    /// Whether a cog is switched off for a guild: its commands are then hidden from that guild's members.
    let tenants: TenantPolicy
    private let lastUse = Mutex<[String: ContinuousClock.Instant]>([:])

    /// What running a message did.
    struct Outcome: Sendable {
        /// The command that ran, or nil if none matched.
        var command: String?
        /// The reply to the caller.
        var reply: String
        /// The reply as stored in the live log.
        var message: JSONValue?
    }

    init(registry: CommandRegistry, settings: CommunitySettings, liveLog: LiveLogService, entry: CogEntry, tenants: TenantPolicy) {
        self.registry = registry
        self.settings = settings
        self.liveLog = liveLog
        self.entry = entry
        self.tenants = tenants
    }


    /// The commands `guild`'s members can see: every command but those of cogs the guild switched off.
    func visibleCommands(in guild: GuildScope?) -> [CommandRegistry.Entry] {
        registry.all.filter { entry in guild.map { !tenants.isOff(entry.cog, in: $0.id) } ?? true }
    }

    /// Runs `content` for `caller` (chatting in `guild`) if it is a command; nil if it is not.
    func run(_ content: String, caller: Identity, guild: GuildScope?, correlationID: String) async -> Outcome? {
        let general = settings.general(for: guild)
        guard settings.isCommand(content, in: guild) else { return nil }
        let text = content.dropFirst(general.commandPrefix.count)
        let name = String(text.prefix { !$0.isWhitespace }).lowercased()
        let rest = text.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        let (command, reply) = await execute(
            name: name, rest: rest, caller: caller, guild: guild, general: general, correlationID: correlationID)
        let message = try? await liveLog.post([
            "type": "dm", "from_user_id": "bot", "from_username": .string(general.botName),
            "to_user_id": .string(String(caller.userID)), "content": .string(String(reply.prefix(LiveLogSchema.maxContentLength))),
        ])
        return Outcome(command: command, reply: reply, message: message)
    }

    private func execute(
        name: String, rest: String, caller: Identity, guild: GuildScope?, general: GeneralConfig, correlationID: String
    ) async -> (String?, String) {
        let prefix = general.commandPrefix
        guard let found = registry.command(named: name), !(guild.map { tenants.isOff(found.cog, in: $0.id) } ?? false) else {
            let suggestions = Self.closest(
                to: name, in: visibleCommands(in: guild).map(\.command.name), threshold: general.fuzzyMatchingThreshold)
            let hint = suggestions.isEmpty
                ? " Try \(prefix)help." : " Did you mean \(suggestions.map { prefix + $0 }.joined(separator: " or "))?"
            return (nil, "Unknown command \(prefix)\(name)." + hint)
        }
        let command = found.command
        guard command.access.admits(caller) else {  // the entry refuses too; this says it in the chat's words
            return (command.name, "You need the \(command.access.label) role for \(prefix)\(command.name).")
        }
        let invocation = CommandInvocation(
            caller: caller, arguments: Self.split(rest), rawArguments: rest, correlationID: correlationID, guild: guild)
        do {
            let reply = try await entry.run(caller: caller, guild: guild) {
                // After a reload, the instance registered now runs it.
                guard let current = registry.command(named: name) else { throw CogUnavailable(cog: found.cog).apiError }
                return CogEntry.Target(cog: current.cog, access: current.command.access, door: current.door) { [self] in
                    try takeCooldown(of: current.command, caller: caller, guild: guild, general: general)
                    return try await current.command.handler(invocation)
                }
            }
            return (command.name, reply)
        } catch let error where error.code == "cog_unloading" {
            return (command.name, "\(prefix)\(command.name) is not available right now: \(error.message)")
        } catch let error where error.code == "internal_error" {
            return (command.name, "\(prefix)\(command.name) failed; the error has been logged.")
        } catch {
            return (command.name, error.message)
        }
    }

    /// Counts a use of `command` by `caller` in `guild`; throws "Wait N s" inside the cooldown (the command's own,
    /// else the guild's `message_cooldown`).
    private func takeCooldown(of command: BotCommand, caller: Identity, guild: GuildScope?, general: GeneralConfig) throws {
        let cooldown = command.cooldown > .zero ? command.cooldown : .seconds(general.messageCooldown)
        let key = "\(guild?.id ?? 0):\(caller.userID):\(command.name)"
        let now = ContinuousClock.now
        let wait: Duration? = lastUse.withLock { table in
            if let last = table[key], now - last < cooldown { return cooldown - (now - last) }
            table[key] = now
            return nil
        }
        guard let wait else { return }
        let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
        throw CommandError("Wait \(seconds) s before using \(general.commandPrefix)\(command.name) again.")
    }

    /// Words separated by white space, "double quotes" grouping words.
    static func split(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        var inWord = false
        for character in text {
            if character == "\"" {
                quoted.toggle()
                inWord = true
            } else if character.isWhitespace && !quoted {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// Names whose similarity to `name` (1 − edit distance / longer length) reaches `threshold`, best first.
    static func closest(to name: String, in names: [String], threshold: Double) -> [String] {
        let scored: [(name: String, score: Double)] = names.map { ($0, similarity(name, $0)) }
        let close = scored.filter { $0.score >= threshold }
        let ranked = close.sorted { $0.score != $1.score ? $0.score > $1.score : $0.name < $1.name }
        return ranked.prefix(3).map(\.name)
    }

    /// 1 − (edit distance / longer length), where swapping two neighbouring letters counts as one edit
    /// (optimal string alignment), so the commonest typo, `!ecoh`, still finds `!echo`.
    static func similarity(_ a: String, _ b: String) -> Double {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return a.isEmpty && b.isEmpty ? 1 : 0 }
        var distance = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { distance[i][0] = i }
        for j in 0...b.count { distance[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var best = Swift.min(distance[i - 1][j] + 1, distance[i][j - 1] + 1)
                best = Swift.min(best, distance[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    best = Swift.min(best, distance[i - 2][j - 2] + 1)
                }
                distance[i][j] = best
            }
        }
        return 1 - Double(distance[a.count][b.count]) / Double(Swift.max(a.count, b.count))
    }

    /// Posts `content` as a user message from `caller` and, if it is a command, runs it. Every way of chatting (the
    /// gateway's `send`, `POST /api/bot/messages`, `guildhall chat`) goes through here.
    func chat(
        _ content: String, channel: String?, caller: Identity, guild: GuildScope?, correlationID: String
    ) async throws -> (posted: JSONValue, outcome: Outcome?) {
        var message: [String: JSONValue] = [
            "type": "user", "user_id": .string(String(caller.userID)), "username": .string(caller.username),
            "content": .string(content), "user_badge": .string(caller.role.rawValue),
        ]
        if let channel { message["metadata"] = ["channel": .string(channel)] }
        let posted = try await liveLog.ingest(.object(message)).message
        return (posted, await run(content, caller: caller, guild: guild, correlationID: correlationID))
    }

    /// The gateway's `send` action: `{"action": "send", "content", "channel"?}` chats as the caller; the caller is
    /// answered `sent`, and `command_reply` for a command.
    var sendAction: GatewayHub.Action {
        .init(owner: "host", access: .user) { [self] client, frame in
            guard let content = frame["content"]?.stringValue else {
                throw LiveLogStore.invalid("content", "content must be a string.")
            }
            let (posted, outcome) = try await chat(
                content, channel: frame["channel"]?.stringValue, caller: client.identity, guild: client.guild,
                correlationID: client.id)
            client.send(["action": "sent", "message": posted])
            guard let outcome else { return nil }
            return [
                "action": "command_reply", "command": outcome.command.map(JSONValue.string) ?? .null,
                "reply": .string(outcome.reply), "message": outcome.message ?? .null,
            ]
        }
    }

    /// The host's own commands: `help` and `cogs`.
    func hostCommands(plugins: @escaping @Sendable () -> [PluginManager.Entry]) -> [BotCommand] {
        [
            BotCommand(name: "help", usage: "!help", summary: "Lists the commands you can use") { [self] call in
                let prefix = settings.general(for: call.guild).commandPrefix
                let mine = visibleCommands(in: call.guild).filter { $0.command.access.admits(call.caller) }
                return "Commands:\n" + mine.map { "\(prefix)\($0.command.name) — \($0.command.summary) (\($0.command.usage))" }
                    .joined(separator: "\n")
            },
            BotCommand(name: "cogs", usage: "!cogs", summary: "Lists the cogs and whether they are loaded") { _ in
                plugins().map { "\($0.name): \($0.state.rawValue)" }.joined(separator: "\n")
            },
        ]
    }
}
