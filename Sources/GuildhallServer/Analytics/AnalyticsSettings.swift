import PluginAPI

/// `analytics`: what the host records about its use, for `/api/stats`, `/api/v1/analytics/*` and the admin app's
/// active sessions. Records are buffered and written in batches off the request path.
public struct AnalyticsSettings: CogConfiguration {
    /// Off: no request, session or activity is recorded (the analytics endpoints still answer, from what is stored).
    public var enabled = true
    /// How often buffered records are written.
    public var flushIntervalMilliseconds = 1000
    /// Records buffered between two writes before new ones are dropped (and counted) rather than using more memory.
    public var bufferLimit = 50_000
    /// A session with no request for this long has ended.
    public var sessionTimeoutMinutes = 30
    /// Records older than this are deleted by the daily job (daily figures are kept).
    public var retentionDays = 90
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "flush_interval_ms": 10...3_600_000,
            "buffer_limit": 1...10_000_000,
            "session_timeout_minutes": 1...525_600,
            "retention_days": 1...36_500,
        ]
    }
    enum CodingKeys: String, CodingKey {
        case enabled, flushIntervalMilliseconds = "flush_interval_ms", bufferLimit = "buffer_limit"
        case sessionTimeoutMinutes = "session_timeout_minutes", retentionDays = "retention_days"
    }
}
