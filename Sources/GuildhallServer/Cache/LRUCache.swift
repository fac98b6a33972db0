import Foundation
import PluginAPI
import Synchronization

/// The host's cache: least-recently-used eviction past `capacity`, per-entry expiry and tag invalidation, with hit
/// and miss counters. Cogs use it through ``NamespacedCache``.
public final class LRUCache: Cache, Sendable {
    private final class Entry: @unchecked Sendable {
        let key: String
        var value: any Sendable
        var expires: ContinuousClock.Instant?
        var tags: Set<String>
        var newer: Entry?
        var older: Entry?

        init(key: String, value: any Sendable, expires: ContinuousClock.Instant?, tags: Set<String>) {
            self.key = key
            self.value = value
            self.expires = expires
            self.tags = tags
        }
    }

    /// A doubly-linked recency list over a key index: O(1) lookup, touch, insert and eviction.
    private struct State: ~Copyable {
        var entries: [String: Entry] = [:]
        var byTag: [String: Set<String>] = [:]
        var newest: Entry?
        var oldest: Entry?
        var hits = 0
        var misses = 0
        var evictions = 0

        mutating func unlink(_ entry: Entry) {
            entry.newer?.older = entry.older
            entry.older?.newer = entry.newer
            if newest === entry { newest = entry.older }
            if oldest === entry { oldest = entry.newer }
            entry.newer = nil
            entry.older = nil
        }

        mutating func pushNewest(_ entry: Entry) {
            entry.older = newest
            newest?.newer = entry
            newest = entry
            if oldest == nil { oldest = entry }
        }

        mutating func remove(_ key: String) {
            guard let entry = entries.removeValue(forKey: key) else { return }
            unlink(entry)
            for tag in entry.tags {
                byTag[tag]?.remove(key)
                if byTag[tag]?.isEmpty == true { byTag[tag] = nil }
            }
        }
    }

    private let state = Mutex(State())
    /// The most entries kept.
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public func value<T: Sendable>(forKey key: String, as type: T.Type) -> T? {
        let now = ContinuousClock.now
        return state.withLock { state -> T? in
            guard let entry = state.entries[key] else {
                state.misses += 1
                return nil
            }
            if let expires = entry.expires, expires <= now {
                state.remove(key)
                state.misses += 1
                return nil
            }
            guard let value = entry.value as? T else {
                state.misses += 1
                return nil
            }
            state.unlink(entry)
            state.pushNewest(entry)
            state.hits += 1
            return value
        }
    }

    public func set<T: Sendable>(_ value: T, forKey key: String, ttl: Duration?, tags: Set<String>) {
        let expires = ttl.map { ContinuousClock.now + $0 }
        state.withLock { state in
            state.remove(key)
            let entry = Entry(key: key, value: value, expires: expires, tags: tags)
            state.entries[key] = entry
            state.pushNewest(entry)
            for tag in tags { state.byTag[tag, default: []].insert(key) }
            while state.entries.count > capacity, let oldest = state.oldest {
                state.remove(oldest.key)
                state.evictions += 1
            }
        }
    }

    public func remove(forKey key: String) {
        state.withLock { $0.remove(key) }
    }

    public func invalidate(tag: String) {
        state.withLock { state in
            for key in state.byTag[tag] ?? [] { state.remove(key) }
        }
    }

    /// Removes every entry whose key starts with `prefix` (a cog's namespace, when the cog unloads).
    public func removeAll(withPrefix prefix: String) {
        state.withLock { state in
            for key in state.entries.keys where key.hasPrefix(prefix) { state.remove(key) }
        }
    }

    /// Counters for the stats endpoint and metrics.
    public struct Statistics: Sendable, Encodable {
        public var entries: Int
        public var hits: Int
        public var misses: Int
        public var evictions: Int
    }

    public var statistics: Statistics {
        state.withLock { Statistics(entries: $0.entries.count, hits: $0.hits, misses: $0.misses, evictions: $0.evictions) }
    }
}

/// One cog's view of the host cache: its keys and tags are prefixed with the cog id.
struct NamespacedCache: Cache {
    let base: LRUCache
    let namespace: String

    func value<T: Sendable>(forKey key: String, as type: T.Type) -> T? { base.value(forKey: namespace + key, as: type) }
    func set<T: Sendable>(_ value: T, forKey key: String, ttl: Duration?, tags: Set<String>) {
        base.set(value, forKey: namespace + key, ttl: ttl, tags: Set(tags.map { namespace + $0 }))
    }
    func remove(forKey key: String) { base.remove(forKey: namespace + key) }
    func invalidate(tag: String) { base.invalidate(tag: namespace + tag) }
}
