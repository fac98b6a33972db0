/// An in-memory cache with least-recently-used eviction, per-entry time to live and tag invalidation.
/// Each cog sees its own namespace: keys never collide across cogs.
public protocol Cache: Sendable {
    /// The value stored under `key` if it is present, unexpired and of type `T`.
    func value<T: Sendable>(forKey key: String, as type: T.Type) -> T?
    /// Stores `value` under `key` for `ttl` (nil: until evicted), labelled with `tags` for ``invalidate(tag:)``.
    func set<T: Sendable>(_ value: T, forKey key: String, ttl: Duration?, tags: Set<String>)
    /// Removes the entry under `key`.
    func remove(forKey key: String)
    /// Removes every entry labelled `tag`.
    func invalidate(tag: String)
}

extension Cache {
    /// Stores `value` under `key` with no tags.
    public func set<T: Sendable>(_ value: T, forKey key: String, ttl: Duration? = nil) {
        set(value, forKey: key, ttl: ttl, tags: [])
    }
}
