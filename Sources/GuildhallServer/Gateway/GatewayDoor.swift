import Foundation
import PluginAPI

/// What every transport does around a connection, whatever its framing: check the credential, count a key's
/// connection, admit the client to the hub, greet it, announce the person's presence, and undo it all at the end.
struct GatewayDoor: Sendable {
    let hub: GatewayHub
    let authenticator: Authenticator
    let tenants: TenantPolicy
    let guilds: GuildStore
    let presence: GatewayPresence
    let settings: GatewaySettings

    /// Why a connection is refused: the close code and reason the transport sends.
    struct Refusal: Error {
        let code: UInt16
        let reason: String
    }

    /// The caller behind `credential` and the guild they connect for (`explicitGuild`, or their only guild):
    /// 4000 without a credential, 4002 for an expired token, 4001 for anything else wrong.
    func authenticate(_ credential: Authenticator.Credential?, explicitGuild: String?) async -> Result<(Authenticator.Caller, GuildScope?), Refusal> {
        guard let credential else {
            return .failure(Refusal(code: GatewayCode.authenticationFailed, reason: "authentication required"))
        }
        do {
            let caller = try await authenticator.verify(credential)
            let guild = try await tenants.guild(of: caller, explicit: explicitGuild, required: false)
            return .success((caller, guild))
        } catch let error as APIError where error.code == "token_expired" {
            return .failure(Refusal(code: GatewayCode.tokenExpired, reason: "token expired"))
        } catch let error as APIError {
            return .failure(Refusal(code: GatewayCode.invalidToken, reason: error.code))
        } catch {
            return .failure(Refusal(code: GatewayCode.invalidToken, reason: "invalid credential"))
        }
    }

    /// Runs `body` with the admitted client until it returns; answers a refusal instead if the key is at its
    /// connection limit (4003) or the address at its own (1008).
    func session(
        caller: Authenticator.Caller, guild: GuildScope?, address: String, sink: any GatewayFrameSink,
        body: (GatewayClient) async -> Void
    ) async -> Refusal? {
        guard tenants.openConnection(of: caller) else {
            return Refusal(code: GatewayCode.rateLimited, reason: "connection limit reached")
        }
        defer { tenants.closeConnection(of: caller) }
        let identity = caller.identity
        let memberOf = identity.apiKey == nil ? (try? await guilds.guildIDs(of: identity.userID)) ?? [] : []
        let client = GatewayClient(
            identity: identity, guild: guild, address: address, guilds: Set(memberOf.map(String.init)), sink: sink,
            tokenDigest: caller.tokenDigest, traffic: hub.traffic)
        guard hub.admit(client) else {
            return Refusal(code: GatewayCode.policyViolation, reason: "too many connections from this address")
        }
        await presence.joined(client)
        var welcome: [String: JSONValue] = [
            "action": "connected", "connection_id": .string(client.id), "message": "Successfully connected to live log",
        ]
        if let guild {
            welcome["guild_id"] = .int(guild.id)
            welcome["guild_name"] = .string(guild.name)
        }
        client.send(.object(welcome))
        if let guild {
            // The combat log document's greeting, for its clients (they read `type`).
            client.send(["action": "welcome", "type": "welcome", "guild_id": .int(guild.id), "guild_name": .string(guild.name)])
        }
        await body(client)
        hub.remove(client)
        await presence.left(client)
        return nil
    }
}
