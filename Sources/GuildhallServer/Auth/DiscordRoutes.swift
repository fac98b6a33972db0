import Foundation
import Hummingbird
import PluginAPI

/// Sign-in with Discord: `GET /api/discord/auth` hands out the authorization URL, `GET /api/discord/callback`
/// finishes it — a redirect to the app with `?token=`, or JSON when asked (`?format=json` or `Accept: application/json`).
struct DiscordRoutes {
    let discord: DiscordSignIn
    let users: UserStore
    let authenticator: Authenticator
    let hub: GatewayHub
    let tokens: TokenService
    let analytics: AnalyticsRecorder

    struct AuthQuery: Decodable, Sendable {
        var platform: String?
    }

    /// What Discord sends back, and `format=json` for an answer instead of a redirect.
    struct CallbackQuery: Decodable, Sendable {
        var code: String?
        var state: String?
        var format: String?
    }

    func register(on routes: CoreRouter) {
        routes.add(
            .get, "/api/discord/auth", access: .public,
            summary: "The Discord authorization URL with a signed, single-use state: ?platform=web|android|ios (default web)",
            query: AuthQuery.self
        ) { _, _, query in
            try requireConfigured()
            let platform = try Self.platform(query.platform ?? "web")
            return ["auth_url": .string(discord.authorizationURL(platform: platform))] as JSONValue
        }
        routes.add(
            .get, "/api/discord/callback", access: .public,
            summary: "Finish a Discord sign-in ?code&state: redirect to the app with ?token=, or JSON with ?format=json",
            query: CallbackQuery.self
        ) { request, context, query in
            try requireConfigured()
            guard let code = query.code else {
                throw APIError(.badRequest, "invalid_field", "code is required.", details: ["field": "code", "in": "query"])
            }
            guard let state = query.state else {
                throw APIError(.badRequest, "invalid_state", "state is required; start the sign-in at /api/discord/auth.")
            }
            let platform = try discord.redeem(state: state)
            let account = try await discord.account(for: code)
            let user = try await users.signIn(
                discordID: account.id, name: account.username, avatar: account.avatarURL, role: account.role)
            guard user.isActive else { throw APIError.forbidden("This account has been deactivated.") }
            // A role Discord changed counts at once: for the user's other tokens, and their open connections end.
            authenticator.forget(userID: user.id)
            hub.closeConnections(userID: user.id, notHolding: user.role)
            let (token, expires) = try await tokens.issue(for: user.identity, epoch: user.sessionEpoch)
            analytics.record(
                ActivityRecord(
                    at: Date(), userID: user.id, username: user.username, action: "login", endpoint: "/api/discord/callback",
                    client: ClientInfo(request, context), extraData: ["auth_type": "discord", "platform": .string(platform)]))
            let wantsJSON = query.format == "json" || (request.headers[.accept]?.contains("application/json") ?? false)
            if wantsJSON {
                guard case .object(var answer) = try JSONValueEncoder().encode(
                    AuthRoutes.Session(token: token, expires: expires, identity: user.identity))
                else { throw APIError(.internalServerError, "internal_error", "The session did not encode.") }
                answer["discord_user"] = account.json
                answer["auth_type"] = "discord"
                answer["avatar_url"] = account.avatarURL.map(JSONValue.string) ?? .null
                answer["platform"] = .string(platform)
                return try JSONValue.object(answer).response(from: request, context: context)
            }
            let target = platform == "web" ? discord.settings.webRedirectURL : discord.settings.mobileRedirectURL
            let separator = target.contains("?") ? "&" : "?"
            return Response(status: .found, headers: [.location: "\(target)\(separator)token=\(token)"])
        }
    }

    private func requireConfigured() throws {
        guard discord.settings.isConfigured else {
            throw APIError(
                .serviceUnavailable, "discord_not_configured", "Discord sign-in is not set up here (discord.client_id, client_secret, redirect_uri).")
        }
    }

    /// `android`, `ios` or `web`; the admin app's `mobile` counts as `android`.
    private static func platform(_ name: String) throws -> String {
        let lowered = name.lowercased() == "mobile" ? "android" : name.lowercased()
        guard DiscordSignIn.platforms.contains(lowered) else {
            throw APIError(.badRequest, "invalid_field", "platform must be web, android or ios.", details: ["field": "platform", "in": "query"])
        }
        return lowered
    }
}
