import Foundation
import PluginAPI

/// The daily meme: once a day at `daily_hour:daily_minute` in `daily_time_zone`, a meme from the daily pool is
/// posted to the live log. The day last posted is stored, so a restart neither repeats it nor, within the hour,
/// skips it.
struct DailyMeme: Sendable {
    let context: any CogContext<MemeConfig>
    let feed: MemeFeed

    static let migrations = [
        Migration("001_meme_state", "CREATE TABLE meme_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    ]

    /// How late after its minute a daily meme is still posted.
    static let catchUp: TimeInterval = 3600

    /// Posts today's meme if it is due and not yet posted; answers whether it posted.
    @discardableResult
    func postIfDue() async throws -> Bool {
        let config = try context.config()
        guard config.dailyEnabled else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: config.dailyTimeZone) ?? .gmt
        let now = context.now()
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        let today = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        var dueParts = parts
        dueParts.hour = config.dailyHour
        dueParts.minute = config.dailyMinute
        // Due from its minute for an hour (a restart within the hour still posts; a time set to one already past
        // today waits for tomorrow), once a day.
        guard let due = calendar.date(from: dueParts), now >= due, now.timeIntervalSince(due) < Self.catchUp,
            try await lastPostedDay() != today
        else { return false }
        try await post(config)
        try await context.database.execute(
            "INSERT INTO meme_state (key, value) VALUES ('daily_posted', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [today])
        return true
    }

    /// Picks from the daily pool and posts: the configured sources (or those chosen in `use_subreddits` /
    /// `use_lemmy`), `max_sources` of them, at least `min_score`, among the `pool_size` best.
    func post(_ config: MemeConfig) async throws {
        let subreddits = config.useSubreddits.isEmpty ? config.defaultSubreddits : config.useSubreddits
        let lemmy = config.useLemmy.isEmpty ? config.defaultLemmy : config.useLemmy
        var sources = subreddits.map { (MemeFeed.reddit, $0.lowercased()) }
        if config.memeSources.contains(MemeFeed.lemmy) { sources += lemmy.map { (MemeFeed.lemmy, $0.lowercased()) } }
        let meme = try await feed.pick(
            from: sources, allowNSFW: config.dailyAllowNSFW, minScore: config.minScore, maxSources: config.maxSources,
            poolSize: config.poolSize)
        _ = try await feed.post(meme, by: nil, note: "Daily meme")
    }

    private func lastPostedDay() async throws -> String? {
        try await context.database.read { connection in
            if case .text(let day)? = try connection.rows("SELECT value FROM meme_state WHERE key = 'daily_posted'", []).first?["value"] { return day }
            return nil
        }
    }
}
