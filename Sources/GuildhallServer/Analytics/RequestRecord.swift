import Foundation
import PluginAPI

/// One answered request as analytics keeps it: what was called, how it went, who called and from which client.
struct RequestRecord: Sendable {
    var at: Date
    var method: String
    /// The route template (`/api/tickets/:id`), never the concrete path, so figures group by endpoint.
    var route: String
    var status: Int
    var latency: Duration
    var identity: Identity?
    var guildID: Int64?
    var tokenDigest: String?
    var client: ClientInfo
}

/// What the client says about itself in headers (the admin app sends all of them on every request).
struct ClientInfo: Sendable {
    var appVersion: String?
    var platform: String?
    var deviceInfo: String? = nil
    var sessionID: String? = nil
    var ip: String? = nil
    var userAgent: String? = nil
}

/// A login, logout, failed login or an activity tracked through `POST /api/v1/analytics/track/activity`.
struct ActivityRecord: Sendable {
    var at: Date
    var userID: Int64?
    var username: String?
    var action: String
    var endpoint: String?
    var client: ClientInfo
    var extraData: JSONValue?
}

/// Latency histogram bounds in milliseconds; a request falls in the first bucket whose bound it does not exceed,
/// the last bucket has no bound. Stored as one column per bucket so rows merge with plain SQL addition.
enum LatencyBuckets {
    static let bounds: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
    static var count: Int { bounds.count + 1 }
    static let columns = (0..<count).map { "b\($0)" }

    static func index(milliseconds: Double) -> Int {
        bounds.firstIndex { milliseconds <= $0 } ?? bounds.count
    }

    /// The `fraction` quantile (0.5, 0.95) of a histogram, interpolated linearly inside its bucket; nil when empty.
    static func quantile(_ fraction: Double, of counts: [Int64]) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = fraction * Double(total)
        var seen: Int64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            if Double(seen + count) >= rank {
                let lower = index == 0 ? 0 : bounds[index - 1]
                let upper = index < bounds.count ? bounds[index] : lower * 2
                let within = (rank - Double(seen)) / Double(count)
                return lower + (upper - lower) * min(1, max(0, within))
            }
            seen += count
        }
        return bounds.last
    }
}
