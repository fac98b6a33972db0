import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import PluginAPI
import Synchronization

/// `outbound`: how the host calls upstreams for cogs.
public struct OutboundSettings: CogConfiguration {
    /// Attempts per call, the first included (only calls that may be repeated are).
    public var maxAttempts = 3
    /// Backoff before attempt n: a random wait up to min(max, base × 2ⁿ⁻²) ("full jitter").
    public var backoffBaseMilliseconds = 200
    public var backoffMaxMilliseconds = 2_000
    /// A 429 asking to wait longer than this is reported to the caller instead of waited for.
    public var maxRetryAfterSeconds = 5
    /// Consecutive failures of one upstream that open its circuit, and how long it stays open before one trial call.
    public var breakerFailures = 5
    public var breakerCooldownSeconds = 30
    /// The largest answer read, in bytes.
    public var maxResponseBytes = 8 << 20
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "max_attempts": 1...20,
            "backoff_base_milliseconds": 0...600_000,
            "backoff_max_milliseconds": 0...3_600_000,
            "max_retry_after_seconds": 0...86_400,
            "breaker_failures": 1...1_000_000,
            "breaker_cooldown_seconds": 0...86_400,
            "max_response_bytes": 1...Double(1 << 34),
        ]
    }
}

/// Per upstream: consecutive failures, and whether calls are refused until a trial succeeds.
public final class CircuitBreakers: Sendable {
    private struct State {
        var failures = 0
        var openUntil: ContinuousClock.Instant?
        var trialRunning = false
    }

    private let states = Mutex<[String: State]>([:])
    let threshold: Int
    let cooldown: Duration

    public init(threshold: Int, cooldown: Duration) {
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
    }

    /// Nil if a call to `upstream` may go out now (when the cooldown has passed, one trial call at a time); else the
    /// seconds until the circuit will try again.
    func refusal(for upstream: String) -> Int? {
        let now = ContinuousClock.now
        return states.withLock { states in
            guard let openUntil = states[upstream]?.openUntil else { return nil }
            if now < openUntil { return max(1, Int((openUntil - now).components.seconds)) }
            if states[upstream]?.trialRunning == true { return 1 }
            states[upstream]?.trialRunning = true
            return nil
        }
    }

    func succeeded(_ upstream: String) {
        states.withLock { $0[upstream] = State() }
    }

    /// Every upstream called so far: its consecutive failures and whether its circuit is open now (for /metrics).
    var health: [(upstream: String, failures: Int, open: Bool)] {
        let now = ContinuousClock.now
        return states.withLock { states in
            states.map { ($0.key, $0.value.failures, $0.value.openUntil.map { now < $0 } ?? false) }.sorted { $0.upstream < $1.upstream }
        }
    }

    /// Counts a failure; answers whether the circuit just opened.
    @discardableResult
    func failed(_ upstream: String) -> Bool {
        states.withLock { states in
            var state = states[upstream] ?? State()
            state.failures += 1
            let opens = state.trialRunning || state.failures >= threshold
            if opens { state.openUntil = ContinuousClock.now + cooldown }
            state.trialRunning = false
            states[upstream] = state
            return opens
        }
    }

    func isOpen(_ upstream: String) -> Bool {
        states.withLock { $0[upstream]?.openUntil.map { ContinuousClock.now < $0 } ?? false }
    }
}

/// An answer kept for `OutboundCache`.
private struct CachedAnswer: Sendable {
    var response: OutboundResponse
    var freshUntil: ContinuousClock.Instant
}

/// The contract's outbound client for one cog: AsyncHTTPClient behind a circuit breaker per upstream, retries,
/// `Retry-After`, metrics (`guildhall_outbound_requests_total{upstream,outcome}`, `..._duration_seconds{upstream}`)
/// and the cog's namespace of the host cache.
public struct HostOutboundClient: OutboundClient {
    let http: HTTPClient
    let cache: any Cache
    let breakers: CircuitBreakers
    let settings: OutboundSettings
    let userAgent: @Sendable () -> String
    let logger: Logger

    /// A client over `http` (the host's one client), keeping answers in `cache` (a cog's namespace) and
    /// failures in `breakers`.
    public init(
        http: HTTPClient, cache: any Cache, breakers: CircuitBreakers, settings: OutboundSettings,
        userAgent: @escaping @Sendable () -> String, logger: Logger
    ) {
        self.http = http
        self.cache = cache
        self.breakers = breakers
        self.settings = settings
        self.userAgent = userAgent
        self.logger = logger
    }

    public func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        let upstream = request.upstream ?? URL(string: request.url)?.host ?? "upstream"
        let key = "outbound:\(request.method.rawValue) \(request.url)"
        let policy = request.method == .get ? request.cache : nil
        if policy != nil, let kept = cache.value(forKey: key, as: CachedAnswer.self), ContinuousClock.now < kept.freshUntil {
            count(upstream, "cached")
            var response = kept.response
            response.cached = true
            return response
        }
        do {
            let response = try await fetch(request, upstream: upstream)
            if let policy, (200..<300).contains(response.status.code), policy.usable(response) {
                cache.set(
                    CachedAnswer(response: response, freshUntil: ContinuousClock.now + policy.ttl), forKey: key,
                    ttl: policy.ttl + policy.staleFor, tags: policy.tags)
            }
            return response
        } catch let error as OutboundError {
            guard policy != nil, let kept = cache.value(forKey: key, as: CachedAnswer.self) else { throw error }
            logger.warning("upstream failed; answering from the cache", metadata: ["upstream": "\(upstream)", "error": "\(error)"])
            count(upstream, "stale")
            var response = kept.response
            response.cached = true
            response.stale = true
            return response
        }
    }

    /// The attempts of one call, all within `request.timeout`: each attempt gets what is left of it, and a wait
    /// (backoff or `Retry-After`) that would end past it is not begun.
    private func fetch(_ request: OutboundRequest, upstream: String) async throws -> OutboundResponse {
        let deadline = ContinuousClock.now + request.timeout
        var attempt = 1
        while true {
            if let seconds = breakers.refusal(for: upstream) {
                count(upstream, "circuit_open")
                throw OutboundError.circuitOpen(upstream: upstream, retryAfterSeconds: seconds)
            }
            let mayRepeat = request.retryable && attempt < settings.maxAttempts
            let started = ContinuousClock.now
            let failure: OutboundError
            do {
                let response = try await attemptOnce(request, upstream: upstream, within: deadline - started)
                Timer(label: "guildhall_outbound_duration_seconds", dimensions: [("upstream", upstream)])
                    .recordNanoseconds(Int64((ContinuousClock.now - started) / .nanoseconds(1)))
                switch response.status.code {
                case 429:
                    // Alive, only busy: not a failure for the circuit.
                    breakers.succeeded(upstream)
                    let wait = Self.retryAfter(response.headers) ?? 1
                    count(upstream, "rate_limited")
                    guard mayRepeat, wait <= settings.maxRetryAfterSeconds, ContinuousClock.now + .seconds(wait) < deadline else {
                        throw OutboundError.rateLimited(upstream: upstream, retryAfterSeconds: wait)
                    }
                    try await Task.sleep(for: .seconds(wait))
                    attempt += 1
                    continue
                case 500...:
                    failure = .failed(upstream: upstream, status: Int(response.status.code))
                default:
                    breakers.succeeded(upstream)
                    count(upstream, "ok")
                    return response
                }
            } catch let error as OutboundError {
                switch error {
                case .timeout, .unreachable: failure = error
                default: throw error
                }
            }
            count(upstream, "error")
            if breakers.failed(upstream) {
                logger.warning("circuit opened", metadata: ["upstream": "\(upstream)", "error": "\(failure)"])
            }
            let pause = backoff(before: attempt + 1)
            guard mayRepeat, !breakers.isOpen(upstream), ContinuousClock.now + pause < deadline else { throw failure }
            try await Task.sleep(for: pause)
            attempt += 1
        }
    }

    /// One HTTP exchange; a timeout or a failed connection as ``OutboundError``.
    private func attemptOnce(_ request: OutboundRequest, upstream: String, within limit: Duration) async throws -> OutboundResponse {
        guard limit > .zero else { throw OutboundError.timeout(upstream: upstream) }
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        outgoing.headers.add(name: "User-Agent", value: userAgent())
        for field in request.headers { outgoing.headers.replaceOrAdd(name: field.name.canonicalName, value: field.value) }
        if let body = request.body { outgoing.body = .bytes(body) }
        let timeout = TimeAmount.nanoseconds(Int64(limit / .nanoseconds(1)))
        do {
            let response = try await http.execute(outgoing, timeout: timeout)
            let body = try await response.body.collect(upTo: settings.maxResponseBytes)
            var headers = HTTPFields()
            for (name, value) in response.headers {
                if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
            }
            return OutboundResponse(status: .init(code: Int(response.status.code)), headers: headers, body: body, upstream: upstream)
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout].contains(error) {
            throw OutboundError.timeout(upstream: upstream)
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as NIOTooManyBytesError {
            throw OutboundError.badAnswer(upstream: upstream, reason: "the answer is larger than \(settings.maxResponseBytes) bytes (\(error))")
        } catch {
            throw OutboundError.unreachable(upstream: upstream, reason: Self.describe(error))
        }
    }

    /// Full jitter: a random wait up to the exponential bound.
    private func backoff(before attempt: Int) -> Duration {
        let bound = min(settings.backoffMaxMilliseconds, settings.backoffBaseMilliseconds << max(0, attempt - 2))
        return .milliseconds(Int.random(in: 0...max(1, bound)))
    }

    /// `Retry-After` as seconds (a number, or an HTTP date).
    static func retryAfter(_ headers: HTTPFields) -> Int? {
        guard let value = headers[.retryAfter]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Int(value) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { max(0, Int($0.timeIntervalSinceNow.rounded(.up))) }
    }

    /// A connection failure in words, without the URL (it may carry a key in its query).
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        return String(describing: type(of: error)) + ": " + "\(error)".prefix(200)
    }

    private func count(_ upstream: String, _ outcome: String) {
        Counter(label: "guildhall_outbound_requests_total", dimensions: [("upstream", upstream), ("outcome", outcome)]).increment()
    }
}
