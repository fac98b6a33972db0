import Hummingbird

/// `limit` and `offset` of a listing, read from the query string with the host's rules.
public struct Paging: Sendable {
    /// How many items to answer.
    public var limit: Int
    /// How many matching items to skip.
    public var offset: Int

    /// `limit` (1...max, default `defaultLimit`) and `offset` (≥ 0) from the query; 400 `invalid_query` naming a bad one.
    public init(_ request: Request, defaultLimit: Int = 50, max: Int = 500) throws {
        let defaultLimit = Swift.min(defaultLimit, max)
        limit = try Self.integer(request, "limit") ?? defaultLimit
        offset = try Self.integer(request, "offset") ?? 0
        guard (1...max).contains(limit) else {
            throw APIError(.badRequest, "invalid_query", "limit must be from 1 to \(max).", details: ["field": "limit"])
        }
        guard offset >= 0 else {
            throw APIError(.badRequest, "invalid_query", "offset must not be negative.", details: ["field": "offset"])
        }
    }

    /// The query parameter `name` as an integer, nil if absent; 400 `invalid_query` naming it if it is not one.
    public static func integer(_ request: Request, _ name: String) throws -> Int? {
        guard let text = request.uri.queryParameters[name[...]] else { return nil }
        guard let value = Int(text) else {
            throw APIError(.badRequest, "invalid_query", "\(name) must be an integer.", details: ["field": .string(name)])
        }
        return value
    }
}
