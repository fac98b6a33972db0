import HTTPTypes
import NIOCore
import Synchronization

/// One HTTP request to a cog's route, as the host hands it over: already authenticated, its guild resolved.
///
/// A route declared with typed parameters, query or body receives them decoded in its ``RouteCall``; the raw parts
/// stay readable here (the body only if the route did not declare a body type, which consumes it).
public struct CogRequest: Sendable {
    /// The method (`GET`, `POST`, ...).
    public var method: HTTPRequest.Method
    /// The path without the query string (`/api/tickets/12`).
    public var path: String
    /// The request's header fields.
    public var headers: HTTPFields
    /// The query string's parameters.
    public var query: QueryItems
    /// The path's parameters by name, as text (`["id": "12"]` for `/api/tickets/{id}`).
    public var parameters: [String: String]
    /// The body as it streams in.
    public var body: RequestBody
    /// The authenticated caller; nil on public routes called without credentials.
    public var identity: Identity?
    /// The guild the caller acts in: always set on ``Access/guild(_:minimumRole:)`` routes; on others set when the
    /// caller's guild is unambiguous (see ``GuildScope``).
    public var guild: GuildScope?
    /// The id of this request, echoed in the `X-Request-Id` response header and in every log line.
    public var requestID: String
    /// The peer's IP address, if the transport knows it.
    public var remoteAddress: String?
    /// The largest body ``RequestBody/collect(upTo:)`` is asked to gather by ``decodeBody(_:)``
    /// (the host's `server.max_body_bytes`).
    public var maxBodySize: Int

    /// A request; the host builds these (and ``GuildhallTesting`` does, for tests).
    public init(
        method: HTTPRequest.Method, path: String, headers: HTTPFields = [:], query: QueryItems = QueryItems(),
        parameters: [String: String] = [:], body: RequestBody = RequestBody(), identity: Identity? = nil,
        guild: GuildScope? = nil, requestID: String = "", remoteAddress: String? = nil, maxBodySize: Int = 1 << 20
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.query = query
        self.parameters = parameters
        self.body = body
        self.identity = identity
        self.guild = guild
        self.requestID = requestID
        self.remoteAddress = remoteAddress
        self.maxBodySize = maxBodySize
    }

    /// The caller, or a 401 (for handlers on routes that also admit anonymous callers).
    public func requireIdentity() throws -> Identity {
        guard let identity else { throw APIError.signInFirst }
        return identity
    }

    /// The caller's guild, or a 400 `guild_required` (on ``Access/guild(_:minimumRole:)`` routes the host has
    /// resolved it already).
    public func requireGuild() throws -> GuildScope {
        guard let guild else { throw APIError.guildRequired }
        return guild
    }

    /// Decodes the JSON body as `type`, strictly: 400 `invalid_json` for text that is not JSON, 400 `invalid_field`
    /// naming the field for a wrong or missing value (`{"enabled": 1}` is not a boolean), 413 `payload_too_large`
    /// past ``maxBodySize``. Keys are matched in snake_case (`maxOpenPerUser` reads `max_open_per_user`).
    public func decodeBody<T: Decodable>(_ type: T.Type) async throws -> T {
        let buffer = try await body.collect(upTo: maxBodySize)
        return try RequestDecoding.body(T.self, from: buffer)
    }
}

/// The parameters of a query string, in order; a name may repeat (`?tag=a&tag=b`).
public struct QueryItems: Sendable, Hashable, Sequence {
    /// The parameters as name and value, percent-decoded.
    public var items: [(name: String, value: String)] { pairs.map { ($0.name, $0.value) } }
    private var pairs: [Pair]

    private struct Pair: Sendable, Hashable {
        var name: String
        var value: String
    }

    /// Parameters from name and value pairs.
    public init(_ items: [(String, String)] = []) {
        pairs = items.map { Pair(name: $0.0, value: $0.1) }
    }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// Iterates the parameters in order.
    public func makeIterator() -> some IteratorProtocol<(name: String, value: String)> {
        pairs.lazy.map { (name: $0.name, value: $0.value) }.makeIterator()
    }
}

/// A request body as it streams in, a buffer at a time. Read it once: iterate it to stream a large upload to a
/// file, or ``collect(upTo:)`` a small one.
public struct RequestBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    private let source: @Sendable () -> AsyncIterator

    /// The body's buffers, in order.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let nextBuffer: () async throws -> ByteBuffer?
        /// The next buffer, or nil at the end.
        public mutating func next() async throws -> ByteBuffer? { try await nextBuffer() }
    }

    /// An empty body.
    public init() { self.init(buffer: ByteBuffer()) }

    /// A body of one buffer (tests; small bodies).
    public init(buffer: ByteBuffer) {
        source = {
            let taken = Once(buffer)
            return AsyncIterator { taken.take() }
        }
    }

    /// A body read from `sequence` (the host passes the server's stream), which can be read once: a second
    /// reader (a handler iterating a body its route already decoded) gets 500 `body_already_read`, never the
    /// server's stream twice.
    public init<Buffers: AsyncSequence & Sendable>(_ sequence: Buffers) where Buffers.Element == ByteBuffer {
        let started = Flag()
        source = {
            guard !started.raise() else {
                return AsyncIterator {
                    throw APIError(.internalServerError, "body_already_read", "The request body was read already.")
                }
            }
            let iterator = IteratorBox(sequence.makeAsyncIterator())
            return AsyncIterator { try await iterator.next() }
        }
    }

    /// Starts reading.
    public func makeAsyncIterator() -> AsyncIterator { source() }

    /// The whole body in one buffer; 413 `payload_too_large` once it grows past `maxSize` bytes.
    public func collect(upTo maxSize: Int) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        for try await var buffer in self {
            guard collected.readableBytes + buffer.readableBytes <= maxSize else {
                throw APIError(.contentTooLarge, "payload_too_large", "The body is larger than \(maxSize) bytes.")
            }
            collected.writeBuffer(&buffer)
        }
        return collected
    }
}

/// Raised once; answers whether it was raised before.
private final class Flag: Sendable {
    private let raised = Atomic<Bool>(false)
    func raise() -> Bool { raised.exchange(true, ordering: .acquiringAndReleasing) }
}

/// Hands out its value once.
private final class Once: @unchecked Sendable {
    private var value: ByteBuffer?
    init(_ value: ByteBuffer) { self.value = value.readableBytes > 0 ? value : nil }
    // A body is read by one task at a time, from start to end.
    func take() -> ByteBuffer? {
        defer { value = nil }
        return value
    }
}

/// Holds a sequence's iterator so that the body's iterator can be a plain struct.
private final class IteratorBox<Base: AsyncIteratorProtocol>: @unchecked Sendable where Base.Element == ByteBuffer {
    private var base: Base
    init(_ base: Base) { self.base = base }
    // A body is read by one task at a time, from start to end.
    func next() async throws -> ByteBuffer? { try await base.next() }
}
