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
}
