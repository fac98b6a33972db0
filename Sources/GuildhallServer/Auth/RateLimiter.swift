import Foundation
import Synchronization

/// Counts attempts per key in a sliding window; past `limit` it answers how long until the next attempt may go.
final class RateLimiter: Sendable {
    private let limit: Int
    private let window: Duration
    private let attempts = Mutex<[String: [ContinuousClock.Instant]]>([:])

    init(limit: Int, window: Duration) {
        self.limit = max(1, limit)
        self.window = window
    }

    /// Records an attempt for `key`; nil if it is allowed, else the wait before the oldest attempt leaves the window.
    func attempt(_ key: String, now: ContinuousClock.Instant = .now) -> Duration? {
        attempts.withLock { table in
            var recent = (table[key] ?? []).filter { now - $0 < window }
            defer {
                table[key] = recent.isEmpty ? nil : recent
                // Keys are only rewritten when they are used again, so sweep the ones whose attempts have all left the
                // window before a spray of addresses or user names can grow the table without bound.
                if table.count > 10_000 {
                    table = table.filter { _, attempts in attempts.last.map { now - $0 < window } ?? false }
                }
            }
            if recent.count >= limit, let oldest = recent.first {
                return window - (now - oldest)
            }
            recent.append(now)
            return nil
        }
    }

    /// How many keys are tracked.
    var keyCount: Int { attempts.withLock { $0.count } }

    /// Forgets `key` (a successful login clears the failures of its user name).
    func reset(_ key: String) {
        attempts.withLock { _ = $0.removeValue(forKey: key) }
    }
}
