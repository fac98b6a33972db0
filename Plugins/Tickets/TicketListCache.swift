import PluginAPI
import Synchronization

/// Ticket listings as answered, per reader and status: dashboards poll the list far more often than tickets change.
/// Any change to any ticket empties it. A generation number keeps a listing computed before a change from being
/// stored after it.
final class TicketListCache: Sendable {
    private let cache: any Cache
    private let generation = Atomic<UInt64>(0)
    private static let tag = "ticket-lists"
    /// Bounds staleness from changes made outside this process.
    private static let lifetime = Duration.seconds(30)

    init(cache: any Cache) {
        self.cache = cache
    }

    /// The cached answer for `reader`'s listing `list` (which list, which status) in `guild`, else `compute`'s
    /// (stored unless a change happened meanwhile).
    func listing(
        for reader: Identity, in guild: GuildScope, list: String, compute: () async throws -> CogResponse
    ) async rethrows -> CogResponse {
        let key = "list:\(guild.id):\(reader.userID):\(reader.role.rawValue):\(list)"
        if let cached = cache.value(forKey: key, as: CogResponse.self) { return cached }
        let before = generation.load(ordering: .acquiring)
        let body = try await compute()
        if generation.load(ordering: .acquiring) == before {
            cache.set(body, forKey: key, ttl: Self.lifetime, tags: [Self.tag])
        }
        return body
    }

    /// Forgets every listing: a ticket changed.
    func changed() {
        generation.add(1, ordering: .releasing)
        cache.invalidate(tag: Self.tag)
    }
}
