import PluginAPI

/// The rules a cog's registrations must keep. The host applies them when it loads a cog and `GuildhallTesting`'s
/// harness when it sets one up, so a cog that passes its harness tests is not refused at load for what it
/// registered. Each rule answers the problem in words, or nil.
public enum RegistrationRules {
    /// A route must lie under one of the manifest's prefixes and be declared once (`{id}` and `{name}` in the same
    /// place are the same route).
    public static func route(_ route: RouteDeclaration, prefixes: [String], registered: [RouteDeclaration]) -> String? {
        let path = CogHTTP.routerPath(route.path)
        guard prefixes.contains(where: { PathPrefix.path(path, isUnder: $0) }) else {
            return "route \(route.method) \(route.path) lies outside the declared prefixes \(prefixes)"
        }
        guard !registered.contains(where: { $0.method == route.method && shape($0.path) == shape(route.path) }) else {
            return "route \(route.method) \(route.path) is registered twice"
        }
        return nil
    }

    /// A scheduled task needs an interval above zero.
    public static func task(_ name: String, every interval: Duration) -> String? {
        interval > .zero ? nil : "task \(name) needs an interval above zero"
    }

    /// A command name is taken once, whatever its case.
    public static func command(_ name: String, registered: [String]) -> String? {
        registered.contains { $0.lowercased() == name.lowercased() } ? "command \(name) is registered twice" : nil
    }

    /// A gateway action name is taken once.
    public static func action(_ name: String, registered: some Collection<String>) -> String? {
        registered.contains(name) ? "action \(name) is registered twice" : nil
    }

    /// A topic prefix is a non-empty name without `:` (the part after it names one room of the topic).
    public static func topic(_ prefix: String) -> String? {
        !prefix.isEmpty && !prefix.contains(":") ? nil : "topic prefix '\(prefix)' must be a non-empty name without ':'"
    }

    /// Config checks and appliers need a config section in the manifest.
    public static func configHandler(_ registration: String, section: String?) -> String? {
        section != nil ? nil : "\(registration) needs a config section in the manifest"
    }

    /// A path with each parameter's name left out.
    private static func shape(_ path: String) -> String {
        path.split(separator: "/").map { $0.hasPrefix("{") ? "{}" : String($0) }.joined(separator: "/")
    }
}

/// A cog's setup returned, but what it registered breaks the host's rules.
public struct RegistrationProblems: Error, CustomStringConvertible {
    public var problems: [String]
    public init(problems: [String]) { self.problems = problems }
    public var description: String { problems.joined(separator: "; ") }
}
