import Crypto
import Foundation
import PluginAPI

/// A guild API key as stored and listed: everything but the secret, which exists only in the creator's hands
/// (the database keeps its SHA-256; keys are 256 random bits, so a fast hash is as safe as a slow one).
public struct APIKey: Codable, Sendable, Equatable {
    public var id: Int64
    public var guildID: Int64
    public var description: String
    public var permissions: [GuildPermission]
    public var eventsPerMinute: Int
    public var requestsPerMinute: Int
    public var maxConnections: Int
    /// The secret's last four characters, to tell keys apart.
    public var hint: String
    public var createdBy: String
    public var createdAt: Date
    public var revokedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, description, permissions, hint
        case guildID = "guild_id"
        case eventsPerMinute = "events_per_minute"
        case requestsPerMinute = "requests_per_minute"
        case maxConnections = "max_connections"
        case createdBy = "created_by"
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int64.self, forKey: .id)
        guildID = try container.decode(Int64.self, forKey: .guildID)
        description = try container.decode(String.self, forKey: .description)
        eventsPerMinute = try container.decode(Int.self, forKey: .eventsPerMinute)
        requestsPerMinute = try container.decode(Int.self, forKey: .requestsPerMinute)
        maxConnections = try container.decode(Int.self, forKey: .maxConnections)
        hint = try container.decode(String.self, forKey: .hint)
        createdBy = try container.decode(String.self, forKey: .createdBy)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        revokedAt = try container.decodeIfPresent(Date.self, forKey: .revokedAt)
        // A JSON array in its column when read from the database.
        if let text = try? container.decode(String.self, forKey: .permissions) {
            permissions = try JSONValueDecoder().decode([GuildPermission].self, from: JSONValue.parse(Data(text.utf8)))
        } else {
            permissions = try container.decode([GuildPermission].self, forKey: .permissions)
        }
    }

    /// The grant an ``Identity`` carries for this key.
    var grant: APIKeyGrant { APIKeyGrant(id: id, guildID: guildID, permissions: Set(permissions)) }

    /// The identity requests made with this key act as.
    var identity: Identity { Identity(userID: 0, username: "api-key:\(id)", role: .user, apiKey: grant) }
}

/// What an admin asks for when creating a key.
public struct APIKeyRequest: Decodable, Sendable {
    public var description: String
    public var permissions: [GuildPermission]
    public var eventsPerMinute: Int
    public var requestsPerMinute: Int
    public var maxConnections: Int

    enum CodingKeys: String, CodingKey {
        case description, permissions
        case eventsPerMinute = "events_per_minute"
        case requestsPerMinute = "requests_per_minute"
        case maxConnections = "max_connections"
    }

    /// Every permission, a million events a minute (a raid night's log parses in minutes; the combat log document's
    /// 10,000 suits live streaming only), 600 requests a minute and the document's 5 connections.
    public init(
        description: String, permissions: [GuildPermission] = [.stream, .query, .upload], eventsPerMinute: Int = 1_000_000,
        requestsPerMinute: Int = 600, maxConnections: Int = 5
    ) {
        self.description = description
        self.permissions = permissions
        self.eventsPerMinute = eventsPerMinute
        self.requestsPerMinute = requestsPerMinute
        self.maxConnections = maxConnections
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = APIKeyRequest(description: "")
        self.init(
            description: try container.decode(String.self, forKey: .description),
            permissions: try container.decodeIfPresent([GuildPermission].self, forKey: .permissions) ?? defaults.permissions,
            eventsPerMinute: try container.decodeIfPresent(Int.self, forKey: .eventsPerMinute) ?? defaults.eventsPerMinute,
            requestsPerMinute: try container.decodeIfPresent(Int.self, forKey: .requestsPerMinute) ?? defaults.requestsPerMinute,
            maxConnections: try container.decodeIfPresent(Int.self, forKey: .maxConnections) ?? defaults.maxConnections)
    }

    func validate() throws {
        func refuse(_ field: String, _ message: String) -> APIError {
            APIError(.badRequest, "invalid_field", message, details: ["field": .string(field)])
        }
        guard !description.trimmingCharacters(in: .whitespaces).isEmpty, description.count <= 200 else {
            throw refuse("description", "description must be 1 to 200 characters.")
        }
        guard !permissions.isEmpty, permissions.allSatisfy({ Self.isPermissionName($0.rawValue) }) else {
            throw refuse("permissions", "permissions must be a non-empty list of names like stream, query, upload.")
        }
        for (field, value) in [("events_per_minute", eventsPerMinute), ("requests_per_minute", requestsPerMinute),
                               ("max_connections", maxConnections)] where value < 1 {
            throw refuse(field, "\(field) must be at least 1.")
        }
    }

    private static func isPermissionName(_ name: String) -> Bool {
        (1...40).contains(name.utf8.count) && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || $0 == 95 || $0 == 58 }
    }
}

/// Guild API keys: created with their secret shown once, listed without it, revoked, and found by secret.
public struct APIKeyStore: Sendable {
    let database: any PluginAPI.Database
    /// Where found keys are kept briefly; a revocation in this process removes them at once.
    let cache: LRUCache?

    /// Every secret starts with this, so a bearer credential is told apart from a user's token at a glance.
    public static let secretPrefix = "ghk_"
    static let cacheTag = "host:api-keys"

    public init(database: any PluginAPI.Database, cache: LRUCache? = nil) {
        self.database = database
        self.cache = cache
    }

    /// Creates a key for `guild`; answers it and its secret, which is not kept.
    public func create(guild: Int64, _ request: APIKeyRequest, by actor: String) async throws -> (key: APIKey, secret: String) {
        try request.validate()
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = Self.secretPrefix + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let permissions = String(decoding: try JSONValueEncoder().encode(request.permissions.map(\.rawValue)).jsonData(), as: UTF8.self)
        let row: [any SQLBindable] = [
            guild, Self.hash(secret), request.description, permissions, request.eventsPerMinute, request.requestsPerMinute,
            request.maxConnections, String(secret.suffix(4)), actor, Date(),
        ]
        let key = try await database.write { connection in
            try connection.queryOne(
                APIKey.self,
                """
                INSERT INTO guild_api_keys (guild_id, key_hash, description, permissions, events_per_minute, requests_per_minute,
                    max_connections, hint, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *
                """, row)
        }
        guard let key else { throw APIError(.internalServerError, "internal_error", "The key was not stored.") }
        return (key, secret)
    }

    /// The keys of `guild`, newest first, revoked ones included.
    public func list(guild: Int64) async throws -> [APIKey] {
        try await database.query(APIKey.self, "SELECT * FROM guild_api_keys WHERE guild_id = ? ORDER BY id DESC", [guild])
    }

    /// Revokes key `id` of `guild`; answers it, or nil if the guild has no such key.
    public func revoke(_ id: Int64, guild: Int64) async throws -> APIKey? {
        let key = try await database.write { connection in
            try connection.execute(
                "UPDATE guild_api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND guild_id = ?", [Date(), id, guild])
            return try connection.queryOne(APIKey.self, "SELECT * FROM guild_api_keys WHERE id = ? AND guild_id = ?", [id, guild])
        }
        cache?.invalidate(tag: Self.cacheTag)
        return key
    }

    /// The key whose secret is `secret`, revoked or not, or nil if there is none.
    func find(secret: String) async throws -> APIKey? {
        let hash = Self.hash(secret)
        let cacheKey = "host:api-key:" + hash
        if let cached = cache?.value(forKey: cacheKey, as: APIKey.self) { return cached }
        let key = try await database.read {
            try $0.queryOne(APIKey.self, "SELECT * FROM guild_api_keys WHERE key_hash = ?", [hash])
        }
        if let key { cache?.set(key, forKey: cacheKey, ttl: .seconds(30), tags: [Self.cacheTag]) }
        return key
    }

    /// The SHA-256 of `secret` in hex: what is stored and looked up.
    /// Key `id` (through the cache), or nil.
    func find(id: Int64) async throws -> APIKey? {
        let cacheKey = "host:api-key-id:\(id)"
        if let cached = cache?.value(forKey: cacheKey, as: APIKey.self) { return cached }
        let key = try await database.read { try $0.queryOne(APIKey.self, "SELECT * FROM guild_api_keys WHERE id = ?", [id]) }
        if let key { cache?.set(key, forKey: cacheKey, ttl: .seconds(30), tags: [Self.cacheTag]) }
        return key
    }

    static func hash(_ secret: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(secret.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
