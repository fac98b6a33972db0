import Foundation
import GuildhallTesting
import MemesCog
import PluginAPI
import XCTest

final class MemesCogTests: XCTestCase {
    func testSourcesFollowTheSettings() async throws {
        let harness = try await CogHarness(MemesCog.self, config: ["default_subreddits": ["wholesomememes"]])
        let user = Identity.person(.user)
        let fromFile = await harness.request(.get, "/api/memes/sources", as: user)
        XCTAssertEqual(fromFile.json["subreddits"], ["wholesomememes"])
        try await harness.updateConfig(["default_lemmy": ["memes@lemmy.ml"]])
        let afterChange = await harness.request(.get, "/api/memes/sources", as: user)
        XCTAssertEqual(afterChange.json["lemmy_communities"], ["memes@lemmy.ml"])
        let anonymous = await harness.request(.get, "/api/memes/sources")
        XCTAssertEqual(anonymous.status, .unauthorized)
        await harness.tearDown()
    }

    func testTheDailyMemeFiresOnceAtItsTimeOnTheHarnessClock() async throws {
        try await FakeUpstream.run { upstream in
            upstream.answer(.get, "/r/memes/hot.json") { _ in
                .json(["data": ["children": [
                    ["data": ["title": "Daily cat", "url": "https://i.redd.it/daily.jpg", "subreddit": "memes", "author": "a", "score": 500,
                              "permalink": "/r/memes/comments/1/", "over_18": false]],
                ]]])
            }
            // Due five minutes from now, in UTC.
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let due = calendar.dateComponents([.hour, .minute], from: Date().addingTimeInterval(300))
            let harness = try await CogHarness(MemesCog.self, config: [
                "reddit_base_url": .string(upstream.baseURL), "default_subreddits": ["memes"], "meme_sources": ["reddit"],
                "daily_enabled": true, "daily_hour": .int(Int64(due.hour!)), "daily_minute": .int(Int64(due.minute!)), "min_score": 100,
            ])
            var errors = await harness.advance(by: .seconds(120))
            XCTAssertEqual(errors.count, 0)
            XCTAssertEqual(harness.liveLogPosts.count, 0, "not yet")
            errors = await harness.advance(by: .seconds(240))
            XCTAssertEqual(errors.count, 0)
            XCTAssertEqual(harness.liveLogPosts.count, 1, "posted at its time")
            XCTAssertEqual(harness.liveLogPosts.first?["metadata"]?["image_url"], "https://i.redd.it/daily.jpg")
            XCTAssertEqual(harness.publishedEvents.map(\.name), ["meme.posted"])
            _ = await harness.advance(by: .seconds(600))
            XCTAssertEqual(harness.liveLogPosts.count, 1, "once a day")
            await harness.tearDown()

            // A time set to one two hours past waits for tomorrow.
            let past = calendar.dateComponents([.hour, .minute], from: Date().addingTimeInterval(-7200))
            let late = try await CogHarness(MemesCog.self, config: [
                "reddit_base_url": .string(upstream.baseURL), "default_subreddits": ["memes"], "meme_sources": ["reddit"],
                "daily_enabled": true, "daily_hour": .int(Int64(past.hour!)), "daily_minute": .int(Int64(past.minute!)), "min_score": 100,
            ])
            _ = await late.advance(by: .seconds(120))
            XCTAssertEqual(late.liveLogPosts.count, 0)
            await late.tearDown()
        }
    }
}
