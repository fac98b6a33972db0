/// `limit` and `offset` of a listing. Declare them in a route's query type (see ``PageQuery``) and build the
/// paging from it with the route's own default and maximum.
public struct Paging: Sendable, Hashable {
    /// How many items to answer.
    public var limit: Int
    /// How many matching items to skip.
    public var offset: Int

    /// The largest `offset` accepted: far past any real listing, and small enough that `offset + limit` and the
    /// database's own arithmetic never overflow.
    public static let maxOffset = 1_000_000_000

    /// `limit` (1...max, default `defaultLimit`) and `offset` (0...``maxOffset``); 400 `invalid_field` naming a value
    /// out of range.
    public init(limit: Int?, offset: Int?, defaultLimit: Int = 50, max: Int = 500) throws {
        self.limit = limit ?? Swift.min(defaultLimit, max)
        self.offset = offset ?? 0
        guard (1...max).contains(self.limit) else {
            throw APIError(.badRequest, "invalid_field", "limit must be from 1 to \(max).", details: ["field": "limit", "in": "query"])
        }
        guard (0...Self.maxOffset).contains(self.offset) else {
            throw APIError(
                .badRequest, "invalid_field", "offset must be from 0 to \(Self.maxOffset).", details: ["field": "offset", "in": "query"])
        }
    }

    /// Whether items follow this page in a listing of `total` items.
    public func hasMore(total: Int) -> Bool { offset < total - limit }

    /// The paging of `query` with this route's default and maximum.
    public init(_ query: some PagedQuery, defaultLimit: Int = 50, max: Int = 500) throws {
        try self.init(limit: query.limit, offset: query.offset, defaultLimit: defaultLimit, max: max)
    }
}

/// A route query that pages: `?limit=&offset=`.
public protocol PagedQuery: Decodable, Sendable {
    /// How many items to answer.
    var limit: Int? { get }
    /// How many matching items to skip.
    var offset: Int? { get }
}

/// The query of a route that only pages.
public struct PageQuery: PagedQuery {
    /// `?limit=`: how many items to answer.
    public var limit: Int?
    /// `?offset=`: how many matching items to skip.
    public var offset: Int?
}
