import Foundation
import GuildhallTesting
import PluginAPI
import Synchronization

/// Reddit, Lemmy and Imgflip as a `FakeUpstream` answers them, with the services' JSON.
enum FakeMemeServices {
    /// A Reddit listing post.
    static func redditPost(
        _ title: String, url: String, score: Int, nsfw: Bool = false, isSelf: Bool = false, isVideo: Bool = false, gallery: Bool = false
    ) -> JSONValue {
        ["kind": "t3", "data": [
            "title": .string(title), "url": .string(url), "subreddit": "memes", "author": "poster", "score": .int(Int64(score)),
            "permalink": .string("/r/memes/comments/\(abs(title.hashValue))/"), "over_18": .bool(nsfw), "is_self": .bool(isSelf),
            "is_video": .bool(isVideo), "is_gallery": .bool(gallery),
        ]]
    }

    /// Two usable memes and one of each kind that is not.
    static let redditListing: JSONValue = ["kind": "Listing", "data": ["children": [
        redditPost("Cat tax", url: "https://i.redd.it/cat.jpg", score: 900),
        redditPost("Dog days", url: "https://i.redd.it/dog.png", score: 400),
        redditPost("Spicy", url: "https://i.redd.it/spicy.jpg", score: 950, nsfw: true),
        redditPost("Just text", url: "https://www.reddit.com/r/memes/comments/x/", score: 990, isSelf: true),
        redditPost("A clip", url: "https://v.redd.it/clip", score: 980, isVideo: true),
        redditPost("An album", url: "https://www.reddit.com/gallery/abc", score: 970, gallery: true),
    ]]]

    static let lemmyList: JSONValue = ["posts": [
        ["post": ["id": 1, "name": "Federated frog", "url": "https://lemmy.world/pictrs/image/frog.webp", "nsfw": false,
                  "ap_id": "https://lemmy.world/post/1"],
         "creator": ["name": "fediposter"], "community": ["name": "memes"], "counts": ["score": 120]],
        ["post": ["id": 2, "name": "A link", "url": "https://example.org/article", "nsfw": false, "ap_id": "https://lemmy.world/post/2"],
         "creator": ["name": "linker"], "community": ["name": "memes"], "counts": ["score": 500]],
    ]]

    static let templates: JSONValue = ["success": true, "data": ["memes": [
        ["id": "181913649", "name": "Drake Hotline Bling", "url": "https://i.imgflip.com/30b1gx.jpg", "width": 1200, "height": 1200, "box_count": 2],
        ["id": "87743020", "name": "Two Buttons", "url": "https://i.imgflip.com/1g8my4.jpg", "width": 600, "height": 908, "box_count": 3],
    ]]]

    /// Serves all three on `upstream`; `caption_image` checks the account `user`/`secret`.
    static func serve(on upstream: FakeUpstream) {
        upstream.answer(.get, "/r/*") { _ in .json(redditListing) }
        upstream.answer(.get, "/api/v3/post/list") { request in
            request.query["community_name"] == "memes@lemmy.world" ? .json(lemmyList) : .json(["error": "couldnt_find_community"], status: 404)
        }
        upstream.answer(.get, "/get_memes") { _ in .json(templates) }
        upstream.answer(.post, "/caption_image") { request in
            let form = Dictionary(
                String(decoding: request.body, as: UTF8.self).split(separator: "&").map { pair -> (String, String) in
                    let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                    return (parts[0], parts.count > 1 ? parts[1] : "")
                }, uniquingKeysWith: { $1 })
            guard form["username"] == "user", form["password"] == "secret" else {
                return .json(["success": false, "error_message": "Invalid username/password"])
            }
            let texts = (0..<5).compactMap { form["text\($0)"] ?? form["boxes[\($0)][text]"] }.joined(separator: "|")
            return .json(["success": true, "data": [
                "url": .string("https://i.imgflip.com/made-\(form["template_id"] ?? "?")-\(texts.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "").jpg"),
                "page_url": "https://imgflip.com/i/made",
            ]])
        }
    }
}
