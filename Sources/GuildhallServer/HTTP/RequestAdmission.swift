import HTTPTypes
import Hummingbird
import PluginAPI

/// How an HTTP request is let in: the ``Authenticator`` says who calls, the ``TenantPolicy`` in which guild and
/// within which key budget, and ``CogEntry/admit(_:access:caller:guild:)`` — the rule every surface applies —
/// whether the route's access and the guild's switch let them in. A class: every route's handler holds it.
final class RequestAdmission: Sendable {
    let authenticator: Authenticator
    let tenants: TenantPolicy
    let entry: CogEntry

    init(authenticator: Authenticator, tenants: TenantPolicy, entry: CogEntry) {
        self.authenticator = authenticator
        self.tenants = tenants
        self.entry = entry
    }

    /// What a request is let in with.
    struct Admission: Sendable {
        var identity: Identity?
        var guild: GuildScope?
        /// Rate headers for the response (API keys only).
        var headers: [HTTPField] = []
        /// The digest of the person's token, if one was presented.
        var tokenDigest: String?
    }

    /// Runs `handler` for a caller `access` admits, with the identity and guild set in its context and the key's
    /// rate headers added to its response. `cog` names the cog whose route this is (nil for the host's own).
    func serve(
        _ request: Request, context: GuildhallRequestContext, access: Access, cog: String?,
        handler: (Request, GuildhallRequestContext) async throws -> Response
    ) async throws -> Response {
        context.trail.route = context.endpointPath
        let admission = try await admit(request, access: access, cog: cog)
        context.trail.identity = admission.identity
        context.trail.guildID = admission.guild?.id
        context.trail.tokenDigest = admission.tokenDigest
        var context = context
        context.identity = admission.identity
        context.guild = admission.guild
        var response = try await handler(request, context)
        response.headers.append(contentsOf: admission.headers)
        return response
    }

    /// The caller, checked against `access`: 401 without or with a bad credential, 403 without the role or the key
    /// permission, 404 `cog_disabled_for_guild`, 429 past a key's budget. Public routes still resolve a valid
    /// credential if one is sent.
    func admit(_ request: Request, access: Access, cog: String?) async throws -> Admission {
        let isPublic = access == .public
        guard let credential = Authenticator.credential(request) else {
            if isPublic { return Admission() }
            throw APIError.signInFirst
        }
        let caller: Authenticator.Caller
        do {
            caller = try await authenticator.verify(credential)
        } catch {
            if isPublic { return Admission() }
            throw error
        }
        var admission = Admission(identity: caller.identity, tokenDigest: caller.tokenDigest)
        if let refusal = access.refusal(for: caller.identity) { throw refusal }
        let isGuildRoute = if case .guild = access { true } else { false }
        if isGuildRoute || cog != nil || caller.key != nil {
            admission.guild = try await tenants.guild(
                of: caller, explicit: request.headers[.guildID], required: isGuildRoute && caller.identity.role != .admin)
        }
        try entry.admit(cog ?? CogEntry.host, access: access, caller: caller.identity, guild: admission.guild)
        if let key = caller.key { admission.headers = try tenants.admitRequest(of: key) }
        return admission
    }
}
