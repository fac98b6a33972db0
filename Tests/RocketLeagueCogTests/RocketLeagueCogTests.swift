import Foundation
import GuildhallTesting
import PluginAPI
import RocketLeagueCog
import XCTest

/// The Rocket League cog on the harness, its upstream a `FakeUpstream`: what a cog author's test looks like.
final class RocketLeagueCogTests: XCTestCase {
    func testTheHarnessCallsARealFakeUpstreamThroughTheHostsClient() async throws {
        try await FakeUpstream.run { upstream in
            upstream.answer(.get, "/standard/profile/epic/*") { _ in
                .json(["data": [
                    "platformInfo": ["platformUserHandle": "Zed"],
                    "segments": [["type": "playlist", "metadata": ["name": "Ranked Standard 3v3"],
                                  "stats": ["tier": ["metadata": ["name": "Diamond I"]], "division": ["value": 0], "rating": ["value": 980]]]],
                ]])
            }
            let harness = try await CogHarness(
                RocketLeagueCog.self, config: ["api_base_url": .string(upstream.baseURL), "rank_cache_ttl_seconds": 60])
            let user = Identity.person(.user, id: 5, name: "ann")
            let stats = await harness.request(.get, "/api/rocket-league/stats/epic/Zed", as: user)
            XCTAssertEqual(stats.status, .ok)
            XCTAssertEqual(stats.json["ranks"]?["3v3"], ["tier": "Diamond I", "division": 1, "mmr": 980])
            let reply = try await harness.command("!rank epic Zed", as: user)
            XCTAssertEqual(reply, "Zed (epic): 3v3: Diamond I Div I")
            XCTAssertEqual(upstream.requests.count, 1, "the command's lookup was cached")

            upstream.fail(.status(503))
            let other = await harness.request(.get, "/api/rocket-league/stats/epic/Other", as: user)
            XCTAssertEqual(other.status, .badGateway)
            XCTAssertEqual(other.json["upstream"], "tracker-network")
            await harness.tearDown()
        }
    }
}
