import Logging
import PluginAPI

/// The one way work enters a cog, whatever surface it comes from — an HTTP request, a gateway action, a bot command
/// (and with it every later surface): the caller is admitted by the access the cog declared, the guild's switch and
/// the guild a guild route needs; the work runs through the door of the instance that registered it; and if a reload
/// swapped that instance out meanwhile, it runs on the instance registered now. Whatever goes wrong comes out as the
/// host's one error type, ``APIError``, for each surface to put in its own wire format.
///
/// Listeners and scheduled tasks run inside their instance's scope and enter its door directly: they have no caller
/// to admit, and an event or a task run belongs to the instance that registered for it.
final class CogEntry: Sendable {
    let tenants: TenantPolicy
    let logger: Logger

    init(tenants: TenantPolicy, logger: Logger) {
        self.tenants = tenants
        self.logger = logger
    }

    /// The work found for a call: whose it is, the access it was declared with and the door of its instance.
    struct Target<Result: Sendable>: Sendable {
        /// The cog, or `host` for the host's own work (no switch, no door).
        let cog: String
        /// The declared access; nil where the surface admitted the caller itself once it found the work (a request is
        /// routed inside the cog's instance, so HTTP admits there, through ``admit(_:access:caller:guild:)``).
        let access: Access?
        let door: CogDoor?
        let work: @Sendable () async throws -> Result
    }

    /// Whether `caller`, acting in `guild`, may enter `cog` under `access`: 401/403 from the access, 400
    /// `guild_required` for a guild route without a guild (admins act across guilds), 404 `cog_disabled_for_guild`.
    func admit(_ cog: String, access: Access, caller: Identity?, guild: GuildScope?) throws {
        if let refusal = access.refusal(for: caller) { throw refusal }
        guard cog != Self.host else { return }
        if case .guild = access, guild == nil, caller?.role != .admin {
            throw APIError.badRequest("guild_required", "Name the guild to act in (X-Guild-Id, or ?guild_id= on the gateway).")
        }
        if let guild { try tenants.refuseIfOff(cog, in: guild.id) }
    }

    /// Finds the work with `find`, admits `caller` and runs it through its instance's door; once more on the instance
    /// registered now if that door had closed (a reload). `find` throws the surface's "no such thing" error.
    func run<Result: Sendable>(
        caller: Identity?, guild: GuildScope?, find: () throws -> Target<Result>
    ) async throws(APIError) -> Result {
        var tried: CogDoor?
        while true {
            let target: Target<Result>
            do {
                target = try find()
                if let access = target.access { try admit(target.cog, access: access, caller: caller, guild: guild) }
            } catch {
                throw failure(error, in: "host")
            }
            do {
                guard let door = target.door else { return try await target.work() }
                guard door !== tried else { throw CogUnavailable(cog: target.cog).apiError }
                tried = door
                return try await door.run(target.work)
            } catch is CogUnavailable {
                continue
            } catch {
                throw failure(error, in: target.cog)
            }
        }
    }

    /// `error` as the host's error: API errors as they are, an upstream's as its mapping, a command's refusal as a
    /// 400 carrying its message, anything else logged and answered as 500 `internal_error`.
    func failure(_ error: any Error, in cog: String) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as OutboundError: return error.apiError
        case let error as CommandError: return APIError.badRequest("command_refused", error.message)
        case let error as CogUnavailable: return error.apiError
        case is CancellationError:
            return APIError(.serviceUnavailable, "cancelled", "The work was cancelled: the cog or the server is stopping.")
        default:
            logger.error("cog work failed", metadata: ["cog": "\(cog)", "error": "\(String(reflecting: error))"])
            return APIError(.internalServerError, "internal_error", "Something went wrong on our side; it has been logged.")
        }
    }

    static let host = "host"
}
