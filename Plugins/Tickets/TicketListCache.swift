import PluginAPI
import Synchronization

/// Ticket listings as answered, per reader and list: dashboards poll the list far more often than tickets change.
/// Any change to any ticket empties it. A generation number keeps a listing computed before a change from being
/// stored after it, and readers who miss at the same time share one computation (under writes, every message
/// empties the cache, and 64 readers each querying at once would starve the writes and each other).
final class TicketListCache: Sendable {
    private let cache: any Cache
    private let generation = Atomic<UInt64>(0)
    /// Listings being computed, by key and generation: the readers waiting for each.
    private let flights = Mutex<[String: [CheckedContinuation<CogResponse, any Error>]]>([:])
    private static let tag = "ticket-lists"
    /// Bounds staleness from changes made outside this process.
    private static let lifetime = Duration.seconds(30)

    init(cache: any Cache) {
        self.cache = cache
    }

    /// The cached answer for `reader`'s listing `list` (which list, which status) in `guild`, else `compute`'s —
    /// computed once for every reader asking in the same generation, and stored unless a change happened meanwhile.
    func listing(
        for reader: Identity, in guild: GuildScope, list: String, compute: () async throws -> CogResponse
    ) async throws -> CogResponse {
        let key = "list:\(guild.id):\(reader.userID):\(reader.role.rawValue):\(list)"
        while true {
            if let cached = cache.value(forKey: key, as: CogResponse.self) { return cached }
            let before = generation.load(ordering: .acquiring)
            let flight = "\(key)@\(before)"
            let leads = flights.withLock { flights in
                guard flights[flight] == nil else { return false }
                flights[flight] = []
                return true
            }
            if leads {
                let result: Result<CogResponse, any Error>
                do { result = .success(try await compute()) } catch { result = .failure(error) }
                let waiters = flights.withLock { $0.removeValue(forKey: flight) ?? [] }
                if case .success(let body) = result, generation.load(ordering: .acquiring) == before {
                    cache.set(body, forKey: key, ttl: Self.lifetime, tags: [Self.tag])
                }
                for waiter in waiters { waiter.resume(with: result) }
                return try result.get()
            }
            do {
                return try await withCheckedThrowingContinuation { continuation in
                    let joined = flights.withLock { flights in
                        guard flights[flight] != nil else { return false }
                        flights[flight]?.append(continuation)
                        return true
                    }
                    if !joined { continuation.resume(throwing: FlightLanded()) }
                }
            } catch is FlightLanded {
                continue  // it finished between the two looks: its answer is in the cache, or a newer one is needed
            }
        }
    }

    /// Forgets every listing: a ticket changed.
    func changed() {
        generation.add(1, ordering: .releasing)
        cache.invalidate(tag: Self.tag)
    }

    private struct FlightLanded: Error {}
}
