import Foundation
import Hummingbird
import HummingbirdTesting
import PluginAPI
import Synchronization

/// A real HTTP server on 127.0.0.1 standing in for an upstream service (Reddit, a stats API) in a test: answer
/// its paths with the service's JSON, then make it fail — a status, `Retry-After`, a slow answer, garbage — and
/// see what the cog does. Every request is recorded.
///
/// ```swift
/// try await FakeUpstream.run { upstream in
///     upstream.answer(.get, "/r/memes/hot.json") { _ in .json(listing) }
///     let host = TestHost(enabled: ["memes"]) { $0.runtimeSections["meme"] = ["reddit_base_url": .string(upstream.baseURL)] }
///     ...
///     upstream.fail(.status(500))
/// }
/// ```
public final class FakeUpstream: Sendable {
    /// A request the fake received.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// Query items, percent-decoded.
        public var query: [String: String]
        /// Header fields by lower-cased name.
        public var headers: [String: String]
        public var body: Data
    }

    /// What the fake answers.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data

        public init(status: Int = 200, headers: [String: String] = [:], body: Data = Data()) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        /// `value` as JSON.
        public static func json(_ value: JSONValue, status: Int = 200) -> Reply {
            Reply(status: status, headers: ["Content-Type": "application/json"], body: value.jsonData())
        }
    }

    /// A way for the upstream to fail, for the next requests.
    public enum Failure: Sendable {
        /// Answer this status (with `Retry-After` when given) and an error body.
        case status(Int, retryAfter: String? = nil)
        /// Wait this long before answering normally (longer than the caller's timeout makes a timeout).
        case delay(Duration)
        /// Answer 200 with a body that is not JSON.
        case garbage
    }

    public typealias Handler = @Sendable (Request) async -> Reply

    private struct State {
        var routes: [(method: String, path: String, handler: Handler)] = []
        var failure: (Failure, remaining: Int?)?
        var requests: [Request] = []
    }

    private let state = Mutex(State())
    /// `http://127.0.0.1:<port>`, while ``run(_:)`` runs.
    public let baseURL: String

    private init(port: Int) {
        baseURL = "http://127.0.0.1:\(port)"
    }

    /// Starts a fake on an ephemeral port of 127.0.0.1, runs `body` with it, and stops it.
    public static func run<T: Sendable>(_ body: @Sendable (FakeUpstream) async throws -> T) async throws -> T {
        let box = Mutex<FakeUpstream?>(nil)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            guard let fake = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return try await fake.respond(to: request)
        }
        let application = Application(responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await application.test(.live) { client in
            let fake = FakeUpstream(port: client.port!)
            box.withLock { $0 = fake }
            return try await body(fake)
        }
    }

    /// Answers `method` requests to `path` (exact; a trailing `*` matches any rest) with `handler`.
    public func answer(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        state.withLock { $0.routes.append((method.rawValue, path, handler)) }
    }

    /// Fails the next `count` requests (every request while nil) with `failure`.
    public func fail(_ failure: Failure, count: Int? = nil) {
        state.withLock { $0.failure = (failure, count) }
    }

    /// Answers normally again.
    public func recover() {
        state.withLock { $0.failure = nil }
    }

    /// The requests received so far, oldest first.
    public var requests: [Request] { state.withLock { $0.requests } }

    private func respond(to request: Hummingbird.Request) async throws -> Response {
        let copy = request
        let body = try await copy.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = String(value).removingPercentEncoding ?? String(value) }
        let received = Request(
            method: request.method.rawValue, path: request.uri.path, query: query, headers: headers, body: Data(buffer: body))
        let (failure, handler) = state.withLock { state -> (Failure?, Handler?) in
            state.requests.append(received)
            var failure: Failure?
            if let (current, remaining) = state.failure {
                failure = current
                if let remaining { state.failure = remaining > 1 ? (current, remaining - 1) : nil }
            }
            let route = state.routes.last { route in
                route.method == received.method
                    && (route.path.hasSuffix("*") ? received.path.hasPrefix(String(route.path.dropLast())) : route.path == received.path)
            }
            return (failure, route?.handler)
        }
        var reply: Reply
        switch failure {
        case .status(let status, let retryAfter)?:
            reply = .json(["error": .string("failing on purpose")], status: status)
            if let retryAfter { reply.headers["Retry-After"] = retryAfter }
        case .garbage?:
            reply = Reply(headers: ["Content-Type": "application/json"], body: Data("<html>oops".utf8))
        case .delay(let duration)?:
            try await Task.sleep(for: duration)
            reply = await handler?(received) ?? .json(["error": "not found"], status: 404)
        case nil:
            reply = await handler?(received) ?? .json(["error": "not found"], status: 404)
        }
        var fields = HTTPFields()
        for (name, value) in reply.headers { if let field = HTTPField.Name(name) { fields[field] = value } }
        return Response(status: .init(code: reply.status), headers: fields, body: .init(byteBuffer: ByteBuffer(data: reply.body)))
    }
}
