import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PluginAPI

/// The one middleware in front of every request, in a single layer because each layer costs a hop on the hot
/// path. It gives the request an id (the caller's `X-Request-Id` when it is a sane token, else Hummingbird's),
/// sends paths under a cog's prefixes to that cog, turns every error into the JSON error shape, counts the request
/// for /metrics and analytics, and adds the id and the security headers to the response.
struct FrontDoorMiddleware: RouterMiddleware {
    typealias Context = GuildhallRequestContext
    let maxBodyBytes: Int
    let cogs: CogDispatcher
    let errors: ErrorTranslator
    let metrics: RequestMetrics
    let analytics: AnalyticsRecorder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // HEAD is GET without the body (uptime checks send it): the host's GET routes are registered for HEAD too,
        // and a cog's router sees a GET.
        if request.method == .head {
            var response = try await answer(request, context: context, next: next)
            response.body = ResponseBody()
            return response
        }
        return try await answer(request, context: context, next: next)
    }

    private func answer(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id: String
        if let incoming = request.headers[.requestID], Self.isSane(incoming) {
            id = incoming
            context.logger[metadataKey: "hb.request.id"] = .string(incoming)
        } else {
            id = context.id
        }
        context.requestID = id
        context.maxUploadSize = maxBodyBytes
        let start = ContinuousClock.now
        var response: Response
        do {
            if let cogResponse = try await cogs.respond(to: request.method == .head ? Self.asGet(request) : request, context: context) {
                response = cogResponse
            } else {
                response = try await next(request, context)
            }
        } catch {
            response = try errors.response(for: error, request: request, context: context)
        }
        let duration = ContinuousClock.now - start
        let route = context.trail.route ?? context.endpointPath ?? "unmatched"
        metrics.record(method: request.method, route: route, status: response.status, duration: duration)
        if let guild = context.trail.guildID { metrics.record(guild: guild) }
        if analytics.settings.enabled {
            let trail = context.trail
            analytics.record(
                RequestRecord(
                    at: Date(), method: request.method.rawValue, route: route, status: response.status.code, latency: duration,
                    identity: trail.identity, guildID: trail.guildID, tokenDigest: trail.tokenDigest,
                    client: ClientInfo(request, context, full: trail.identity != nil)))
        }
        response.headers.append(HTTPField(name: .requestID, value: id))
        response.headers.append(contentsOf: Self.securityHeaders)
        if !response.headers.contains(.contentSecurityPolicy) { response.headers.append(Self.noContent) }
        if !response.headers.contains(.cacheControl) { response.headers.append(Self.noStore) }
        return response
    }

    private static let securityHeaders: [HTTPField] = [
        HTTPField(name: .xContentTypeOptions, value: "nosniff"),
        HTTPField(name: .xFrameOptions, value: "DENY"),
        HTTPField(name: .referrerPolicy, value: "no-referrer"),
    ]
    /// Nothing may load from an answer, unless the route set its own policy (the `/docs` page allows its styles).
    private static let noContent = HTTPField(name: .contentSecurityPolicy, value: "default-src 'none'; frame-ancestors 'none'")
    private static let noStore = HTTPField(name: .cacheControl, value: "no-store")

    private static func asGet(_ request: Request) -> Request {
        var head = request.head
        head.method = .get
        return Request(head: head, body: request.body)
    }

    private static func isSane(_ id: String) -> Bool {
        id.utf8.count <= 128 && id.utf8.allSatisfy { $0 > 32 && $0 < 127 }
    }
}

/// Turns errors into cog routers' JSON error responses (404 and 405 inside a cog's prefix, a cog's own errors).
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = GuildhallRequestContext
    let errors: ErrorTranslator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try errors.response(for: error, request: request, context: context)
        }
    }
}

/// The JSON error shape `{"error", "message"}` for any error: API errors as they are, Hummingbird's HTTP errors by
/// status (404, 405 where the path exists under another method, 413, ...), anything else as a logged 500 whose
/// details stay on the server.
struct ErrorTranslator: Sendable {
    let routes: @Sendable () -> RouteTable

    func response(for error: any Error, request: Request, context: GuildhallRequestContext) throws -> Response {
        switch error {
        case let error as CogUnavailable:
            throw error  // the cog dispatcher hands the request to the instance mounted now
        case let error as APIError:
            return try error.response(from: request, context: context)
        case let error as OutboundError:
            return try error.apiError.response(from: request, context: context)
        case let error as HTTPError:
            return try translate(error, request: request).response(from: request, context: context)
        case let error as any HTTPResponseError:
            // Errors of Hummingbird's and NIO's (a body over the limit, ...) carry only a status.
            return try translate(HTTPError(error.status), request: request).response(from: request, context: context)
        default:
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
