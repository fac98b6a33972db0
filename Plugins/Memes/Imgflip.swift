import Foundation
import PluginAPI

/// Meme templates and captions from Imgflip (`get_memes`, `caption_image`).
struct Imgflip: Sendable {
    let context: any CogContext<MemeConfig>
    static let upstream = "imgflip"

    /// The templates (`{id, name, url, width, height, box_count}`), cached for `templates_cache_duration`;
    /// `refresh` asks Imgflip now. Answers the templates and whether they came from the cache.
    func templates(refresh: Bool = false) async throws -> (templates: [JSONValue], cached: Bool) {
        let config = try context.config()
        if refresh { context.cache.invalidate(tag: "imgflip-templates") }
        let answer = try await context.outbound.send(OutboundRequest(
            url: "\(config.imgflipBaseURL)/get_memes", upstream: Self.upstream, timeout: .seconds(config.requestTimeoutSeconds),
            cache: OutboundCache(ttl: .seconds(config.templatesCacheDuration), tags: ["imgflip-templates"])))
        guard answer.status == .ok, let memes = try answer.json()["data"]?["memes"]?.arrayValue else {
            throw OutboundError.badAnswer(upstream: Self.upstream, reason: "no data.memes in get_memes")
        }
        return (memes, answer.cached)
    }

    /// Captions template `templateID` with `texts` (one per box); answers the image's URL.
    func caption(templateID: String, texts: [String]) async throws -> String {
        let config = try context.config()
        guard !config.imgflipUsername.isEmpty, !config.imgflipPassword.isEmpty else {
            throw APIError(
                .serviceUnavailable, "imgflip_not_configured", "The meme generator needs imgflip_username and imgflip_password in the meme config.")
        }
        var form = [("template_id", templateID), ("username", config.imgflipUsername), ("password", config.imgflipPassword)]
        if texts.count <= 2 {
            form += texts.enumerated().map { ("text\($0.offset)", $0.element) }
        } else {
            form += texts.enumerated().map { ("boxes[\($0.offset)][text]", $0.element) }
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        let answer = try await context.outbound.send(OutboundRequest(
            .post, url: "\(config.imgflipBaseURL)/caption_image", headers: headers, body: ByteBuffer(string: Self.encode(form)),
            upstream: Self.upstream, timeout: .seconds(config.requestTimeoutSeconds), retryable: true))
        let json = try answer.json()
        guard json["success"] == .bool(true), let url = json["data"]?["url"]?.stringValue else {
            let reason = json["error_message"]?.stringValue ?? "status \(answer.status.code)"
            throw APIError(.badGateway, "caption_failed", "Imgflip did not caption the meme: \(reason)", details: ["upstream": "imgflip"])
        }
        return url
    }

    /// `application/x-www-form-urlencoded`.
    static func encode(_ form: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return form.map { name, value in
            (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + "=" + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }
}
