import Foundation
import GuildhallServer
import PluginAPI
import Synchronization
import XCTest

@testable import TicketsCog

/// The list cache's promises: readers missing at once share one computation; a change empties it; a listing
/// computed across a change is never kept.
final class TicketListCacheTests: XCTestCase {
    let reader = Identity(userID: 1, username: "admin", role: .admin)
    let guild = GuildScope(id: 1, name: "Default")

    static func text(_ response: CogResponse) -> String {
        guard case .bytes(let buffer) = response.body else { return "(streamed)" }
        return String(buffer: buffer)
    }

    func testReadersMissingTogetherShareOneComputation() async throws {
        let lists = TicketListCache(cache: LRUCache(capacity: 100))
        let runs = Counter()
        let (reader, guild) = (self.reader, self.guild)
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    let body = try await lists.listing(for: reader, in: guild, list: "all") {
                        let run = runs.value.add(1, ordering: .relaxed).newValue
                        try await Task.sleep(for: .milliseconds(50))
                        return CogResponse.text("run \(run)")
                    }
                    return Self.text(body)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(runs.value.load(ordering: .relaxed), 1)
        XCTAssertEqual(Set(answers), ["run 1"])

        lists.changed()
        let fresh = try await lists.listing(for: reader, in: guild, list: "all") { CogResponse.text("run 2") }
        XCTAssertEqual(Self.text(fresh), "run 2")
    }

    func testAListingComputedAcrossAChangeIsNotKept() async throws {
        let lists = TicketListCache(cache: LRUCache(capacity: 100))
        let stale = try await lists.listing(for: reader, in: guild, list: "all") {
            lists.changed()  // a message arrives while the listing is read
            return CogResponse.text("before the change")
        }
        XCTAssertEqual(Self.text(stale), "before the change")
        let next = try await lists.listing(for: reader, in: guild, list: "all") { CogResponse.text("after the change") }
        XCTAssertEqual(Self.text(next), "after the change")
    }
}

private final class Counter: Sendable {
    let value = Atomic(0)
}
