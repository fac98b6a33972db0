import PluginAPI
import Synchronization

/// The bot commands of the loaded cogs, by name. The gateway's dispatcher reads it; a cog's commands come and go
/// with the cog as one unit.
public final class CommandRegistry: Sendable {
    /// A command, the cog that registered it and the door of that cog's instance (nil for the host's commands).
    public struct Entry: Sendable {
        public let cog: String
        public let command: BotCommand
        let door: CogDoor?
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The command called `name`, if a loaded cog registered it.
    public func command(named name: String) -> Entry? {
        entries.withLock { $0[name.lowercased()] }
    }

    /// Every registered command, by name.
    public var all: [Entry] {
        entries.withLock { $0.values.sorted { $0.command.name < $1.command.name } }
    }

    /// Names that `commands` would take from another cog.
    func conflicts(_ commands: [BotCommand], owner: String) -> [String] {
        entries.withLock { table in
            commands.compactMap { table[$0.name.lowercased()].flatMap { $0.cog == owner ? nil : $0.command.name } }
        }
    }

    /// Replaces every command of `owner` with `commands`, run through `door`, in one step.
    func replace(owner: String, door: CogDoor? = nil, with commands: [BotCommand]) {
        entries.withLock { table in
            table = table.filter { $0.value.cog != owner }
            for command in commands { table[command.name.lowercased()] = Entry(cog: owner, command: command, door: door) }
        }
    }
}
