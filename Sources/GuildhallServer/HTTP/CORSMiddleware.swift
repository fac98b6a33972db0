import Hummingbird
import PluginAPI

/// CORS for the origins in `server.cors_origins` (`*` allows any). Answers preflight requests itself.
struct OriginPolicyMiddleware: RouterMiddleware {
    typealias Context = GuildhallRequestContext
    let origins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains(origin) || origins.contains("*") else {
            return try await next(request, context)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            var response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            response.headers[.accessControlAllowHeaders] = "Authorization, Content-Type, X-API-Key, X-Request-Id"
            response.headers[.accessControlMaxAge] = "600"
            allow(origin, on: &response)
            return response
        }
        var response = try await next(request, context)
        allow(origin, on: &response)
        return response
    }

    private func allow(_ origin: String, on response: inout Response) {
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = "X-Request-Id, Retry-After"
        response.headers[values: .vary].append("Origin")
    }
}
