import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import PluginAPI

/// The host's side of one external cog process: HTTP/1.1 over the process's Unix socket, every request signed with
/// the process's secret so the cog knows the caller's identity and guild came from the host.
struct CogChannel: Sendable {
    let socketPath: String
    let secret: String
    let client: HTTPClient
    /// Made once per process: every request is signed with it.
    private let key: SymmetricKey
    /// `http+unix://<socket path, percent-encoded>`: a request's URL is this and its target.
    private let urlPrefix: String

    init(socketPath: String, secret: String, client: HTTPClient) {
        self.socketPath = socketPath
        self.secret = secret
        self.client = client
        self.key = SymmetricKey(data: Data(secret.utf8))
        let root = URL(httpURLWithSocketPath: socketPath, uri: "/")?.absoluteString ?? "http+unix://invalid/"
        self.urlPrefix = String(root.dropLast())
    }

    /// Header fields the host never passes to a cog: the caller's credentials, and the host's own signed fields
    /// (a caller cannot forge those).
    static let strippedHeaders: Set<String> = [
        "authorization", "cookie", "x-api-key", "host", "connection", "keep-alive", "transfer-encoding", "upgrade",
        "proxy-authorization", "te", "trailer", "content-length", "expect",  // the client frames the body itself
    ]
    /// Answer fields not passed back to the caller (hop-by-hop; the server sets its own framing).
    static let hopByHop: Set<String> = ["connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"]

    /// The signature of one request: HMAC-SHA256 with the process's secret over the method, the target, the request
    /// id, the time and the identity and guild fields, in that order, one per line (docs/external-cogs.md).
    static func signature(
        key: SymmetricKey, method: String, target: String, requestID: String, timestamp: String, identity: String, guild: String
    ) -> String {
        let text = ["v1", method, target, requestID, timestamp, identity, guild].joined(separator: "\n")
        return hex(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lowercase hex, without a formatter per byte (this runs for every proxied request).
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var digits: [UInt8] = []
        digits.reserveCapacity(64)
        for byte in bytes {
            digits.append(hexDigits[Int(byte >> 4)])
            digits.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: digits, as: UTF8.self)
    }

    /// The host's signed header fields for a call made on behalf of `identity` in `guild`.
    func signedHeaders(method: String, target: String, requestID: String, identity: Identity?, guild: GuildScope?) -> HTTPHeaders {
        let identityText = identity.flatMap(Self.headerValue) ?? ""
        let guildText = guild.flatMap(Self.headerValue) ?? ""
        let timestamp = String(Int(Date().timeIntervalSince1970))
        var headers = HTTPHeaders()
        // A socket has no host name; servers that insist on the field (Node's) get a constant one.
        headers.add(name: "Host", value: "cog")
        headers.add(name: "X-Guildhall-Request-Id", value: requestID)
        headers.add(name: "X-Guildhall-Timestamp", value: timestamp)
        if !identityText.isEmpty { headers.add(name: "X-Guildhall-Identity", value: identityText) }
        if !guildText.isEmpty { headers.add(name: "X-Guildhall-Guild", value: guildText) }
        headers.add(
            name: "X-Guildhall-Signature",
            value: Self.signature(
                key: key, method: method, target: target, requestID: requestID, timestamp: timestamp,
                identity: identityText, guild: guildText))
        return headers
    }

    /// A value as base64 of its compact JSON: header fields carry any name safely so.
    static func headerValue(_ value: some Encodable) -> String? {
        (try? JSONValue(encoding: value)).map { $0.jsonData().base64EncodedString() }
    }

    private func url(_ target: String) -> String { urlPrefix + target }

    /// Passes a caller's request to the cog and its answer back, bodies streamed both ways. Throws ``APIError``
    /// 504 `cog_timeout` when the cog does not answer within `timeout`, 502 `cog_unavailable` when it cannot be
    /// reached or breaks the connection.
    func proxy(_ request: CogRequest, timeout: Duration, maxBodySize: Int) async throws -> CogResponse {
        var target = request.path
        let query = request.query.items
        if !query.isEmpty {
            target += "?" + query.map { Self.percentEncode($0.name) + "=" + Self.percentEncode($0.value) }.joined(separator: "&")
        }
        var outbound = HTTPClientRequest(url: url(target))
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers {
            let name = field.name.canonicalName
            if !Self.strippedHeaders.contains(name) && !name.hasPrefix("x-guildhall-") {
                outbound.headers.add(name: field.name.rawName, value: field.value)
            }
        }
        outbound.headers.add(
            contentsOf: signedHeaders(
                method: request.method.rawValue, target: target, requestID: request.requestID, identity: request.identity,
                guild: request.guild))
        if request.method != .get && request.method != .head {
            let length = request.headers[.contentLength].flatMap { Int64($0) }
            if let length, length > maxBodySize {
                throw APIError(.contentTooLarge, "payload_too_large", "The body is larger than \(maxBodySize) bytes.")
            }
            outbound.body = .stream(BoundedBody(base: request.body, limit: maxBodySize), length: length.map { .known($0) } ?? .unknown)
        }
        let response = try await execute(outbound, timeout: timeout)
        var headers = HTTPFields()
        for (name, value) in response.headers where !Self.hopByHop.contains(name.lowercased()) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let status = HTTPResponse.Status(code: Int(response.status.code))
        // Small answers (most JSON) are read at once; large or unsized ones stream through as they come.
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length <= 256 << 10 {
            let body = try await Self.mapped(timeout: timeout) { try await response.body.collect(upTo: length) }
            return CogResponse(status: status, headers: headers, body: .bytes(body))
        }
        return CogResponse(status: status, headers: headers, body: .stream { writer in
            for try await chunk in response.body { try await writer.write(chunk) }
        })
    }

    /// Calls the cog at `path` with a JSON body (an event, a command, an action, a task run); answers the status and
    /// the JSON it answered (nil for an empty body).
    func call(
        _ path: String, _ body: JSONValue, identity: Identity? = nil, guild: GuildScope? = nil, requestID: String,
        timeout: Duration
    ) async throws -> (status: Int, body: JSONValue?) {
        var outbound = HTTPClientRequest(url: url(path))
        outbound.method = .POST
        outbound.headers.add(name: "Content-Type", value: "application/json")
        outbound.headers.add(contentsOf: signedHeaders(method: "POST", target: path, requestID: requestID, identity: identity, guild: guild))
        outbound.body = .bytes(body.jsonBuffer)
        let response = try await execute(outbound, timeout: timeout)
        let buffer = try await Self.mapped(timeout: timeout) { try await response.body.collect(upTo: 1 << 20) }
        let json = buffer.readableBytes == 0 ? nil : try? JSONValue(parsing: buffer.readableBytesView)
        return (Int(response.status.code), json)
    }

    /// Whether the cog answers its health check with a 2xx within `timeout`.
    func isHealthy(path: String, timeout: Duration) async -> Bool {
        var outbound = HTTPClientRequest(url: url(path))
        outbound.headers.add(contentsOf: signedHeaders(method: "GET", target: path, requestID: "health", identity: nil, guild: nil))
        guard let response = try? await client.execute(outbound, timeout: .init(timeout)) else { return false }
        _ = try? await response.body.collect(upTo: 65_536)
        return (200..<300).contains(response.status.code)
    }

    private func execute(_ request: HTTPClientRequest, timeout: Duration) async throws -> HTTPClientResponse {
        try await Self.mapped(timeout: timeout) { try await client.execute(request, timeout: .init(timeout)) }
    }

    /// Runs `body`, translating the client's failures into the answers a caller gets.
    private static func mapped<T>(timeout: Duration, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout].contains(error) {
            throw APIError(.gatewayTimeout, "cog_timeout", "The cog did not answer within \(timeout).")
        } catch let error as APIError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw APIError(.badGateway, "cog_unavailable", "The cog could not be reached or broke the connection.")
        }
    }

    private static let unreserved = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))

    static func percentEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// A request body passed on as it streams, refused with 413 once it grows past `limit`.
private struct BoundedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: PluginAPI.RequestBody
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: PluginAPI.RequestBody.AsyncIterator
        let limit: Int
        var seen = 0
        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            seen += buffer.readableBytes
            if seen > limit { throw APIError(.contentTooLarge, "payload_too_large", "The body is larger than \(limit) bytes.") }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), limit: limit) }
}
