import PluginAPI

/// What an external cog asked for in its manifest, and so all the host lets it do through its callbacks:
/// `events:publish:<pattern>`, `events:subscribe:<pattern>`, `live_log:post`, `gateway:publish` (its own topics),
/// `kv` (its own store) and `people:read` (a person as they act in a guild). Its own config is always readable; no
/// other cog's data ever is. A built-in cog, which runs in the host's process, holds them all (``builtIn``).
struct CogPermissions: Sendable, Equatable {
    /// Everything: a built-in cog's permissions.
    static let builtIn: CogPermissions = {
        var all = CogPermissions()
        all.publish = [EventPattern("*")]
        all.liveLog = true
        all.gatewayPublish = true
        all.keyValue = true
        all.readPeople = true
        return all
    }()

    enum EventUse: String, Sendable { case publish, subscribe }

    private(set) var publish: [EventPattern] = []
    private(set) var subscribe: [EventPattern] = []
    private(set) var liveLog = false
    private(set) var gatewayPublish = false
    private(set) var keyValue = false
    /// Look up a person as they act in a guild (`people:read`).
    private(set) var readPeople = false
    /// The permissions as written, for the admin to read before enabling the cog.
    private(set) var names: [String] = []

    struct Unknown: Error, CustomStringConvertible {
        var text: String
        var description: String {
            "unknown permission '\(text)' (known: events:publish:<pattern>, events:subscribe:<pattern>, live_log:post, gateway:publish, kv, people:read)"
        }
    }

    mutating func grant(_ text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
        switch (parts.first, parts.count) {
        case ("events", 3) where parts[1] == "publish" && !parts[2].isEmpty: publish.append(EventPattern(parts[2]))
        case ("events", 3) where parts[1] == "subscribe" && !parts[2].isEmpty: subscribe.append(EventPattern(parts[2]))
        case _ where text == "live_log:post": liveLog = true
        case _ where text == "gateway:publish": gatewayPublish = true
        case _ where text == "kv": keyValue = true
        case _ where text == "people:read": readPeople = true
        default: throw Unknown(text: text)
        }
        names.append(text)
    }

    /// Whether events matching `pattern` (an event name, or a pattern for subscriptions) may be used so.
    func allows(_ use: EventUse, _ pattern: String) -> Bool {
        let asked = EventPattern(pattern)
        return (use == .publish ? publish : subscribe).contains { granted in
            granted.isPrefix ? asked.text.hasPrefix(granted.text) : (!asked.isPrefix && asked.text == granted.text)
        }
    }
}
