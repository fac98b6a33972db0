import AsyncHTTPClient
import Foundation
import GuildhallTesting
import PluginAPI
import Synchronization
import XCTest

@testable import GuildhallServer

/// Sign-in with Discord against a stand-in for Discord's OAuth2 and API on 127.0.0.1 (`FakeUpstream`), and
/// self-registration.
final class DiscordSignInTests: XCTestCase {
    static let adminRole = "900000000000000001", moderatorRole = "900000000000000002", guild = "800000000000000001"

    /// Discord as the host sees it: the token endpoint takes `good-code`, the person is `roles` on the server
    /// (nil: not a member).
    static func serveDiscord(_ discord: FakeUpstream, roles: @escaping @Sendable () -> [String]?) {
        discord.answer(.post, "/api/v10/oauth2/token") { request in
            let form = String(decoding: request.body, as: UTF8.self)
            guard form.contains("code=good-code"), form.contains("client_secret=shh"), form.contains("grant_type=authorization_code"),
                form.contains("redirect_uri=http%3A%2F%2Flocalhost%2Fapi%2Fdiscord%2Fcallback")
            else { return .json(["error": "invalid_grant"], status: 400) }
            return .json(["access_token": "discord-access", "token_type": "Bearer", "expires_in": 604800])
        }
        discord.answer(.get, "/api/v10/users/@me") { request in
            guard request.headers["authorization"] == "Bearer discord-access" else { return .json(["message": "401: Unauthorized"], status: 401) }
            return .json(["id": "123456789012345678", "username": "hazel", "global_name": "Hazel", "avatar": "abc"])
        }
        discord.answer(.get, "/api/v10/users/@me/guilds/\(guild)/member") { _ in
            guard let roles = roles() else { return .json(["message": "Unknown Guild"], status: 404) }
            return .json(["roles": .array(roles.map(JSONValue.string)), "nick": .null])
        }
    }

    static func host(_ discord: FakeUpstream) -> TestHost {
        TestHost { config in
            config.discord.clientID = "client"
            config.discord.clientSecret = "shh"
            config.discord.redirectURI = "http://localhost/api/discord/callback"
            config.discord.authorizeURL = "\(discord.baseURL)/oauth2/authorize"
            config.discord.apiBaseURL = "\(discord.baseURL)/api/v10"
            config.discord.guildID = guild
            config.discord.adminRoleID = adminRole
            config.discord.moderatorRoleID = moderatorRole
            config.discord.webRedirectURL = "https://admin.example.org/"
        }
    }

    static func state(from reply: LiveServer.Reply) throws -> String {
        let url = try XCTUnwrap(reply.json["auth_url"]?.stringValue.flatMap(URLComponents.init(string:)))
        return try XCTUnwrap(url.queryItems?.first { $0.name == "state" }?.value)
    }

    func testSignInWithDiscordMapsServerRolesAndRefusesBadStates() async throws {
        let roles = Mutex<[String]?>([DiscordSignInTests.adminRole])
        try await FakeUpstream.run { discord in
            Self.serveDiscord(discord) { roles.withLock { $0 } }
            let host = Self.host(discord)
            defer { host.removeFolder() }
            try await host.run(catalogue: []) { server in
                let started = try await server.request(.GET, "/api/discord/auth", headers: [("User-Agent", "Chillventory/1.0")])
                XCTAssertEqual(started.status, 200)
                let url = try XCTUnwrap(started.json["auth_url"]?.stringValue.flatMap(URLComponents.init(string:)))
                let items = Dictionary(uniqueKeysWithValues: (url.queryItems ?? []).map { ($0.name, $0.value ?? "") })
                XCTAssertEqual(items["client_id"], "client")
                XCTAssertEqual(items["redirect_uri"], "http://localhost/api/discord/callback")
                XCTAssertEqual(items["response_type"], "code")
                XCTAssertEqual(items["scope"], "identify guilds.members.read")
                let state = try XCTUnwrap(items["state"])

                // The app's JSON exchange: a token the rest of the API takes, the Discord account, the mapped role.
                let signedIn = try await server.request(.GET, "/api/discord/callback?code=good-code&state=\(state)&format=json")
                XCTAssertEqual(signedIn.status, 200, "\(signedIn.json)")
                XCTAssertEqual(signedIn.json["role"], "admin")
                XCTAssertEqual(signedIn.json["permissions"], ["all"])
                XCTAssertEqual(signedIn.json["discord_user"]?["id"], "123456789012345678")
                XCTAssertEqual(signedIn.json["user"], "hazel")
                let token = try XCTUnwrap(signedIn.json["token"]?.stringValue)
                let me = try await server.request(.GET, "/api/auth/me", token: token).json
                XCTAssertEqual(me["auth_type"], "discord")
                XCTAssertEqual(me["discord_user_id"], "123456789012345678")
                XCTAssertEqual(me["avatar_url"], "https://cdn.discordapp.com/avatars/123456789012345678/abc.png")
                XCTAssertEqual(me["role"], "admin")

                // A state works once; a forged or expired one never.
                try await assertEqual(
                    await server.request(.GET, "/api/discord/callback?code=good-code&state=\(state)&format=json").error, "invalid_state")
                let fresh = try Self.state(from: try await server.request(.GET, "/api/discord/auth"))
                let forged = fresh.replacingOccurrences(of: ".web.", with: ".android.")
                try await assertEqual(
                    await server.request(.GET, "/api/discord/callback?code=good-code&state=\(forged)&format=json").error, "invalid_state")
                try await assertEqual(await server.request(.GET, "/api/discord/callback?code=good-code&format=json").error, "invalid_state")
                let signIn = DiscordSignIn(settings: server.host.config.discord, secret: "test-secret-key-of-enough-length-0123456789", http: .shared)
                let expired = signIn.issueState(platform: "web", now: Date().addingTimeInterval(-3600))
                XCTAssertThrowsError(try signIn.redeem(state: expired))
                XCTAssertEqual(try signIn.redeem(state: signIn.issueState(platform: "ios")), "ios")

                // A bad code, then the browser flow: Discord's server roles decide again, and the app is redirected.
                let another = try Self.state(from: try await server.request(.GET, "/api/discord/auth?platform=android"))
                try await assertEqual(
                    await server.request(.GET, "/api/discord/callback?code=stolen&state=\(another)&format=json").error, "discord_code_refused")
                let adminSocket = WSTestClient(port: server.port, path: "/ws", token: token)
                _ = await adminSocket.next("connected")
                roles.withLock { $0 = [DiscordSignInTests.moderatorRole] }
                let mobile = try Self.state(from: try await server.request(.GET, "/api/discord/auth?platform=android"))
                let redirected = try await Self.withoutFollowing(server, "/api/discord/callback?code=good-code&state=\(mobile)")
                XCTAssertEqual(redirected.status, 302)
                await assertEqual(
                    await adminSocket.next("disconnected", timeout: .seconds(1))?["reason"], "role_changed",
                    "a socket let in as admin ends when Discord made the person a moderator")
                let location = try XCTUnwrap(redirected.location)
                XCTAssertTrue(location.hasPrefix("hazebot://oauth?token="), location)
                let mobileToken = String(location.dropFirst("hazebot://oauth?token=".count))
                try await assertEqual(await server.request(.GET, "/api/auth/me", token: mobileToken).json["role"], "moderator")
                let web = try Self.state(from: try await server.request(.GET, "/api/discord/auth"))
                let webLanding = try await Self.withoutFollowing(server, "/api/discord/callback?code=good-code&state=\(web)")
                XCTAssertTrue(webLanding.location?.hasPrefix("https://admin.example.org/?token=") ?? false)
                try await assertEqual(
                    try await server.host.database.read { try $0.scalar("SELECT COUNT(*) FROM users WHERE discord_id IS NOT NULL") }, 1,
                    "one linked user, updated at each sign-in")

                // Someone outside the community's server is refused.
                roles.withLock { $0 = nil }
                let outsider = try Self.state(from: try await server.request(.GET, "/api/discord/auth"))
                try await assertEqual(
                    await server.request(.GET, "/api/discord/callback?code=good-code&state=\(outsider)&format=json").error, "not_a_member")
                try await assertEqual(await server.request(.GET, "/api/discord/auth?platform=fax").json["field"], "platform")
            }
        }
    }

    /// A GET whose redirect is answered, not followed (the browser follows it to the app).
    static func withoutFollowing(_ server: LiveServer, _ path: String) async throws -> (status: Int, location: String?) {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)\(path)"), timeout: .seconds(10))
            try await client.shutdown()
            return (Int(response.status.code), response.headers.first(name: "Location"))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    func testWithoutDiscordSettingsTheRoutesSaySo() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            try await assertEqual(await server.request(.GET, "/api/discord/auth").error, "discord_not_configured")
            try await assertEqual(await server.request(.GET, "/api/discord/callback?code=x&state=y").status, 503)
            // Self-registration is off by default.
            try await assertEqual(
                await server.request(.POST, "/api/auth/register", json: ["username": "newcomer", "password": "password-new"]).error,
                "registration_disabled")
        }
    }

    func testSelfRegistrationWhenSwitchedOn() async throws {
        let host = TestHost { $0.auth.allowRegistration = true }
        defer { host.removeFolder() }
        try await host.run(catalogue: []) { server in
            let created = try await server.request(.POST, "/api/auth/register", json: ["username": "newcomer", "password": "password-new"])
            XCTAssertEqual(created.status, 201)
            XCTAssertEqual(created.json["role"], "user")
            let token = try XCTUnwrap(created.json["token"]?.stringValue)
            try await assertEqual(await server.request(.GET, "/api/ping", token: token).status, 200)
            try await assertEqual(
                await server.request(.POST, "/api/auth/register", json: ["username": "newcomer", "password": "password-new"]).error, "username_taken")
            try await assertEqual(
                await server.request(.POST, "/api/auth/register", json: ["username": "other", "password": "short"]).error, "weak_password")
            try await assertEqual(
                await server.request(.POST, "/api/auth/register", json: ["username": "x", "password": "password-x", "role": "admin"]).json["role"],
                "user", "nobody registers themselves as admin")
        }
    }
}
