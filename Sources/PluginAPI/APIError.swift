import Foundation
import HTTPTypes

/// An error a route answers with: `{"error": code, "message": text}` and the given status.
///
/// Throw it from any handler; anything else a handler throws becomes a 500 `internal_error` whose details are
/// logged, not sent.
public struct APIError: Error, Sendable {
    /// The HTTP status answered.
    public var status: HTTPResponse.Status
    /// A stable snake_case code clients can switch on (`"ticket_not_found"`).
    public var code: String
    /// What a person can act on.
    public var message: String
    /// Extra members merged into the JSON body (`"cog": "tickets"`).
    public var details: [String: JSONValue]
    /// Extra response headers (`Retry-After`).
    public var headers: HTTPFields

    /// An error answering `status` with `{"error": code, "message": message}` plus `details`.
    public init(
        _ status: HTTPResponse.Status, _ code: String, _ message: String,
        details: [String: JSONValue] = [:], headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    /// 400: the request is malformed or a value is wrong.
    public static func badRequest(_ code: String = "bad_request", _ message: String) -> APIError {
        APIError(.badRequest, code, message)
    }
    /// 404: the thing asked for does not exist (or is not the caller's to see).
    public static func notFound(_ code: String = "not_found", _ message: String) -> APIError {
        APIError(.notFound, code, message)
    }
    /// 409: the request conflicts with the current state.
    public static func conflict(_ code: String, _ message: String) -> APIError { APIError(.conflict, code, message) }
    /// 403 `forbidden`: the caller is known but lacks the role.
    public static func forbidden(_ message: String = "You do not have the role this needs.") -> APIError {
        APIError(.forbidden, "forbidden", message)
    }
    /// 401 with `WWW-Authenticate: Bearer`: no valid credentials.
    public static func unauthorized(_ code: String = "unauthorized", _ message: String) -> APIError {
        APIError(.unauthorized, code, message, headers: [.wwwAuthenticate: "Bearer"])
    }

    /// 401 `missing_token`: the call needs credentials and came without.
    package static let signInFirst = APIError.unauthorized(
        "missing_token", "Sign in first: send Authorization: Bearer <token or API key>.")
    /// 400 `guild_required`: the caller's guild is not known and the call needs one.
    package static let guildRequired = APIError.badRequest(
        "guild_required", "Name the guild you act in with the X-Guild-Id header.")

    /// The JSON body.
    public var body: JSONValue {
        var members = details
        members["error"] = .string(code)
        members["message"] = .string(message)
        return .object(members)
    }

    /// The JSON error response.
    public func response() -> CogResponse {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return CogResponse(status: status, headers: headers, body: .bytes(body.jsonBuffer))
    }
}
