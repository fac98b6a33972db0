import Foundation
import Hummingbird
import NIOCore
import PluginAPI

/// The request context of every route the server dispatches (the host's own, and cogs' before adaptation): Hummingbird's core storage plus who is calling.
struct GuildhallRequestContext: RequestContext {
    /// Hummingbird's per-request storage (logger, route parameters).
    var coreContext: CoreRequestContextStorage
    /// The authenticated caller; set by the host before a handler whose route requires a role runs, and nil on
    /// public routes called without credentials.
    var identity: Identity?
    /// The guild the caller acts in, resolved by the host: always set on ``Access/guild(_:)`` routes; on other cog
    /// routes set when the caller's guild is unambiguous (see ``GuildScope``).
    var guild: GuildScope?
    /// The id of this request, echoed in the `X-Request-Id` response header and in every log line.
    var requestID: String
    /// The largest body a handler may collect; the host sets it from `server.max_body_bytes`.
    var maxUploadSize: Int
    /// Who was let in and by which route, written by `RequestAdmission` for the front door to read once the answer
    /// is made (the context is a value, so the front door cannot see the copy the handler got).
    let trail = RequestTrail()
    /// The connection the request came on.
    private let channel: any Channel

    /// The peer's IP address (for per-address limits), if the transport knows it.
    var remoteAddress: String? { channel.remoteAddress?.ipAddress }

    /// Made by the server for each request.
    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.guild = nil
        self.requestID = ""
        self.maxUploadSize = 1 << 20
        self.channel = source.channel
    }

    /// Encodes responses as JSON with dates as ISO 8601 with milliseconds, like everything the host answers.
    var responseEncoder: GuildhallResponseEncoder { GuildhallResponseEncoder() }

    /// The caller, or a 401 if there is none (for handlers on routes that also admit anonymous callers).
    func requireIdentity() throws -> Identity {
        guard let identity else { throw APIError.signInFirst }
        return identity
    }

    /// The caller's guild, or a 400 `guild_required` (on ``Access/guild(_:)`` routes the host has resolved it already).
    func requireGuild() throws -> GuildScope {
        guard let guild else { throw APIError.guildRequired }
        return guild
    }
}

/// What admission learned about one request: the route template that matched and the caller it admitted.
/// Written by the one task serving the request and read by the same task after the handler returns, so it needs
/// no lock.
final class RequestTrail: @unchecked Sendable {
    var route: String?
    var identity: Identity?
    var guildID: Int64?
    var tokenDigest: String?
}

extension Request {
    /// Decodes the JSON body as `type`, strictly: 400 `invalid_json` for text that is not JSON, 400
    /// `invalid_field` naming the field for a wrong or missing value, and 413 `payload_too_large` past the limit.
    func decodeJSON<T: Decodable>(_ type: T.Type, context: GuildhallRequestContext) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: context.maxUploadSize)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "payload_too_large", "The body is larger than \(context.maxUploadSize) bytes.")
        }
        return try RequestDecoding.body(T.self, from: buffer)
    }
}

extension JSONValue: ResponseGenerator {
    /// A JSON value answers as a 200 `application/json` response.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: jsonBuffer))
    }
}

extension JSONResponse: ResponseGenerator {
    /// The body as JSON (keys as the host declares them) with the status.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.status = status
        return response
    }
}

/// Encodes the results of the host's routes as JSON: dates as ISO 8601 with milliseconds, optional keys kept as
/// null, and a hand-written serialiser that is several times cheaper than Foundation's.
struct GuildhallResponseEncoder: ResponseEncoder, Sendable {
    /// A 200 response with `value` as its JSON body.
    func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: try JSONValueEncoder().encode(value).jsonBuffer))
    }
}
