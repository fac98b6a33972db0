import GuildhallServer

// The `guildhall` executable: the command line with the built-in cogs and the combat log parser's command.
await GuildhallCommand.main(cogs: BuiltInCogs.all, commands: [CombatLogCommand.self])
