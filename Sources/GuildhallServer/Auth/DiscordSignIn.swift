import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import PluginAPI
import Synchronization

/// `discord`: sign-in with Discord (OAuth2 authorization code). The provider URLs default to Discord's; tests point
/// them at a stand-in. Without `client_id` the Discord routes answer 503 `discord_not_configured`.
public struct DiscordSettings: CogConfiguration {
    public var clientID = ""
    public var clientSecret = ""
    /// This deployment's `/api/discord/callback` as registered with the Discord application.
    public var redirectURI = ""
    public var authorizeURL = "https://discord.com/oauth2/authorize"
    /// Discord's API (the token endpoint is `<api_base_url>/oauth2/token`).
    public var apiBaseURL = "https://discord.com/api/v10"
    /// The community's Discord server whose roles decide: members with `admin_role_id` sign in as admins, with
    /// `moderator_role_id` as moderators, others as users. Empty: everyone is a user, and membership is not checked.
    public var guildID = ""
    public var adminRoleID = ""
    public var moderatorRoleID = ""
    /// Where a web sign-in lands, with `?token=` added (the admin app's web build).
    public var webRedirectURL = "/"
    /// Where a mobile sign-in lands, with `?token=` added (the admin app's Android scheme).
    public var mobileRedirectURL = "hazebot://oauth"
    /// How long a sign-in may take from `/api/discord/auth` to the callback.
    public var stateTTLSeconds = 600
    public var timeoutSeconds = 10.0
    public static var secretKeys: Set<String> { ["client_secret"] }
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "state_ttl_seconds": 1...86_400,
            "timeout_seconds": 0.1...300,
        ]
    }
    enum CodingKeys: String, CodingKey {
        case clientID = "client_id", clientSecret = "client_secret", redirectURI = "redirect_uri"
        case authorizeURL = "authorize_url", apiBaseURL = "api_base_url", guildID = "guild_id"
        case adminRoleID = "admin_role_id", moderatorRoleID = "moderator_role_id"
        case webRedirectURL = "web_redirect_url", mobileRedirectURL = "mobile_redirect_url"
        case stateTTLSeconds = "state_ttl_seconds", timeoutSeconds = "timeout_seconds"
    }

    var isConfigured: Bool { !clientID.isEmpty && !clientSecret.isEmpty && !redirectURI.isEmpty }
}

/// Discord sign-in: a signed, single-use `state` for each attempt, the code exchanged at the token endpoint, the
/// person and their roles on the community's server read with the access token, and a local user linked to the
/// Discord account.
final class DiscordSignIn: Sendable {
    /// The Discord account behind a code, and the role its server roles give.
    struct Account: Sendable {
        var id: String
        var username: String
        var globalName: String?
        var avatarURL: String?
        var role: Role
        var json: JSONValue
    }

    let settings: DiscordSettings
    private let key: SymmetricKey
    private let http: HTTPClient
    /// States handed out and not yet used, with their expiry: a state works once.
    private let pending = Mutex<[String: Date]>([:])
    /// The most unused states kept: `/api/discord/auth` is public, so a flood must not grow memory without bound
    /// (past this, the state closest to expiry goes).
    static let maxPending = 10_000

    init(settings: DiscordSettings, secret: String, http: HTTPClient) {
        self.settings = settings
        self.key = SymmetricKey(data: SHA256.hash(data: Data("discord-state:\(secret)".utf8)))
        self.http = http
    }

    static let platforms: Set<String> = ["web", "android", "ios"]

    /// The URL to send the person to, with a fresh state for `platform`.
    func authorizationURL(platform: String) -> String {
        let state = issueState(platform: platform)
        var components = URLComponents(string: settings.authorizeURL) ?? URLComponents()
        components.queryItems = (components.queryItems ?? []) + [
            URLQueryItem(name: "client_id", value: settings.clientID), URLQueryItem(name: "redirect_uri", value: settings.redirectURI),
            URLQueryItem(name: "response_type", value: "code"),
            URLQueryItem(name: "scope", value: settings.guildID.isEmpty ? "identify" : "identify guilds.members.read"),
            URLQueryItem(name: "state", value: state), URLQueryItem(name: "prompt", value: "none"),
        ]
        return components.string ?? settings.authorizeURL
    }

    /// `<nonce>.<platform>.<expiry>.<signature>`: signed with a key derived from the token secret, kept until used.
    func issueState(platform: String, now: Date = Date()) -> String {
        let nonce = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let expires = Int64(now.timeIntervalSince1970) + Int64(settings.stateTTLSeconds)
        let body = "\(nonce).\(platform).\(expires)"
        pending.withLock { table in
            if table.count >= Self.maxPending {
                table = table.filter { $0.value > now }
                if table.count >= Self.maxPending, let soonest = table.min(by: { $0.value < $1.value })?.key { table[soonest] = nil }
            }
            table[nonce] = Date(timeIntervalSince1970: TimeInterval(expires))
        }
        return "\(body).\(signature(body))"
    }

    /// The platform a state was issued for, consuming it; 400 `invalid_state` for a forged, expired or used one.
    func redeem(state: String, now: Date = Date()) throws -> String {
        let parts = state.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let refused = APIError(.badRequest, "invalid_state", "The sign-in state is not valid, has expired or was used; start again.")
        guard parts.count == 4, let expires = Int64(parts[2]) else { throw refused }
        let body = parts[0...2].joined(separator: ".")
        guard Self.constantTimeEqual(signature(body), parts[3]), Double(expires) > now.timeIntervalSince1970 else { throw refused }
        let fresh = pending.withLock { $0.removeValue(forKey: parts[0]) != nil }
        guard fresh else { throw refused }
        return parts[1]
    }

    private func signature(_ body: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: key)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Exchanges `code` and reads who signed in; 502 naming Discord when it refuses or cannot be reached, 403
    /// `not_a_member` when the community's server does not know them.
    func account(for code: String) async throws -> Account {
        let base = settings.apiBaseURL.hasSuffix("/") ? String(settings.apiBaseURL.dropLast()) : settings.apiBaseURL
        let form = [
            ("client_id", settings.clientID), ("client_secret", settings.clientSecret), ("grant_type", "authorization_code"),
            ("code", code), ("redirect_uri", settings.redirectURI),
        ].map { "\($0.0)=\(Self.formEncoded($0.1))" }.joined(separator: "&")
        let (tokenStatus, tokenAnswer) = try await call("\(base)/oauth2/token", method: .POST, body: form, bearer: nil)
        guard tokenStatus == 200, let accessToken = tokenAnswer["access_token"]?.stringValue else {
            throw APIError(
                .badRequest, "discord_code_refused", "Discord refused the sign-in code (\(tokenAnswer["error"]?.stringValue ?? "status \(tokenStatus)")).")
        }
        let (userStatus, user) = try await call("\(base)/users/@me", method: .GET, body: nil, bearer: accessToken)
        guard userStatus == 200, let id = user["id"]?.stringValue, let username = user["username"]?.stringValue else {
            throw APIError(.badGateway, "discord_unavailable", "Discord did not say who signed in (status \(userStatus)).")
        }
        var role = Role.user
        if !settings.guildID.isEmpty {
            let (memberStatus, member) = try await call(
                "\(base)/users/@me/guilds/\(settings.guildID)/member", method: .GET, body: nil, bearer: accessToken)
            guard memberStatus == 200 else {
                if memberStatus == 404 { throw APIError(.forbidden, "not_a_member", "Your Discord account is not a member of this community's server.") }
                throw APIError(.badGateway, "discord_unavailable", "Discord did not give your server roles (status \(memberStatus)).")
            }
            let roles = Set(member["roles"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            if !settings.adminRoleID.isEmpty && roles.contains(settings.adminRoleID) {
                role = .admin
            } else if !settings.moderatorRoleID.isEmpty && roles.contains(settings.moderatorRoleID) {
                role = .moderator
            }
        }
        let avatar = user["avatar"]?.stringValue.map { "https://cdn.discordapp.com/avatars/\(id)/\($0).png" }
        return Account(
            id: id, username: username, globalName: user["global_name"]?.stringValue, avatarURL: avatar, role: role,
            json: [
                "id": .string(id), "username": .string(username), "global_name": user["global_name"] ?? .null,
                "avatar_url": avatar.map(JSONValue.string) ?? .null,
            ])
    }

    private func call(_ url: String, method: HTTPMethod, body: String?, bearer: String?) async throws -> (Int, JSONValue) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        }
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        do {
            let response = try await http.execute(request, timeout: .milliseconds(Int64(settings.timeoutSeconds * 1000)))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), (try? JSONValue(parsing: Data(buffer: bytes))) ?? .null)
        } catch {
            throw APIError(.badGateway, "discord_unavailable", "Discord could not be reached; try again.")
        }
    }

    private static func formEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
