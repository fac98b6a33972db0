import Foundation
import Logging
import GuildhallTesting
import PluginAPI
import Synchronization
import NIOFoundationCompat
import XCTest

@testable import GuildhallServer


final class CacheTests: XCTestCase {
    func testLeastRecentlyUsedIsEvicted() {
        let cache = LRUCache(capacity: 2)
        cache.set(1, forKey: "a", ttl: nil, tags: [])
        cache.set(2, forKey: "b", ttl: nil, tags: [])
        XCTAssertEqual(cache.value(forKey: "a", as: Int.self), 1)  // a is now the most recent
        cache.set(3, forKey: "c", ttl: nil, tags: [])
        XCTAssertNil(cache.value(forKey: "b", as: Int.self))
        XCTAssertEqual(cache.value(forKey: "a", as: Int.self), 1)
        XCTAssertEqual(cache.value(forKey: "c", as: Int.self), 3)
        let stats = cache.statistics
        XCTAssertEqual(stats.entries, 2)
        XCTAssertEqual(stats.hits, 3)
        XCTAssertEqual(stats.misses, 1)
        XCTAssertEqual(stats.evictions, 1)
    }

    func testEntriesExpireAndTagsInvalidate() async throws {
        let cache = LRUCache(capacity: 10)
        cache.set("short", forKey: "t", ttl: .milliseconds(30), tags: [])
        cache.set("x", forKey: "u1", ttl: nil, tags: ["user:1"])
        cache.set("y", forKey: "u1b", ttl: nil, tags: ["user:1", "other"])
        cache.set("z", forKey: "u2", ttl: nil, tags: ["user:2"])
        XCTAssertEqual(cache.value(forKey: "t", as: String.self), "short")
        try await Task.sleep(for: .milliseconds(60))
        XCTAssertNil(cache.value(forKey: "t", as: String.self))
        cache.invalidate(tag: "user:1")
        XCTAssertNil(cache.value(forKey: "u1", as: String.self))
        XCTAssertNil(cache.value(forKey: "u1b", as: String.self))
        XCTAssertEqual(cache.value(forKey: "u2", as: String.self), "z")
        XCTAssertNil(cache.value(forKey: "u2", as: Int.self), "a wrong type is a miss")
    }

    func testCogNamespacesDoNotCollide() {
        let base = LRUCache(capacity: 10)
        let a = NamespacedCache(base: base, namespace: "cog:a:")
        let b = NamespacedCache(base: base, namespace: "cog:b:")
        a.set(1, forKey: "k")
        b.set(2, forKey: "k")
        XCTAssertEqual(a.value(forKey: "k", as: Int.self), 1)
        XCTAssertEqual(b.value(forKey: "k", as: Int.self), 2)
        base.removeAll(withPrefix: "cog:a:")
        XCTAssertNil(a.value(forKey: "k", as: Int.self))
        XCTAssertEqual(b.value(forKey: "k", as: Int.self), 2)
    }
}
