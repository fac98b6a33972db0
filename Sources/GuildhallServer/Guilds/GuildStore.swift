import Foundation
import PluginAPI

/// A guild: one community served by the deployment, the tenant its data belongs to.
public struct Guild: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var server: String
    public var region: String
    public var faction: Faction
    public var settings: JSONValue
    public var createdAt: Date
    public var isActive: Bool

    public enum Faction: String, Codable, Sendable, CaseIterable {
        case alliance = "Alliance"
        case horde = "Horde"
    }

    enum CodingKeys: String, CodingKey {
        case id, name, server, region, faction, settings
        case createdAt = "created_at"
        case isActive = "is_active"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int64.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        server = try container.decode(String.self, forKey: .server)
        region = try container.decode(String.self, forKey: .region)
        faction = try container.decode(Faction.self, forKey: .faction)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        isActive = try container.decode(Bool.self, forKey: .isActive)
        // Stored as JSON text in its column.
        let stored = try container.decode(JSONValue.self, forKey: .settings)
        if case .string(let text) = stored, let parsed = try? JSONValue.parse(Data(text.utf8)) {
            settings = parsed
        } else {
            settings = stored
        }
    }
}

/// A user's place in a guild, on top of their global role.
public enum GuildRole: String, Codable, Sendable, CaseIterable {
    case member, officer, leader
}

/// Guild records and their members. Guild 1, "Default", exists from the first run.
public struct GuildStore: Sendable {
    let database: any PluginAPI.Database
    /// Where the lookups of every authenticated request are kept briefly; changes made here clear them at once
    /// (changes made by another process, `guildhall guild ...`, within 30 seconds).
    let cache: LRUCache?
    static let cacheTag = "host:guilds"

    public init(database: any PluginAPI.Database, cache: LRUCache? = nil) {
        self.database = database
        self.cache = cache
    }

    /// A guild's member as listed by the admin API.
    public struct Member: Codable, Sendable, Equatable {
        public var userID: Int64
        public var username: String
        public var role: GuildRole
        public var joinedAt: Date

        enum CodingKeys: String, CodingKey {
            case username, role
            case userID = "user_id"
            case joinedAt = "joined_at"
        }
    }

    public func all() async throws -> [Guild] {
        try await database.query(Guild.self, "SELECT * FROM guilds ORDER BY id")
    }

    public func find(_ id: Int64) async throws -> Guild? {
        try await database.read { try $0.queryOne(Guild.self, "SELECT * FROM guilds WHERE id = ?", [id]) }
    }

    /// ``find(_:)`` through the cache, for the per-request path.
    func cached(_ id: Int64) async throws -> Guild? {
        try await throughCache("host:guild:\(id)") { try await find(id) }
    }

    /// The active guilds `user` belongs to, with their guild role, through the cache.
    func memberships(of user: Int64) async throws -> [Int64: GuildRole] {
        try await throughCache("host:memberships:\(user)") {
            let rows = try await database.read { connection in
                try connection.rows(
                    """
                    SELECT m.guild_id, m.role FROM guild_members m JOIN guilds g ON g.id = m.guild_id
                    WHERE m.user_id = ? AND g.is_active = 1
                    """, [user])
            }
            var memberships: [Int64: GuildRole] = [:]
            for row in rows {
                guard case .integer(let id)? = row["guild_id"], case .text(let role)? = row["role"] else { continue }
                memberships[id] = GuildRole(rawValue: role) ?? .member
            }
            return memberships
        }
    }

    private func throughCache<T: Sendable>(_ key: String, _ load: () async throws -> T) async throws -> T {
        if let cached = cache?.value(forKey: key, as: T.self) { return cached }
        let value = try await load()
        cache?.set(value, forKey: key, ttl: .seconds(30), tags: [Self.cacheTag])
        return value
    }

    private func changed() {
        cache?.invalidate(tag: Self.cacheTag)
    }

    /// Creates a guild; 409 `guild_exists` if one has the same name, server and region.
    public func create(name: String, server: String, region: String, faction: Guild.Faction, settings: JSONValue = [:]) async throws -> Guild {
        try Self.validate(name: name, server: server, region: region)
        let now = Date()
        let guild = try await database.write { connection in
            try Self.refuseDuplicate(connection, name: name, server: server, region: region, except: nil)
            guard
                let guild = try connection.queryOne(
                    Guild.self,
                    """
                    INSERT INTO guilds (name, server, region, faction, settings, created_at, is_active)
                    VALUES (?, ?, ?, ?, ?, ?, 1) RETURNING *
                    """, [name, server, region, faction.rawValue, String(decoding: settings.jsonData(), as: UTF8.self), now])
            else { throw APIError(.internalServerError, "internal_error", "The guild was not stored.") }
            return guild
        }
        changed()
        return guild
    }

    /// Changes the fields given; answers the guild, or nil if it does not exist.
    public func update(
        _ id: Int64, name: String?, server: String?, region: String?, faction: Guild.Faction?, settings: JSONValue?, isActive: Bool?
    ) async throws -> Guild? {
        guard var guild = try await find(id) else { return nil }
        guild.name = name ?? guild.name
        guild.server = server ?? guild.server
        guild.region = region ?? guild.region
        guild.faction = faction ?? guild.faction
        guild.settings = settings ?? guild.settings
        guild.isActive = isActive ?? guild.isActive
        try Self.validate(name: guild.name, server: guild.server, region: guild.region)
        let updated = guild
        _ = try await database.write { connection in
            try Self.refuseDuplicate(connection, name: updated.name, server: updated.server, region: updated.region, except: id)
            return try connection.execute(
                "UPDATE guilds SET name = ?, server = ?, region = ?, faction = ?, settings = ?, is_active = ? WHERE id = ?",
                [updated.name, updated.server, updated.region, updated.faction.rawValue,
                 String(decoding: updated.settings.jsonData(), as: UTF8.self), updated.isActive, id])
        }
        changed()
        return updated
    }

    public func members(of guild: Int64) async throws -> [Member] {
        try await database.query(
            Member.self,
            """
            SELECT m.user_id, u.username, m.role, m.joined_at FROM guild_members m JOIN users u ON u.id = m.user_id
            WHERE m.guild_id = ? ORDER BY u.username
            """, [guild])
    }

    /// Adds `user` to `guild` with `role`, or changes their role; 404 for an unknown user.
    public func setMember(_ user: Int64, of guild: Int64, role: GuildRole) async throws {
        let known = try await database.read { try $0.scalar("SELECT COUNT(*) FROM users WHERE id = ?", [user]) } ?? 0
        guard known > 0 else { throw APIError.notFound("user_not_found", "There is no user \(user).") }
        try await database.execute(
            """
            INSERT INTO guild_members (guild_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (guild_id, user_id) DO UPDATE SET role = excluded.role
            """, [guild, user, role.rawValue, Date()])
        changed()
    }

    /// Removes `user` from `guild`; answers whether they were a member.
    public func removeMember(_ user: Int64, of guild: Int64) async throws -> Bool {
        defer { changed() }
        return try await database.execute("DELETE FROM guild_members WHERE guild_id = ? AND user_id = ?", [guild, user]) > 0
    }

    /// The ids of the active guilds `user` belongs to.
    public func guildIDs(of user: Int64) async throws -> Set<Int64> {
        Set(try await memberships(of: user).keys)
    }

    static func validate(name: String, server: String, region: String) throws {
        for (field, value) in [("name", name), ("server", server), ("region", region)] {
            guard !value.trimmingCharacters(in: .whitespaces).isEmpty, value.count <= 100 else {
                throw APIError(.badRequest, "invalid_field", "\(field) must be 1 to 100 characters.", details: ["field": .string(field)])
            }
        }
    }

    /// 409 `guild_exists` if another guild has the same name, server and region. Checked inside the write, so a
    /// storage failure is never reported as a duplicate.
    static func refuseDuplicate(_ connection: any SQLConnection, name: String, server: String, region: String, except id: Int64?) throws {
        let clash = try connection.scalar(
            "SELECT COUNT(*) FROM guilds WHERE name = ? AND server = ? AND region = ? AND id <> ?", [name, server, region, id ?? -1])
        if (clash ?? 0) > 0 {
            throw APIError.conflict("guild_exists", "A guild named \(name) on \(server) (\(region)) exists already.")
        }
    }
}
