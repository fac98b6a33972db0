import HTTPTypes
import Hummingbird
import NIOCore
import PluginAPI

/// Adapts Hummingbird's request and response to the plugin contract's ``CogRequest`` and ``CogResponse``: the only
/// place where a cog's route meets the server framework.
enum CogHTTP {
    /// A contract path (`/api/tickets/{id}`) in the router's syntax (`/api/tickets/:id`).
    static func routerPath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : segment
        }.joined(separator: "/")
    }

    /// The contract's view of `request`, with the identity and guild admission resolved.
    static func request(from request: Request, context: GuildhallRequestContext, parameterNames: [String]) -> CogRequest {
        var parameters: [String: String] = [:]
        for name in parameterNames {
            if let value = context.parameters.get(name) { parameters[name] = value }
        }
        return CogRequest(
            method: request.method, path: request.uri.path, headers: request.headers,
            query: QueryItems(request.uri.queryParameters.map { (String($0.key), String($0.value)) }),
            parameters: parameters, body: PluginAPI.RequestBody(request.body), identity: context.identity, guild: context.guild,
            requestID: context.requestID, remoteAddress: context.remoteAddress, maxBodySize: context.maxUploadSize)
    }

    /// The server's response for a cog's answer; a streamed body is written as the cog produces it, inside the
    /// cog's `door` when it has one (so unload waits for the stream too).
    static func response(_ answer: CogResponse, door: CogDoor? = nil) -> Response {
        switch answer.body {
        case .bytes(let buffer):
            return Response(status: answer.status, headers: answer.headers, body: .init(byteBuffer: buffer))
        case .stream(let produce):
            let body = ResponseBody { writer in
                try await withoutActuallyEscaping({ (buffer: ByteBuffer) async throws in try await writer.write(buffer) }) { sink in
                    var stream = ResponseStreamWriter(sink)
                    if let door {
                        try await door.enter { try await produce(&stream) }
                    } else {
                        try await produce(&stream)
                    }
                }
                try await writer.finish(nil)
            }
            return Response(status: answer.status, headers: answer.headers, body: body)
        }
    }
}

extension APIError: HTTPResponseError {
    /// The JSON error response.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        CogHTTP.response(response())
    }
}
