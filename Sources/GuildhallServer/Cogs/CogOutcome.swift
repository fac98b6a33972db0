import PluginAPI

extension PluginManager {
    /// What an operation did to one cog.
    public enum Outcome: Sendable, Equatable {
        case loaded, unloaded, reloaded
        /// An external cog was installed (or a new version of it put in place) or uninstalled.
        case installed, uninstalled
        case alreadyLoaded, notLoaded, notFound
        /// Refused before anything changed (a missing dependency, loaded dependants).
        case refused(code: String, reason: String, cogs: [String])
        /// The cog's setup threw; nothing of the new instance went live.
        case failed(reason: String)

        /// The outcome's name in batch answers.
        public var name: String {
            switch self {
            case .loaded: "loaded"
            case .unloaded: "unloaded"
            case .reloaded: "reloaded"
            case .installed: "installed"
            case .uninstalled: "uninstalled"
            case .alreadyLoaded: "already_loaded"
            case .notLoaded: "not_loaded"
            case .notFound: "not_found"
            case .refused(let code, _, _): code
            case .failed: "failed"
            }
        }

        public var succeeded: Bool { [.loaded, .unloaded, .reloaded, .installed, .uninstalled].contains(self) }
    }
}

/// The payload of `cog.loaded`, `cog.unloaded`, `cog.reloaded` and `cog.failed`.
public struct CogEventPayload: Codable, Sendable, Equatable {
    public var cog: String
    public var operation: String
    public var actor: String
    public var version: String?
    public var error: String?
}
