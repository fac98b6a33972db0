import Foundation
import PluginAPI

/// One playlist's rank as the Tracker Network profile gives it.
struct PlaylistRank: Codable, Sendable, Equatable {
    /// "Champion II", or "Unranked".
    var tier: String
    /// 1 to 4 (Division I to IV), when ranked.
    var division: Int?
    /// The skill rating.
    var mmr: Int?
    var iconURL: String?

    enum CodingKeys: String, CodingKey {
        case tier, division, mmr
        case iconURL = "icon_url"
    }

    /// "Champion II Div III", as the app shows a rank.
    var display: String {
        guard let division, tier != "Unranked" else { return tier }
        return "\(tier) Div \(["I", "II", "III", "IV"][max(0, min(3, division - 1))])"
    }
}

/// A player's ranks, read from the Tracker Network v2 profile (`data.platformInfo`, `data.segments[]` of type
/// `playlist` with `stats.tier`, `stats.division`, `stats.rating`).
struct PlayerRanks: Codable, Sendable, Equatable {
    /// The player's name as the service spells it.
    var handle: String
    /// By playlist key: `1v1`, `2v2`, `3v3`, `4v4`, `hoops`, `rumble`, `dropshot`, `snowday`.
    var playlists: [String: PlaylistRank]

    /// The playlists the app shows, in its order.
    static let keys = ["1v1", "2v2", "3v3", "4v4", "hoops", "rumble", "dropshot", "snowday"]

    /// The playlist key a segment's name stands for ("Ranked Doubles 2v2" is `2v2`), or nil for the rest.
    static func key(forPlaylist name: String) -> String? {
        let name = name.lowercased()
        for key in keys where name.contains(key) { return key }
        return nil
    }

    /// Reads a profile answer; throws if it is not one.
    init(profile: JSONValue, upstream: String) throws {
        guard let data = profile["data"], let segments = data["segments"]?.arrayValue else {
            throw OutboundError.badAnswer(upstream: upstream, reason: "no data.segments in the profile")
        }
        handle = data["platformInfo"]?["platformUserHandle"]?.stringValue ?? ""
        playlists = [:]
        for segment in segments where segment["type"] == "playlist" {
            guard let name = segment["metadata"]?["name"]?.stringValue, let key = Self.key(forPlaylist: name),
                let stats = segment["stats"]
            else { continue }
            let tier = stats["tier"]?["metadata"]?["name"]?.stringValue ?? "Unranked"
            playlists[key] = PlaylistRank(
                tier: tier, division: stats["division"]?["value"]?.intValue.map { Int($0) + 1 },
                mmr: (stats["rating"]?["value"]?.doubleValue).map { Int($0.rounded()) },
                iconURL: stats["tier"]?["metadata"]?["iconUrl"]?.stringValue)
        }
    }

    init(handle: String, playlists: [String: PlaylistRank]) {
        self.handle = handle
        self.playlists = playlists
    }

    /// The order of tiers, lowest first, to find a player's highest.
    static let tierOrder: [String] = ["Unranked"]
        + ["Bronze", "Silver", "Gold", "Platinum", "Diamond", "Champion", "Grand Champion"].flatMap { tier in
            ["I", "II", "III"].map { "\(tier) \($0)" }
        } + ["Supersonic Legend"]

    /// The highest ranked playlist's icon.
    var highestIconURL: String? {
        playlists.values.max { (Self.tierOrder.firstIndex(of: $0.tier) ?? 0) < (Self.tierOrder.firstIndex(of: $1.tier) ?? 0) }?.iconURL
    }

    /// Document 004's `ranks`: `{"1v1": {tier, division, mmr}, ...}`.
    var documentRanks: JSONValue {
        .object(playlists.mapValues { rank in
            ["tier": .string(rank.tier), "division": rank.division.map { .int(Int64($0)) } ?? .null,
             "mmr": rank.mmr.map { .int(Int64($0)) } ?? .null]
        })
    }

    /// `{1v1: "Champion II", ...}`: the app's `tier_names` and an account's `ranks`.
    var tierNames: JSONValue { .object(playlists.mapValues { .string($0.tier) }) }
    /// `{1v1: "Champion II Div III", ...}`.
    var rankDisplay: JSONValue { .object(playlists.mapValues { .string($0.display) }) }
    var iconURLs: JSONValue { .object(playlists.compactMapValues { $0.iconURL.map(JSONValue.string) }) }

    /// The app's `stats` object.
    func appStats(platform: String) -> JSONValue {
        var stats: [String: JSONValue] = [
            "username": .string(handle), "platform": .string(platform.uppercased()), "tier_names": tierNames,
            "rank_display": rankDisplay, "icon_urls": iconURLs, "highest_icon_url": highestIconURL.map(JSONValue.string) ?? .null,
            "season_reward": .null,
        ]
        for key in Self.keys { stats["rank_\(key)"] = .string(playlists[key]?.display ?? "Unranked") }
        return .object(stats)
    }

    /// The playlists whose tier differs from `earlier`'s: (playlist, from, to).
    func changes(since earlier: PlayerRanks) -> [(playlist: String, from: String, to: String)] {
        Self.keys.compactMap { key in
            guard let now = playlists[key]?.tier, let before = earlier.playlists[key]?.tier, now != before else { return nil }
            return (key, before, now)
        }
    }
}
