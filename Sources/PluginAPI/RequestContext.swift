import Foundation
import Hummingbird
import NIOCore

/// The request context of every Guildhall route, core or cog: Hummingbird's core storage plus who is calling.
public struct GuildhallRequestContext: RequestContext {
    /// Hummingbird's per-request storage (logger, route parameters).
    public var coreContext: CoreRequestContextStorage
    /// The authenticated caller; set by the host before a handler whose route requires a role runs, and nil on
    /// public routes called without credentials.
    public var identity: Identity?
    /// The guild the caller acts in, resolved by the host: always set on ``Access/guild(_:)`` routes; on other cog
    /// routes set when the caller's guild is unambiguous (see ``GuildScope``).
    public var guild: GuildScope?
    /// The id of this request, echoed in the `X-Request-Id` response header and in every log line.
    public var requestID: String
    /// The largest body a handler may collect; the host sets it from `server.max_body_bytes`.
    public var maxUploadSize: Int
    /// The connection the request came on.
    private let channel: any Channel

    /// The peer's IP address (for per-address limits), if the transport knows it.
    public var remoteAddress: String? { channel.remoteAddress?.ipAddress }

    /// Made by the server for each request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.guild = nil
        self.requestID = ""
        self.maxUploadSize = 1 << 20
        self.channel = source.channel
    }

    /// Encodes responses as JSON with dates as ISO 8601 with milliseconds, like everything the host answers.
    public var responseEncoder: GuildhallResponseEncoder { GuildhallResponseEncoder() }

    /// The caller, or a 401 if there is none (for handlers on routes that also admit anonymous callers).
    public func requireIdentity() throws -> Identity {
        guard let identity else { throw APIError.unauthorized("missing_token", "Sign in first: send Authorization: Bearer <token>.") }
        return identity
    }

    /// The caller's guild, or a 400 `guild_required` (on ``Access/guild(_:)`` routes the host has resolved it already).
    public func requireGuild() throws -> GuildScope {
        guard let guild else {
            throw APIError.badRequest("guild_required", "Name the guild you act in with the X-Guild-Id header.")
        }
        return guild
    }
}

extension Request {
    /// Decodes the JSON body as `type`, answering 400 `invalid_json` for text that is not JSON, 400
    /// `invalid_field` naming the field for a wrong or missing value, and 413 `payload_too_large` past the limit.
    public func decodeJSON<T: Decodable>(_ type: T.Type, context: GuildhallRequestContext) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: context.maxUploadSize)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "payload_too_large", "The body is larger than \(context.maxUploadSize) bytes.")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(Data(buffer: buffer))
        } catch {
            throw APIError.badRequest("invalid_json", "The body is not valid JSON.")
        }
        do {
            return try JSONValueDecoder().decode(T.self, from: value)
        } catch let error as DecodingError {
            let problem = ConfigValidationError(error)
            throw APIError(
                .badRequest, "invalid_field",
                problem.path.isEmpty ? "The body must be \(problem.expected)." : "Field '\(problem.path)': expected \(problem.expected).",
                details: ["field": .string(problem.path)])
        }
    }
}
