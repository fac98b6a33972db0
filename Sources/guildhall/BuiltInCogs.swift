import CombatLogCog
import MemesCog
import PluginAPI
import RocketLeagueCog
import TicketsCog

/// The cogs this build of Guildhall ships: the only place that names them.
enum BuiltInCogs {
    static let all: [any Cog.Type] = [TicketsCog.self, MemesCog.self, RocketLeagueCog.self, CombatLogCog.self]
}
