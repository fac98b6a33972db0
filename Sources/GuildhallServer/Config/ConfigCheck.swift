import PluginAPI

/// The checks `guildhall config check` runs beyond loading the file: the catalogue, the external cogs installed in
/// the plugins folder, every runtime section against its type, and that `plugins.enabled` names known cogs.
public enum ConfigCheck {
    public static func problems(in config: HostConfig, catalogue types: [any Cog.Type]) -> [String] {
        let catalogue: Catalogue
        do {
            catalogue = try Catalogue(types)
        } catch let error as CatalogueError {
            return error.problems
        } catch {
            return ["\(error)"]
        }
        let (external, externalProblems) = ExternalRuntime.discover(in: GuildhallHost.pluginsDirectory(config))
        var problems = externalProblems.map { "external cog \($0)" }
        let sections = HostSections.all + catalogue.cogs.values.compactMap { $0.configSection } + external.compactMap(\.configSection)
        let known = Set(catalogue.cogs.keys).union(external.map(\.cog.id))
        do {
            _ = try ConfigStore.validateFile(config, sections: Dictionary(uniqueKeysWithValues: sections.map { ($0.name, $0) }))
        } catch let error as ConfigFileError {
            problems += error.problems
        } catch {
            problems.append("\(error)")
        }
        for cog in config.plugins.enabled where !known.contains(cog) {
            problems.append("key 'plugins.enabled': unknown cog '\(cog)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        return problems
    }
}
