import Foundation
import Hummingbird

extension JSONValue: ResponseGenerator {
    /// A JSON value answers as a 200 `application/json` response.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: jsonBuffer))
    }
}

/// Wraps an encodable value to answer it as JSON with a chosen status (`201 Created`, ...).
public struct JSONResponse<Body: Encodable & Sendable>: ResponseGenerator, Sendable {
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
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.status = status
        return response
    }
}
