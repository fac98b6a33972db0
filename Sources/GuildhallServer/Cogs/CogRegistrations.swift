import Hummingbird
import PluginAPI
import Synchronization

/// Everything one cog instance registered during setup. Nothing here is live: the plugin manager activates it
/// as a unit once setup has returned, and drops it unseen if setup threw.
final class CogRegistrations: Sendable {
    struct Route: Sendable {
        let info: RouteInfo
        /// The cog's declaration, for the API description.
        let declaration: RouteDeclaration
        let handler: @Sendable (Request, GuildhallRequestContext) async throws -> Response
    }

    struct Listener: Sendable {
        let pattern: EventPattern
        let priority: Int
        let handler: @Sendable (Event) async throws -> Void
    }

    struct ScheduledTask: Sendable {
        let name: String
        let interval: Duration
        let body: @Sendable () async throws -> Void
    }

    struct Contents: Sendable {
        var routes: [Route] = []
        var listeners: [Listener] = []
        var tasks: [ScheduledTask] = []
        var commands: [BotCommand] = []
        var configHandlers = ConfigStore.Handlers()
        var actions: [String: GatewayHub.Action] = [:]
        var topics: [String: GatewayHub.Topic] = [:]
        /// What the cog reports in `GET /api/admin/stats`.
        var figures: [@Sendable () async throws -> [String: JSONValue]] = []
        /// How the cog's rows of one guild are exported and imported.
        var guildData: GuildDataHandlers?
        /// Registrations that broke a rule (a route outside the cog's prefixes, a duplicate); any of them fails setup.
        var problems: [String] = []
    }

    private let state = Mutex<(contents: Contents, sealed: Bool)>((Contents(), false))

    /// Adds to the registrations; answers false once they are sealed (setup has returned).
    @discardableResult
    func record(_ change: (inout Contents) -> Void) -> Bool {
        state.withLock { state in
            guard !state.sealed else { return false }
            change(&state.contents)
            return true
        }
    }

    /// Ends registration and answers what was registered.
    func seal() -> Contents {
        state.withLock { state in
            state.sealed = true
            return state.contents
        }
    }
}

/// A cog's export and import of one guild's rows (`CogContext.guildData`).
struct GuildDataHandlers: Sendable {
    let export: @Sendable (GuildScope) async throws -> JSONValue
    let `import`: @Sendable (GuildScope, JSONValue) async throws -> Void
}
