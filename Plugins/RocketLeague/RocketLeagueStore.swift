import Foundation
import PluginAPI

/// Linked accounts: one Rocket League account per person and guild, with the ranks seen at the last check.
struct RocketLeagueStore: Sendable {
    let database: any Database

    static let migrations = [
        Migration(
            "001_rl_accounts",
            """
            CREATE TABLE rl_accounts (
                guild_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL,
                user_name TEXT NOT NULL,
                platform TEXT NOT NULL,
                rl_username TEXT NOT NULL,
                ranks TEXT,
                last_fetched TEXT,
                linked_at TEXT NOT NULL,
                PRIMARY KEY (guild_id, user_id)
            )
            """)
    ]

    struct Account: Codable, Sendable {
        var guildID: Int64
        var userID: Int64
        var userName: String
        var platform: String
        var rlUsername: String
        /// `PlayerRanks` as JSON text.
        var ranks: String?
        var lastFetched: Date?
        var linkedAt: Date

        enum CodingKeys: String, CodingKey {
            case platform, ranks
            case guildID = "guild_id", userID = "user_id", userName = "user_name", rlUsername = "rl_username"
            case lastFetched = "last_fetched", linkedAt = "linked_at"
        }

        var playerRanks: PlayerRanks? { ranks.flatMap { try? JSONValue(parsing: Data($0.utf8)).decode(PlayerRanks.self) } }

        /// The app's account view: `{platform, username, ranks, rank_display, icon_urls, last_fetched}`.
        var appView: JSONValue {
            let ranks = playerRanks
            return [
                "platform": .string(platform), "username": .string(rlUsername), "ranks": ranks?.tierNames ?? [:],
                "rank_display": ranks?.rankDisplay ?? [:], "icon_urls": ranks?.iconURLs ?? [:],
                "last_fetched": lastFetched.map { .string(Timestamp.string(from: $0)) } ?? .null,
            ]
        }
    }

    func account(of user: Int64, in guild: GuildScope) async throws -> Account? {
        try await database.read {
            try $0.queryOne(Account.self, "SELECT * FROM rl_accounts WHERE guild_id = ? AND user_id = ?", [guild.id, user])
        }
    }

    /// Every account of `guild` (all guilds with nil), by link time.
    func accounts(in guild: GuildScope?) async throws -> [Account] {
        if let guild {
            return try await database.query(Account.self, "SELECT * FROM rl_accounts WHERE guild_id = ? ORDER BY linked_at", [guild.id])
        }
        return try await database.query(Account.self, "SELECT * FROM rl_accounts ORDER BY guild_id, linked_at")
    }

    /// Links `caller`'s account; false if they have one in this guild already.
    func link(_ caller: Identity, in guild: GuildScope, platform: String, username: String, ranks: PlayerRanks) async throws -> Bool {
        let now = Date()
        let text = String(decoding: try JSONValue(encoding: ranks).jsonData(), as: UTF8.self)
        return try await database.write { connection in
            try connection.execute(
                """
                INSERT INTO rl_accounts (guild_id, user_id, user_name, platform, rl_username, ranks, last_fetched, linked_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO NOTHING
                """, [guild.id, caller.userID, caller.username, platform, username, text, now, now]) > 0
        }
    }

    func unlink(_ user: Int64, in guild: GuildScope) async throws -> Account? {
        try await database.write { connection in
            try connection.queryOne(Account.self, "DELETE FROM rl_accounts WHERE guild_id = ? AND user_id = ? RETURNING *", [guild.id, user])
        }
    }

    func record(_ ranks: PlayerRanks, for account: Account) async throws {
        let text = String(decoding: try JSONValue(encoding: ranks).jsonData(), as: UTF8.self)
        try await database.execute(
            "UPDATE rl_accounts SET ranks = ?, last_fetched = ? WHERE guild_id = ? AND user_id = ?",
            [text, Date(), account.guildID, account.userID])
    }
}
