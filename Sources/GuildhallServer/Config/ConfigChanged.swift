import PluginAPI

/// The payload of `config.changed`.
struct ConfigChanged: Encodable, Sendable {
    var section: String
    var version: Int
    var changedBy: String

    enum CodingKeys: String, CodingKey {
        case section, version
        case changedBy = "changed_by"
    }
}

extension EventBus {
    /// Tells every listener that `section` changed: the config API and a cog changing its own settings both announce
    /// through here, so `config.changed` has one shape whoever made the change.
    func announceConfigChange(_ version: ConfigStore.Version, of section: String, source: String, correlationID: String?) {
        publish(
            "config.changed", payload: ConfigChanged(section: section, version: version.version, changedBy: version.changedBy),
            source: source, correlationID: correlationID)
    }
}
