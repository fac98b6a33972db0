import Foundation
import Synchronization

/// Token buckets by name: each holds up to its per-minute limit and refills at that limit per minute, so a caller
/// may burst up to the limit and then goes at the steady rate.
final class TokenBuckets: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    /// A charge's outcome: allowed with what is left in the tightest bucket, or refused by the bucket that needs the
    /// longest wait, with that wait.
    enum Outcome: Equatable {
        case allowed(remaining: Int)
        case refused(bucket: String, perMinute: Int, retryAfter: Duration)
    }

    private let buckets = Mutex<[String: Bucket]>([:])

    /// Takes `count` tokens from every named bucket, or from none if any of them has too few.
    func take(_ count: Int, from limits: [(name: String, perMinute: Int)], now: ContinuousClock.Instant = .now) -> Outcome {
        buckets.withLock { table in
            var refilled: [(String, Bucket, Int)] = []
            var longestWait = Duration.zero
            var refusing: (name: String, perMinute: Int)?
            for (name, perMinute) in limits {
                let rate = Double(max(1, perMinute)) / 60
                var bucket = table[name] ?? Bucket(tokens: Double(perMinute), updated: now)
                let elapsed = Double((now - bucket.updated).components.attoseconds) / 1e18 + Double((now - bucket.updated).components.seconds)
                bucket.tokens = min(Double(perMinute), bucket.tokens + elapsed * rate)
                bucket.updated = now
                if bucket.tokens < Double(count) {
                    // A charge larger than the whole bucket can never pass; ask for a full minute rather than forever.
                    let wait = Duration.milliseconds(Int64(((count > perMinute ? 60 : (Double(count) - bucket.tokens) / rate) * 1000).rounded(.up)))
                    if wait > longestWait {
                        longestWait = wait
                        refusing = (name, perMinute)
                    }
                }
                refilled.append((name, bucket, perMinute))
            }
            if table.count > 50_000 { sweep(&table, now: now) }
            if let refusing {
                for (name, bucket, _) in refilled { table[name] = bucket }
                return .refused(bucket: refusing.name, perMinute: refusing.perMinute, retryAfter: longestWait)
            }
            var remaining = Int.max
            for (name, var bucket, _) in refilled {
                bucket.tokens -= Double(count)
                table[name] = bucket
                remaining = min(remaining, Int(bucket.tokens))
            }
            return .allowed(remaining: remaining == .max ? 0 : remaining)
        }
    }

    /// Drops buckets untouched for two minutes (they would be full again), so retired keys do not pile up.
    private func sweep(_ table: inout [String: Bucket], now: ContinuousClock.Instant) {
        table = table.filter { now - $0.value.updated < .seconds(120) }
    }
}

/// Open connections by name, each under its own cap.
final class ConnectionCounts: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// Counts one more connection for every name, or for none if any is at its cap; answers whether it was counted.
    func open(_ limits: [(name: String, max: Int)]) -> Bool {
        counts.withLock { table in
            guard limits.allSatisfy({ table[$0.name, default: 0] < $0.max }) else { return false }
            for (name, _) in limits { table[name, default: 0] += 1 }
            return true
        }
    }

    /// Counts one connection less for every name.
    func close(_ names: [String]) {
        counts.withLock { table in
            for name in names {
                table[name, default: 1] -= 1
                if table[name]! <= 0 { table[name] = nil }
            }
        }
    }
}
