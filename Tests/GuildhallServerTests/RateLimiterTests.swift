import Foundation
import Logging
import GuildhallTesting
import PluginAPI
import Synchronization
import NIOFoundationCompat
import XCTest

@testable import GuildhallServer


final class RateLimiterTests: XCTestCase {
    func testLimitsPerKeyAndForgetsStaleKeys() {
        let limiter = RateLimiter(limit: 2, window: .seconds(60))
        let start = ContinuousClock.now
        XCTAssertNil(limiter.attempt("a", now: start))
        XCTAssertNil(limiter.attempt("a", now: start))
        XCTAssertNotNil(limiter.attempt("a", now: start + .seconds(1)), "third attempt in the window")
        XCTAssertNil(limiter.attempt("b", now: start + .seconds(1)), "keys are separate")
        XCTAssertNil(limiter.attempt("a", now: start + .seconds(61)), "the window moved on")
        for index in 0..<10_001 { _ = limiter.attempt("spray-\(index)", now: start) }
        XCTAssertNil(limiter.attempt("late", now: start + .seconds(200)))
        XCTAssertEqual(limiter.keyCount, 1, "a spray of stale keys is swept")
    }
}
