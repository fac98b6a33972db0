import Foundation
import GuildhallTesting
import MemesCog
import PluginAPI
import XCTest

@testable import GuildhallServer

/// The Memes cog against fake Reddit, Lemmy and Imgflip on 127.0.0.1: document 004's routes and the admin app's
/// (CONTRACT.md "Memes", calls 50-61), sent as the app sends them.
final class MemesTests: XCTestCase {
    static let catalogue: [any Cog.Type] = [MemesCog.self]

    static func host(_ upstream: FakeUpstream, _ extra: [String: JSONValue] = [:]) -> TestHost {
        TestHost(enabled: ["memes"]) { config in
            config.outbound.backoffBaseMilliseconds = 10
            config.outbound.backoffMaxMilliseconds = 40
            var section: [String: JSONValue] = [
                "reddit_base_url": .string(upstream.baseURL), "lemmy_base_url": .string(upstream.baseURL),
                "imgflip_base_url": .string(upstream.baseURL), "default_subreddits": ["memes"], "default_lemmy": ["lemmy.world@memes"],
                "meme_channel_id": "1234567890123456789",
            ]
            section.merge(extra) { $1 }
            config.runtimeSections["meme"] = .object(section)
        }
    }

    static func app(_ server: LiveServer, _ method: HTTPMethod, _ path: String, _ token: String, _ body: JSONValue? = nil) async throws -> LiveServer.Reply {
        try await AdminAppTicketsTests.app(server, method, path, token, body)
    }

    func testRandomMemesAreImagesSafeAndNotRepeated() async throws {
        try await FakeUpstream.run { upstream in
            FakeMemeServices.serve(on: upstream)
            let host = Self.host(upstream)
            defer { host.removeFolder() }
            try await host.run(catalogue: Self.catalogue) { server in
                let user = try await server.token("user")
                var served: [String] = []
                for _ in 0..<2 {
                    let meme = try await server.request(.GET, "/api/memes/random?source=reddit", token: user)
                    XCTAssertEqual(meme.status, 200)
                    for field in ["title", "url", "source", "subreddit", "author", "permalink"] { XCTAssertNotNil(meme.json[field]?.stringValue, field) }
                    XCTAssertEqual(meme.json["nsfw"], false)
                    XCTAssertEqual(meme.json["source"], "reddit")
                    served.append(meme.json["url"]?.stringValue ?? "")
                }
                XCTAssertEqual(Set(served), ["https://i.redd.it/cat.jpg", "https://i.redd.it/dog.png"], "only the safe images, each once")
                let exhausted = try await server.request(.GET, "/api/memes/random?source=reddit", token: user)
                XCTAssertEqual(exhausted.status, 404)
                XCTAssertEqual(exhausted.error, "no_memes")
                XCTAssertEqual(upstream.requests.filter { $0.path.hasPrefix("/r/") }.count, 1, "the listing was cached")

                let lemmy = try await server.request(.GET, "/api/memes/random?community=lemmy.world@memes", token: user)
                XCTAssertEqual(lemmy.json["community"], "lemmy.world@memes")
                XCTAssertEqual(lemmy.json["url"], "https://lemmy.world/pictrs/image/frog.webp")
                XCTAssertEqual(lemmy.json["author"], "fediposter")
                let unknown = try await server.request(.GET, "/api/memes/random?subreddit=aww", token: user)
                XCTAssertEqual(unknown.error, "unknown_source")
                XCTAssertEqual(unknown.json["available_subreddits"], ["memes"])
                try await assertEqual(await server.request(.GET, "/api/memes/random?source=tumblr", token: user).json["field"], "source")

                // 51, 52, 50: the app's calls.
                let sources = try await Self.app(server, .GET, "/api/meme-sources", user)
                XCTAssertEqual(sources.json["sources"], ["subreddits": ["memes"], "lemmy": ["lemmy.world@memes"]])
                let fromLemmy = try await Self.app(server, .GET, "/api/test/meme-from-source?source=lemmy.world%40memes", user)
                XCTAssertEqual(fromLemmy.status, 404, "its one image was served already")
                let random = try await Self.app(server, .GET, "/api/test/random-meme", user)
                XCTAssertEqual(random.status, 404, "every safe image was served")
                let reply = try await server.request(.POST, "/api/bot/messages", token: user, json: ["content": "!meme memes"])
                XCTAssertEqual(reply.json["reply"], "No meme found that has not been shown lately; try another source.")
            }
        }
    }

    func testTheAppsGeneratorSendAndDailyScreens() async throws {
        try await FakeUpstream.run { upstream in
            FakeMemeServices.serve(on: upstream)
            let host = Self.host(upstream)
            defer { host.removeFolder() }
            try await host.run(catalogue: Self.catalogue) { server in
                let (user, admin) = (try await server.token("user"), try await server.token("admin"))
                // 54, 55: templates, cached, and refreshed by an admin.
                let templates = try await Self.app(server, .GET, "/api/meme-generator/templates", user)
                XCTAssertEqual(templates.status, 200)
                let first = templates.json["templates"]?.arrayValue?.first
                XCTAssertEqual(first?["name"], "Drake Hotline Bling")
                XCTAssertNotNil(first?["url"]?.stringValue)
                XCTAssertEqual(first?["box_count"], 2)
                try await assertEqual(await server.request(.GET, "/api/memes/templates", token: user).json["data"]?["memes"]?.arrayValue?.count, 2)
                XCTAssertEqual(upstream.requests.filter { $0.path == "/get_memes" }.count, 1, "cached for templates_cache_duration")
                try await assertEqual(await Self.app(server, .POST, "/api/meme-generator/templates/refresh", user).status, 403)
                try await assertEqual(await Self.app(server, .POST, "/api/meme-generator/templates/refresh", admin).status, 200)
                XCTAssertEqual(upstream.requests.filter { $0.path == "/get_memes" }.count, 2)

                // 56: captions need the account; the password never shows.
                let unconfigured = try await Self.app(server, .POST, "/api/meme-generator/generate", user, ["template_id": "181913649", "texts": ["a", "b"]])
                XCTAssertEqual(unconfigured.status, 503)
                XCTAssertEqual(unconfigured.error, "imgflip_not_configured")
                _ = try await Self.app(server, .PUT, "/api/config/meme", admin, ["imgflip_username": "user", "imgflip_password": "wrong"])
                let refused = try await Self.app(server, .POST, "/api/meme-generator/generate", user, ["template_id": "181913649", "texts": ["a"]])
                XCTAssertEqual(refused.status, 502)
                XCTAssertEqual(refused.error, "caption_failed")
                _ = try await Self.app(server, .PUT, "/api/config/meme", admin, ["imgflip_password": "secret"])
                let made = try await Self.app(server, .POST, "/api/meme-generator/generate", user, ["template_id": "181913649", "texts": ["top", "bottom"]])
                XCTAssertEqual(made.status, 200)
                XCTAssertEqual(made.json["url"], "https://i.imgflip.com/made-181913649-top%7Cbottom.jpg")
                let boxes = try await Self.app(server, .POST, "/api/meme-generator/generate", user, ["template_id": 87743020, "texts": ["a", "b", "c"]])
                XCTAssertEqual(boxes.json["url"], "https://i.imgflip.com/made-87743020-a%7Cb%7Cc.jpg", "three texts go as boxes")
                try await assertEqual(await Self.app(server, .POST, "/api/meme-generator/generate", user, ["texts": ["a"]]).json["field"], "template_id")
                let config = try await Self.app(server, .GET, "/api/config/meme", admin)
                XCTAssertEqual(config.json["imgflip_password"], "********")

                // 53, 57: "send to Discord" posts to the live log.
                let sent = try await Self.app(server, .POST, "/api/test/send-meme", user, ["meme": [
                    "title": "Cat tax", "url": "https://i.redd.it/cat.jpg", "source": "reddit", "subreddit": "memes", "author": "poster",
                    "score": 900, "permalink": "https://www.reddit.com/r/memes/comments/1/", "nsfw": false,
                ]])
                XCTAssertEqual(sent.status, 200)
                XCTAssertNotNil(sent.json["message"]?.stringValue)
                XCTAssertNotNil(sent.json["message_id"]?.stringValue)
                let posted = try await Self.app(server, .POST, "/api/meme-generator/post-to-discord", user, [
                    "meme_url": .string(made.json["url"]?.stringValue ?? ""), "template_name": "Drake Hotline Bling", "texts": ["top", "bottom"],
                ])
                XCTAssertEqual(posted.status, 200)
                XCTAssertEqual(posted.json["channel_id"], "1234567890123456789")
                let log = try await server.request(.GET, "/api/live-log/messages?limit=10", token: user).json["messages"]?.arrayValue ?? []
                XCTAssertTrue(log.contains { $0["metadata"]?["image_url"] == "https://i.redd.it/cat.jpg" }, "\(log)")
                try await assertEqual(
                    await Self.app(server, .POST, "/api/test/send-meme", user, ["meme": ["title": "x", "url": "javascript:alert(1)"]]).status, 400)

                // 58-61: the daily meme's settings, in the app's keys.
                let daily = try await Self.app(server, .GET, "/api/daily-meme/config", user).json
                for key in ["enabled", "allow_nsfw"] { XCTAssertNotNil(daily[key].flatMap { if case .bool = $0 { $0 } else { nil } }, key) }
                for key in ["hour", "minute", "min_score", "max_sources", "pool_size"] { XCTAssertNotNil(daily[key]?.intValue, key) }
                XCTAssertEqual(daily["available_subreddits"], ["memes"])
                XCTAssertEqual(daily["use_subreddits"], .null)
                let changed = try await Self.app(server, .POST, "/api/daily-meme/config", admin, [
                    "enabled": true, "hour": 9, "minute": 30, "channel_id": 1111111111111111111, "role_id": nil, "allow_nsfw": false,
                    "subreddits": ["memes", "me_irl"], "lemmy_communities": ["lemmy.world@memes"],
                ])
                XCTAssertEqual(changed.status, 200)
                let pool = try await Self.app(server, .POST, "/api/daily-meme/config", admin, [
                    "min_score": 10, "max_sources": 2, "pool_size": 20, "use_subreddits": ["memes"], "use_lemmy": nil,
                ])
                XCTAssertEqual(pool.status, 200)
                let now = try await Self.app(server, .GET, "/api/daily-meme/config", user).json
                XCTAssertEqual(now["hour"], 9)
                XCTAssertEqual(now["channel_id"], "1111111111111111111")
                XCTAssertEqual(now["available_subreddits"], ["memes", "me_irl"])
                XCTAssertEqual(now["use_subreddits"], ["memes"])
                XCTAssertEqual(now["min_score"], 10)
                let outOfRange = try await Self.app(server, .POST, "/api/daily-meme/config", admin, ["hour": 25])
                XCTAssertEqual(outOfRange.status, 400)
                XCTAssertTrue(outOfRange.json["message"]?.stringValue?.contains("daily_hour': expected a number from 0 to 23") ?? false, "\(outOfRange.json)")
                try await assertEqual(await Self.app(server, .POST, "/api/daily-meme/config", admin, ["colour": "pink"]).json["field"], "colour")
                try await assertEqual(await Self.app(server, .POST, "/api/daily-meme/config", user, ["hour": 1]).status, 403)
                let history = try await server.request(.GET, "/api/config/meme/history", token: admin).json["versions"]?.arrayValue ?? []
                XCTAssertEqual(history.first?["changed_by"], "admin", "kept in the section's history")

                try await assertEqual(await Self.app(server, .POST, "/api/test/daily-meme", user).status, 403)
                let test = try await Self.app(server, .POST, "/api/test/daily-meme", admin)
                XCTAssertEqual(test.status, 200)
                XCTAssertNotNil(test.json["message"]?.stringValue)
                try await assertEqual(await Self.app(server, .POST, "/api/daily-meme/config/reset", admin).status, 200)
                try await assertEqual(await Self.app(server, .GET, "/api/daily-meme/config", user).json["hour"], 12)
            }
        }
    }

    func testADownUpstreamAnswersFromTheCacheOrNamesItself() async throws {
        try await FakeUpstream.run { upstream in
            FakeMemeServices.serve(on: upstream)
            let host = Self.host(upstream, ["listing_cache_seconds": 0, "recent_memory": 0])
            defer { host.removeFolder() }
            try await host.run(catalogue: Self.catalogue) { server in
                let user = try await server.token("user")
                try await assertEqual(await server.request(.GET, "/api/memes/random?source=reddit", token: user).status, 200)
                upstream.fail(.status(503))
                let stale = try await server.request(.GET, "/api/memes/random?source=reddit", token: user)
                XCTAssertEqual(stale.status, 200, "the last listing stands in")
                XCTAssertEqual(stale.json["cached"], true)
                let lemmy = try await server.request(.GET, "/api/memes/random?source=lemmy", token: user)
                XCTAssertEqual(lemmy.status, 502)
                XCTAssertEqual(lemmy.json["upstream"], "lemmy")
                upstream.fail(.garbage)
                try await assertEqual(await server.request(.GET, "/api/meme-generator/templates", token: user).error, "bad_upstream_answer")
                upstream.recover()
            }
        }
    }
}
