import HTTPTypes

/// One call of a route: the request and its parts decoded to the types the route declared.
public struct RouteCall<Parameters: Sendable, Query: Sendable, Body: Sendable>: Sendable {
    /// The request, with its caller, guild and raw parts.
    public let request: CogRequest
    /// The path's parameters (`{id}` in `/api/tickets/{id}`), decoded strictly: a wrong type answered 400 before the
    /// handler ran.
    public let parameters: Parameters
    /// The query string, decoded strictly as the declared type.
    public let query: Query
    /// The JSON body, decoded strictly as the declared type.
    public let body: Body

    /// A call; the host builds these (and ``GuildhallTesting`` does, for tests).
    public init(request: CogRequest, parameters: Parameters, query: Query, body: Body) {
        self.request = request
        self.parameters = parameters
        self.query = query
        self.body = body
    }

    /// The authenticated caller; nil on public routes called without credentials.
    public var identity: Identity? { request.identity }
    /// The caller's guild, if resolved.
    public var guild: GuildScope? { request.guild }
    /// The request's id, for correlating events and logs.
    public var requestID: String { request.requestID }
    /// The caller, or a 401.
    public func requireIdentity() throws -> Identity { try request.requireIdentity() }
    /// The caller's guild, or a 400 `guild_required`.
    public func requireGuild() throws -> GuildScope { try request.requireGuild() }
}

/// The type of a route part that is not there: a path without parameters, a route that reads no query.
public struct None: Codable, Sendable, Hashable {
    /// Nothing.
    public init() {}
}

/// The body type of a route that reads its body itself, as a stream (`call.request.body`): uploads. Declare the
/// content types it accepts with ``RouteBodyDescription``.
public struct StreamedBody: Sendable {
    /// The content types accepted, for the API description (`["multipart/form-data", "text/plain"]`).
    public let contentTypes: [String]
}

/// One possible answer of a route, for the API description: a status, what it means, and its body's type.
public struct ResponseDescription: Sendable {
    /// The status.
    public let status: HTTPResponse.Status
    /// What it means.
    public let summary: String
    /// The body's content type, nil for none.
    public let contentType: String?
    /// The body's JSON Schema, nil for none or a non-JSON body.
    public let schema: JSONValue?

    /// A JSON answer whose body is a `Body` (its schema is read from the type when it is also `Decodable`).
    public static func json<Body: Encodable>(
        _ status: HTTPResponse.Status = .ok, _ type: Body.Type, _ summary: String = ""
    ) -> ResponseDescription {
        ResponseDescription(
            status: status, summary: summary.isEmpty ? status.reasonPhrase : summary,
            contentType: "application/json", schema: SchemaProbe.schema(ofEncodable: type))
    }

    /// A JSON error answer `{"error": code, "message": ...}` with one of `codes`.
    public static func error(_ status: HTTPResponse.Status, _ codes: String..., summary: String = "") -> ResponseDescription {
        ResponseDescription(
            status: status, summary: summary.isEmpty ? status.reasonPhrase : summary, contentType: "application/json",
            schema: SchemaProbe.errorSchema(codes: codes))
    }

    /// A non-JSON answer (`text/plain`, `text/csv`, a file).
    public static func content(_ status: HTTPResponse.Status = .ok, _ contentType: String, _ summary: String = "") -> ResponseDescription {
        ResponseDescription(
            status: status, summary: summary.isEmpty ? status.reasonPhrase : summary, contentType: contentType,
            schema: nil)
    }
}

/// A route as a cog declares it: method, path, access, summary, the types of its parts and answers, and the
/// handler. Cogs build them with `CogContext.route(...)`.
public struct RouteDeclaration: Sendable {
    /// The method.
    public let method: HTTPRequest.Method
    /// The path, with parameters in braces (`/api/tickets/{id}`).
    public let path: String
    /// Who may call it.
    public let access: Access
    /// One line on what it does.
    public let summary: String
    /// The JSON Schema of the path parameters (an object schema).
    public let parametersSchema: JSONValue
    /// The JSON Schema of the query parameters (an object schema).
    public let querySchema: JSONValue
    /// The JSON Schema of the body, nil for none.
    public let bodySchema: JSONValue?
    /// The content types a streamed body accepts; empty unless the route reads its body as a stream.
    public let streamedBodyTypes: [String]
    /// The answers it gives.
    public let responses: [ResponseDescription]
    /// Decodes the parts and runs the handler.
    public let handle: @Sendable (CogRequest) async throws -> CogResponse

    /// The names of the path's parameters, in order (`["id"]` for `/api/tickets/{id}`).
    public var parameterNames: [String] {
        path.split(separator: "/").compactMap { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
        }
    }
}

extension RouteDeclaration {
    /// A route whose parts are decoded as `Parameters`, `Query` and `Body` before `handler` runs.
    public init<Parameters: Decodable & Sendable, Query: Decodable & Sendable, Body: Decodable & Sendable, Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        parameters: Parameters.Type, query: Query.Type, body: Body.Type, responses: [ResponseDescription],
        handler: @escaping @Sendable (RouteCall<Parameters, Query, Body>) async throws -> Output
    ) {
        self.init(
            method: method, path: path, access: access, summary: summary,
            parametersSchema: SchemaProbe.schema(of: Parameters.self), querySchema: SchemaProbe.schema(of: Query.self),
            bodySchema: Body.self == None.self ? Optional<JSONValue>.none : SchemaProbe.schema(of: Body.self), streamedBodyTypes: [],
            responses: responses
        ) { request in
            let parameters = try RequestDecoding.fields(Parameters.self, from: request.parameters, part: .path)
            let query = try RequestDecoding.query(Query.self, from: request.query)
            let body: Body = Body.self == None.self ? None() as! Body : try await request.decodeBody(Body.self)
            return try await handler(RouteCall(request: request, parameters: parameters, query: query, body: body)).response()
        }
    }

    /// A route that reads its body as a stream from `call.request.body` (uploads).
    public init<Parameters: Decodable & Sendable, Query: Decodable & Sendable, Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        parameters: Parameters.Type, query: Query.Type, streamedBody: StreamedBody, responses: [ResponseDescription],
        handler: @escaping @Sendable (RouteCall<Parameters, Query, None>) async throws -> Output
    ) {
        self.init(
            method: method, path: path, access: access, summary: summary,
            parametersSchema: SchemaProbe.schema(of: Parameters.self), querySchema: SchemaProbe.schema(of: Query.self),
            bodySchema: nil, streamedBodyTypes: streamedBody.contentTypes, responses: responses
        ) { request in
            let parameters = try RequestDecoding.fields(Parameters.self, from: request.parameters, part: .path)
            let query = try RequestDecoding.query(Query.self, from: request.query)
            return try await handler(RouteCall(request: request, parameters: parameters, query: query, body: None())).response()
        }
    }
}

extension RouteDeclaration {
    /// A route whose handler reads the raw request and answers the raw response (the host's proxy to an external
    /// cog), described by the schemas given.
    package static func raw(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String, parametersSchema: JSONValue,
        querySchema: JSONValue, bodySchema: JSONValue?, responses: [ResponseDescription],
        handle: @escaping @Sendable (CogRequest) async throws -> CogResponse
    ) -> RouteDeclaration {
        RouteDeclaration(
            method: method, path: path, access: access, summary: summary, parametersSchema: parametersSchema,
            querySchema: querySchema, bodySchema: bodySchema, streamedBodyTypes: [], responses: responses, handle: handle)
    }
}

extension StreamedBody {
    /// A body read as a stream, of one of `contentTypes`.
    public static func accepting(_ contentTypes: String...) -> StreamedBody { StreamedBody(contentTypes: contentTypes) }
}
