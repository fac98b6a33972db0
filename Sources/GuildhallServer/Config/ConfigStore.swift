import Foundation
import Logging
import PluginAPI
import Synchronization

/// The runtime configuration: every section's effective value (config.yaml over the type's defaults, then the
/// newest runtime change over that), its version history in the database, and the cogs that must be told of changes.
public final class ConfigStore: Sendable {
    /// One stored version of a section.
    public struct Version: Encodable, Sendable {
        public var version: Int
        public var changedBy: String
        public var changedAt: Date
        public var value: JSONValue

        enum CodingKeys: String, CodingKey {
            case version, value
            case changedBy = "changed_by"
            case changedAt = "changed_at"
        }
    }

    /// Told of a new value before it is stored; throwing refuses it.
    /// One cog instance's hooks on its section: checks that may refuse a change, and handlers told of an applied one.
    struct Handlers: Sendable {
        var validators: [@Sendable (JSONValue) throws -> Void] = []
        var appliers: [@Sendable (JSONValue) async -> Void] = []
    }

    /// Every section by name; an installed external cog adds its own at run time.
    var sections: [String: ConfigSection] { registered.withLock { $0.sections } }
    private let registered: Mutex<(sections: [String: ConfigSection], fileValues: [String: JSONValue])>
    /// Each section as config.yaml and the environment give it (the type's defaults where the file says nothing):
    /// what a reset restores.
    private var fileValues: [String: JSONValue] { registered.withLock { $0.fileValues } }
    private let current: Mutex<[String: JSONValue]>
    /// Each section's current value decoded, by section and type: cogs read their settings on every request, and
    /// decoding lays the value over the type's defaults each time. Emptied for a section when it changes.
    private let decoded = Mutex<[DecodedKey: any Sendable]>([:])

    private struct DecodedKey: Hashable {
        let section: String
        let type: ObjectIdentifier
    }
    private let handlers = Mutex<[String: Handlers]>([:])
    private let database: any PluginAPI.Database
    private let changeLock = AsyncLock()

    /// Validates the file's runtime sections against `sections` (every problem reported) and lays the newest
    /// stored version of each over it.
    init(sections: [ConfigSection], file: HostConfig, database: any PluginAPI.Database, logger: Logger) async throws {
        let sections = Dictionary(uniqueKeysWithValues: sections.map { ($0.name, $0) })
        self.database = database
        let values = try Self.validateFile(file, sections: sections)
        registered = Mutex((sections, values))
        var effective = values
        let stored = try await database.read { connection in
            try connection.rows(
                """
                SELECT section, value FROM config_versions v
                WHERE version = (SELECT MAX(version) FROM config_versions WHERE section = v.section)
                """, [])
        }
        for row in stored {
            guard case .text(let name)? = row["section"], case .text(let text)? = row["value"],
                let section = sections[name]
            else { continue }
            do {
                effective[name] = try section.validate(JSONValue.parse(Data(text.utf8)))
            } catch {
                logger.warning(
                    "stored config no longer fits its section; using config.yaml's",
                    metadata: ["section": "\(name)", "error": "\(error)"])
            }
        }
        self.current = Mutex(effective)
    }

    /// Adds (or, for a new version, replaces) the section of a cog installed while the host runs (config.yaml cannot
    /// name it): its defaults, with the newest stored version laid over them where it still fits.
    func add(_ section: ConfigSection) async throws {
        let defaults = try section.validate(.object([:]))
        let stored = try await database.read { connection in
            try connection.rows("SELECT value FROM config_versions WHERE section = ? ORDER BY version DESC LIMIT 1", [section.name])
        }
        var effective = defaults
        if case .text(let text)? = stored.first?["value"], let value = try? section.validate(JSONValue.parse(Data(text.utf8))) {
            effective = value
        }
        registered.withLock {
            $0.sections[section.name] = section
            $0.fileValues[section.name] = defaults
        }
        current.withLock { $0[section.name] = effective }
    }

    /// Every problem of the file's runtime sections: unknown sections and values that do not fit their type.
    static func validateFile(_ file: HostConfig, sections: [String: ConfigSection]) throws -> [String: JSONValue] {
        var problems: [String] = []
        var values: [String: JSONValue] = [:]
        for name in file.runtimeSections.keys.sorted() where sections[name] == nil {
            let known = (HostConfig.infrastructureKeys + sections.keys.sorted()).joined(separator: ", ")
            problems.append("unknown section '\(name)' (known: \(known))")
        }
        for (name, section) in sections {
            do {
                values[name] = try section.validate(file.runtimeSections[name] ?? .object([:]))
            } catch let error as ConfigValidationError {
                problems.append(HostConfig.describe(error, in: name))
            }
        }
        guard problems.isEmpty else { throw ConfigFileError(file: file.source, problems: problems.sorted()) }
        return values
    }

    /// The effective value of `name`, or nil for an unknown section.
    public func value(of name: String) -> JSONValue? {
        current.withLock { $0[name] }
    }

    /// The effective value with secret keys masked, for API output.
    public func maskedValue(of name: String) -> JSONValue? {
        value(of: name).map { masked($0, section: name) }
    }

    /// The keys of section `name` any signed-in user may read, or nil if it has none.
    func publicValue(of name: String) -> JSONValue? {
        guard let keys = sections[name]?.publicKeys, !keys.isEmpty, case .object(let members)? = value(of: name) else { return nil }
        return .object(members.filter { keys.contains($0.key) })
    }

    /// What API output shows instead of a secret.
    static let mask = "********"

    /// `value` (of section `name`) with its non-empty secrets replaced by the mask.
    func masked(_ value: JSONValue, section name: String) -> JSONValue {
        guard let section = sections[name], case .object(var members) = value else { return value }
        for key in section.secretKeys where members[key] != nil {
            if case .string(let secret) = members[key], secret.isEmpty { continue }
            members[key] = .string(Self.mask)
        }
        return .object(members)
    }

    /// Decodes section `name` as `type`.
    func decode<C: CogConfiguration>(_ name: String, as type: C.Type) throws -> C {
        let key = DecodedKey(section: name, type: ObjectIdentifier(C.self))
        if let known = decoded.withLock({ $0[key] }) as? C { return known }
        // Read the value and remember its decoding in one step, so a change made meanwhile is not overwritten.
        return try current.withLock { values in
            let value = try ConfigSection.decode(C.self, from: values[name] ?? .object([:]))
            decoded.withLock { $0[key] = value }
            return value
        }
    }

    /// Lays `value`'s keys over the current value of section `name` and validates the result without applying
    /// it; answers the complete value.
    public func validate(_ name: String, value: JSONValue) throws -> JSONValue {
        guard let section = sections[name] else { throw Self.unknown(name) }
        do {
            return try section.validate(unmasked(name, value))
        } catch let error as ConfigValidationError {
            throw APIError(
                .badRequest, "invalid_config", error.description, details: ["field": .string(error.path)])
        }
    }

    /// Lays `value`'s keys over the current value, validates the result, offers it to the owning cog's checks,
    /// stores it as a new version, puts it in force and then tells the cog. Masked secrets (`"********"`) keep their
    /// current value. Answers the new version.
    public func update(_ name: String, value: JSONValue, by actor: String) async throws -> Version {
        try await changeLock.withLock {
            let complete = try validate(name, value: value)
            let hooks = handlers.withLock { $0[name] ?? Handlers() }
            for check in hooks.validators {
                do {
                    try check(complete)
                } catch {
                    throw APIError(
                        .unprocessableContent, "config_rejected",
                        "The cog refused the new value and keeps the previous one: \(error)")
                }
            }
            let now = Date()
            let text = String(decoding: complete.jsonData(), as: UTF8.self)
            let version = try await database.write { connection in
                let next = (try connection.scalar("SELECT MAX(version) FROM config_versions WHERE section = ?", [name]) ?? 0) + 1
                try connection.execute(
                    "INSERT INTO config_versions (section, version, value, changed_by, changed_at) VALUES (?, ?, ?, ?, ?)",
                    [name, next, text, actor, now])
                return Int(next)
            }
            current.withLock { values in
                values[name] = complete
                decoded.withLock { memo in memo = memo.filter { $0.key.section != name } }
            }
            for applied in hooks.appliers { await applied(complete) }
            return Version(version: version, changedBy: actor, changedAt: now, value: complete)
        }
    }

    /// Puts section `name` back to what config.yaml and the environment give it, as a new version (offered to the
    /// owning cog's checks like any change).
    public func reset(_ name: String, by actor: String) async throws -> Version {
        guard let baseline = fileValues[name] else { throw Self.unknown(name) }
        return try await update(name, value: baseline, by: actor)
    }

    /// The stored versions of `name`, newest first, secrets masked.
    public func history(of name: String, limit: Int, offset: Int) async throws -> (versions: [Version], total: Int) {
        guard let section = sections[name] else { throw Self.unknown(name) }
        struct Row: Decodable, Sendable {
            var version: Int
            var value: String
            var changed_by: String
            var changed_at: Date
        }
        let (rows, total) = try await database.read { connection in
            let total = try connection.scalar("SELECT COUNT(*) FROM config_versions WHERE section = ?", [name]) ?? 0
            let rows = try connection.query(
                Row.self,
                "SELECT version, value, changed_by, changed_at FROM config_versions WHERE section = ? ORDER BY version DESC LIMIT ? OFFSET ?",
                [name, limit, offset])
            return (rows, Int(total))
        }
        let masked = rows.map { row -> Version in
            var value = (try? JSONValue.parse(Data(row.value.utf8))) ?? .null
            if case .object(var members) = value {
                for key in section.secretKeys where members[key] != nil { members[key] = .string(Self.mask) }
                value = .object(members)
            }
            return Version(version: row.version, changedBy: row.changed_by, changedAt: row.changed_at, value: value)
        }
        return (masked, total)
    }

    /// Registers the change handlers of one cog instance for `name`, replacing the previous instance's.
    func setHandlers(_ new: Handlers, for name: String) {
        handlers.withLock { $0[name] = new.validators.isEmpty && new.appliers.isEmpty ? nil : new }
    }

    /// `value`'s keys laid over the current value, with masked secrets (`"********"`) keeping their current value.
    private func unmasked(_ name: String, _ value: JSONValue) -> JSONValue {
        guard case .object(let given) = value, case .object(var merged)? = self.value(of: name) else { return value }
        let secretKeys = sections[name]?.secretKeys ?? []
        for (key, item) in given where !(secretKeys.contains(key) && item == .string(Self.mask)) {
            merged[key] = item
        }
        return .object(merged)
    }

    static func unknown(_ name: String) -> APIError {
        APIError(.notFound, "unknown_section", "There is no config section '\(name)'.")
    }
}
