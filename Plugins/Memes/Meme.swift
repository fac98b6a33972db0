import Foundation
import PluginAPI

/// One image post, from Reddit or Lemmy.
struct Meme: Codable, Sendable, Equatable {
    var title: String
    var url: String
    /// `reddit` or `lemmy`.
    var source: String
    /// The subreddit, or for Lemmy `lemmy:<instance@community>` (what the admin app shows).
    var subreddit: String
    /// The Lemmy community as configured (`instance@community`); nil for Reddit.
    var community: String?
    var author: String
    var score: Int
    var permalink: String
    var nsfw: Bool
    /// Whether the listing it came from was answered from the cache (true while its source is down); nil for a
    /// meme a client sent.
    var cached: Bool? = nil

    /// Document 004's shape (with `community` for Lemmy), which is also the app's `meme` object.
    var json: JSONValue {
        var members: [String: JSONValue] = [
            "title": .string(title), "url": .string(url), "source": .string(source), "subreddit": .string(subreddit),
            "author": .string(author), "score": .int(Int64(score)), "permalink": .string(permalink), "nsfw": .bool(nsfw),
        ]
        if let community { members["community"] = .string(community) }
        if let cached { members["cached"] = .bool(cached) }
        return .object(members)
    }

    static let imageExtensions = [".jpg", ".jpeg", ".png", ".gif", ".webp"]

    /// Whether `url` is an image file (what a meme channel can show), not a page, a video or a gallery.
    static func isImage(_ url: String) -> Bool {
        let path = (URL(string: url)?.path ?? url).lowercased()
        return imageExtensions.contains { path.hasSuffix($0) }
    }

    /// The image posts of a Reddit listing (`/r/{sub}/hot.json`): no text posts, videos or galleries.
    static func fromReddit(_ listing: JSONValue, subreddit: String, upstream: String, cached: Bool) throws -> [Meme] {
        guard let children = listing["data"]?["children"]?.arrayValue else {
            throw OutboundError.badAnswer(upstream: upstream, reason: "not a Reddit listing")
        }
        return children.compactMap { child in
            guard let post = child["data"], let url = post["url_overridden_by_dest"]?.stringValue ?? post["url"]?.stringValue,
                post["is_self"] != .bool(true), post["is_video"] != .bool(true), post["is_gallery"] != .bool(true), isImage(url)
            else { return nil }
            return Meme(
                title: post["title"]?.stringValue ?? "", url: url, source: "reddit",
                subreddit: post["subreddit"]?.stringValue ?? subreddit, community: nil, author: post["author"]?.stringValue ?? "",
                score: Int(post["score"]?.intValue ?? 0), permalink: "https://www.reddit.com" + (post["permalink"]?.stringValue ?? ""),
                nsfw: post["over_18"] == .bool(true), cached: cached)
        }
    }

    /// The image posts of a Lemmy post list (`/api/v3/post/list`).
    static func fromLemmy(_ list: JSONValue, community: String, upstream: String, cached: Bool) throws -> [Meme] {
        guard let posts = list["posts"]?.arrayValue else { throw OutboundError.badAnswer(upstream: upstream, reason: "not a Lemmy post list") }
        return posts.compactMap { view in
            guard let post = view["post"], let url = post["url"]?.stringValue, isImage(url) else { return nil }
            return Meme(
                title: post["name"]?.stringValue ?? "", url: url, source: "lemmy", subreddit: "lemmy:\(community)", community: community,
                author: view["creator"]?["name"]?.stringValue ?? "", score: Int(view["counts"]?["score"]?.intValue ?? 0),
                permalink: post["ap_id"]?.stringValue ?? url, nsfw: post["nsfw"] == .bool(true), cached: cached)
        }
    }
}
