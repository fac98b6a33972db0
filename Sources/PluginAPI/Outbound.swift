import Foundation
import HTTPTypes
import NIOCore

/// Calls to the services a cog depends on (Reddit, an image API, a stats service), through the host: timeouts,
/// retries with backoff, `Retry-After`, a circuit breaker per upstream, metrics, a User-Agent naming the
/// deployment's bot, and a cache of answers that also serves when the upstream is down (contract 1.1).
///
/// ```swift
/// let answer = try await context.outbound.send(OutboundRequest(
///     url: "\(config.baseURL)/r/memes/hot.json", upstream: "reddit", cache: OutboundCache(ttl: .seconds(300))))
/// let listing = try answer.json()          // 502 bad_upstream_answer if it is not JSON
/// ```
///
/// Throw what `send` throws: ``OutboundError`` answers the caller 502 or 504 naming the upstream, never 500.
public protocol OutboundClient: Sendable {
    /// Sends `request`. Answers every status the upstream gives for good (a 404 is the cog's to read); throws
    /// ``OutboundError`` for a timeout, a failed connection, a 5xx or 429 still there after the retries, or an open
    /// circuit — unless a cached answer can stand in (then `cached` and `stale` are true).
    func send(_ request: OutboundRequest) async throws -> OutboundResponse
}

/// One call to an upstream.
public struct OutboundRequest: Sendable {
    public var method: HTTPRequest.Method
    /// The whole URL: the base URL from the cog's config (so tests can point it at a fake) and the path.
    public var url: String
    /// Extra header fields (an API key). They are never logged.
    public var headers: HTTPFields
    public var body: ByteBuffer?
    /// The upstream's name in errors, metrics and logs; the URL's host when nil.
    public var upstream: String?
    /// The longest the call may take, retries and their waits included: the caller never waits longer.
    public var timeout: Duration
    /// Keep successful (2xx) answers of a GET and answer from them; nil: always ask.
    public var cache: OutboundCache?
    /// Whether a failed attempt may be repeated. GET, HEAD, PUT and DELETE are by default; say so for a POST that is
    /// safe to repeat.
    public var retryable: Bool

    public init(
        _ method: HTTPRequest.Method = .get, url: String, headers: HTTPFields = [:], body: ByteBuffer? = nil, upstream: String? = nil,
        timeout: Duration = .seconds(10), cache: OutboundCache? = nil, retryable: Bool? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.upstream = upstream
        self.timeout = timeout
        self.cache = cache
        self.retryable = retryable ?? [.get, .head, .put, .delete].contains(method)
    }
}

/// How long an upstream's answer is kept.
public struct OutboundCache: Sendable {
    /// Answers younger than this are served without asking the upstream.
    public var ttl: Duration
    /// After `ttl`, an answer is kept this much longer to stand in while the upstream fails.
    public var staleFor: Duration
    /// Tags to forget answers by (`context.cache.invalidate(tag:)`, in the cog's namespace).
    public var tags: Set<String>
    /// Whether a 2xx answer is worth keeping; one that is not (an HTML error page with status 200) is answered but
    /// never stands in later. By default: its body is JSON.
    public var usable: @Sendable (OutboundResponse) -> Bool

    public init(
        ttl: Duration, staleFor: Duration = .seconds(86_400), tags: Set<String> = [],
        usable: @escaping @Sendable (OutboundResponse) -> Bool = { (try? $0.json()) != nil }
    ) {
        self.ttl = ttl
        self.staleFor = staleFor
        self.tags = tags
        self.usable = usable
    }
}

/// An upstream's answer.
public struct OutboundResponse: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: ByteBuffer
    /// The upstream's name.
    public var upstream: String
    /// Served from the cache, not asked now.
    public var cached: Bool
    /// Served from the cache because the upstream failed (`cached` is true too).
    public var stale: Bool

    public init(
        status: HTTPResponse.Status, headers: HTTPFields = [:], body: ByteBuffer, upstream: String, cached: Bool = false, stale: Bool = false
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.upstream = upstream
        self.cached = cached
        self.stale = stale
    }

    /// The body as JSON; ``OutboundError/badAnswer(upstream:reason:)`` if it is not.
    public func json() throws -> JSONValue {
        do {
            return try JSONValue.parse(Array(body.readableBytesView))
        } catch {
            throw OutboundError.badAnswer(upstream: upstream, reason: "the answer is not JSON")
        }
    }
}

/// Why an upstream gave no usable answer. Thrown out of a route, it answers the caller as ``apiError`` says.
public enum OutboundError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer within the request's timeout.
    case timeout(upstream: String)
    /// The connection failed.
    case unreachable(upstream: String, reason: String)
    /// A server error, still there after the retries.
    case failed(upstream: String, status: Int)
    /// 429 for longer than the host waits.
    case rateLimited(upstream: String, retryAfterSeconds: Int)
    /// Too many recent failures: calls are refused without trying until the circuit closes again.
    case circuitOpen(upstream: String, retryAfterSeconds: Int)
    /// An answer the cog could not use (not JSON, missing fields).
    case badAnswer(upstream: String, reason: String)

    public var upstream: String {
        switch self {
        case .timeout(let upstream), .unreachable(let upstream, _), .failed(let upstream, _), .rateLimited(let upstream, _),
            .circuitOpen(let upstream, _), .badAnswer(let upstream, _):
            upstream
        }
    }

    /// 504 `upstream_timeout`, or 502 `upstream_unavailable` / `upstream_error` / `bad_upstream_answer`, naming the
    /// upstream (`details.upstream`).
    public var apiError: APIError {
        let details: [String: JSONValue] = ["upstream": .string(upstream)]
        switch self {
        case .timeout:
            return APIError(.gatewayTimeout, "upstream_timeout", "\(upstream) did not answer in time.", details: details)
        case .unreachable, .circuitOpen, .rateLimited:
            return APIError(.badGateway, "upstream_unavailable", "\(upstream) cannot be reached now: \(description).", details: details)
        case .failed:
            return APIError(.badGateway, "upstream_error", "\(upstream) failed: \(description).", details: details)
        case .badAnswer:
            return APIError(.badGateway, "bad_upstream_answer", "\(upstream) gave an answer that cannot be used: \(description).", details: details)
        }
    }

    public var description: String {
        switch self {
        case .timeout(let upstream): "\(upstream) timed out"
        case .unreachable(_, let reason): reason
        case .failed(_, let status): "status \(status)"
        case .rateLimited(_, let seconds): "rate limited for \(seconds) s"
        case .circuitOpen(_, let seconds): "paused after repeated failures, retrying in \(seconds) s"
        case .badAnswer(_, let reason): reason
        }
    }
}
