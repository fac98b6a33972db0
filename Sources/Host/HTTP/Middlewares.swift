import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PluginAPI

/// Gives every request an id (the caller's `X-Request-Id` when it is a sane token, else a new one), puts it in
/// the log metadata and echoes it on the response, along with the security headers every response carries.
struct RequestIdentityMiddleware: RouterMiddleware {
    typealias Context = GuildhallRequestContext
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let incoming = request.headers[.requestID]
        let id = incoming.flatMap { Self.isSane($0) ? $0 : nil } ?? UUID().uuidString.lowercased()
        context.requestID = id
        context.maxUploadSize = maxBodyBytes
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.requestID] = id
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        response.headers[.cacheControl] = response.headers[.cacheControl] ?? "no-store"
        return response
    }

    private static func isSane(_ id: String) -> Bool {
        id.utf8.count <= 128 && id.utf8.allSatisfy { $0 > 32 && $0 < 127 }
    }
}

/// Turns every error into the JSON error shape `{"error", "message"}`: API errors as they are, Hummingbird's
/// HTTP errors by status (404, 405 where the path exists under another method, 413, ...), anything else as a
/// logged 500 whose details stay on the server.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = GuildhallRequestContext
    let routes: @Sendable () -> RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            return try translate(error, request: request).response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            // Errors of Hummingbird's and NIO's (a body over the limit, ...) carry only a status.
            return try translate(HTTPError(error.status), request: request).response(from: request, context: context)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return try APIError(.internalServerError, "internal_error", "Something went wrong on our side; it has been logged.")
                .response(from: request, context: context)
        }
    }

    private func translate(_ error: HTTPError, request: Request) -> APIError {
        switch error.status {
        case .notFound:
            let methods = routes().methods(matching: request.uri.path)
            if !methods.isEmpty {
                let allowed = Array(Set(methods)).sorted().joined(separator: ", ")
                return APIError(
                    .methodNotAllowed, "method_not_allowed", "\(request.method) is not allowed here; use \(allowed).",
                    headers: [.allow: allowed])
            }
            return APIError(.notFound, "not_found", "No route matches \(request.method) \(request.uri.path).")
        case .contentTooLarge:
            return APIError(.contentTooLarge, "payload_too_large", "The body is larger than this server accepts.")
        default:
            let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            return APIError(error.status, code.isEmpty ? "http_error" : code, error.body ?? error.status.reasonPhrase, headers: error.headers)
        }
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let allow = Self("Allow")!
    static let retryAfter = Self("Retry-After")!
}
