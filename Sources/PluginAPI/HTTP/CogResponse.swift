import HTTPTypes
import NIOCore

/// The answer to a cog's route: a status, header fields and a body held in memory or streamed.
public struct CogResponse: Sendable {
    /// The status answered.
    public var status: HTTPResponse.Status
    /// The response's header fields (`Content-Type`, ...).
    public var headers: HTTPFields
    /// The body.
    public var body: Body

    /// A body in memory, or one written piece by piece as it is produced (a large export).
    public enum Body: Sendable {
        /// The whole body.
        case bytes(ByteBuffer)
        /// A body the closure writes; the response ends when it returns.
        case stream(@Sendable (inout ResponseStreamWriter) async throws -> Void)
    }

    /// A response; see each property.
    public init(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], body: Body = .bytes(ByteBuffer())) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `value` as a JSON body (keys in snake_case) with `status`.
    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> CogResponse {
        CogResponse(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .bytes(try JSONValue(encoding: value).jsonBuffer))
    }

    /// `text` as a `text/plain` body.
    public static func text(_ text: String, status: HTTPResponse.Status = .ok) -> CogResponse {
        CogResponse(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .bytes(ByteBuffer(string: text)))
    }

    /// The bytes `write` produces, streamed as they come, with `contentType`.
    public static func stream(
        contentType: String, status: HTTPResponse.Status = .ok,
        _ write: @escaping @Sendable (inout ResponseStreamWriter) async throws -> Void
    ) -> CogResponse {
        CogResponse(status: status, headers: [.contentType: contentType], body: .stream(write))
    }
}

/// Writes a streamed response body; each write waits until the connection has taken the bytes.
public struct ResponseStreamWriter {
    private let sink: (ByteBuffer) async throws -> Void

    /// A writer that hands each buffer to `sink` (the host's connection, or a test's collector).
    public init(_ sink: @escaping (ByteBuffer) async throws -> Void) { self.sink = sink }

    /// Writes `buffer`.
    public mutating func write(_ buffer: ByteBuffer) async throws { try await sink(buffer) }

    /// Writes `text` as UTF-8.
    public mutating func write(_ text: String) async throws { try await sink(ByteBuffer(string: text)) }
}

/// What a route handler may answer: a ``CogResponse``, a ``JSONValue``, a ``JSONResponse``, a `String`, or any
/// `Encodable` type that declares this conformance (answered as JSON with status 200).
public protocol ResponseConvertible: Sendable {
    /// The response.
    func response() throws -> CogResponse
}

extension ResponseConvertible where Self: Encodable {
    /// The value as JSON with status 200.
    public func response() throws -> CogResponse { try .json(self) }
}

extension CogResponse: ResponseConvertible {
    /// Itself.
    public func response() throws -> CogResponse { self }
}

extension JSONValue: ResponseConvertible {}

extension String: ResponseConvertible {
    /// The text as `text/plain`.
    public func response() throws -> CogResponse { .text(self) }
}

/// Answers an encodable value as JSON with a chosen status (`201 Created`, ...).
public struct JSONResponse<Body: Encodable & Sendable>: ResponseConvertible {
    /// The status answered.
    public var status: HTTPResponse.Status
    /// The value encoded as the JSON body.
    public var body: Body

    /// Answers `body` as JSON with `status`.
    public init(_ status: HTTPResponse.Status = .ok, _ body: Body) {
        self.status = status
        self.body = body
    }

    /// The JSON response.
    public func response() throws -> CogResponse { try .json(body, status: status) }
}
