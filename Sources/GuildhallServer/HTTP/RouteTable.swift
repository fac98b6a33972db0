import Hummingbird
import PluginAPI

/// The routes registered on one router, kept beside it so that a path that exists under another method answers
/// 405 instead of 404, and so the routes can be listed.
public struct RouteInfo: Sendable, Hashable, Encodable {
    public var method: String
    public var path: String
    public var access: String
    public var summary: String
    /// The cog that registered it; nil for the host's core routes.
    public var cog: String?
}

struct RouteTable: Sendable {
    private(set) var routes: [RouteInfo] = []

    mutating func add(_ route: RouteInfo) { routes.append(route) }

    /// The methods registered for paths matching `path` (`:param` and `*` segments match any one segment,
    /// `**` the rest).
    func methods(matching path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return routes.filter { Self.pattern($0.path, matches: segments) }.map(\.method)
    }

    private static func pattern(_ pattern: String, matches segments: [Substring]) -> Bool {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true)
        var index = 0
        for part in parts {
            if part == "**" { return true }
            guard index < segments.count else { return false }
            if !(part.hasPrefix(":") || part == "*" || part == segments[index]) { return false }
            index += 1
        }
        return index == segments.count
    }
}

extension Access {
    var label: String {
        switch self {
        case .public: "public"
        case .role(let role): role.rawValue
        case .guild(let permission, .user): "guild:\(permission)"
        case .guild(let permission, let role): "guild:\(permission) or \(role.rawValue)"
        }
    }
}
