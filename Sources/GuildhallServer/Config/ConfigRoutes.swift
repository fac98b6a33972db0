import Foundation
import Hummingbird
import PluginAPI

/// The runtime config API: read every section, read, change, validate and trace one.
struct ConfigRoutes {
    let store: ConfigStore
    let bus: EventBus

    struct Change: ResponseEncodable {
        var section: String
        var version: Int
        var changedBy: String
        var changedAt: Date
        var value: JSONValue

        enum CodingKeys: String, CodingKey {
            case section, version, value
            case changedBy = "changed_by"
            case changedAt = "changed_at"
        }
    }

    struct History: ResponseEncodable {
        var section: String
        var versions: [ConfigStore.Version]
        var totalCount: Int
        var limit: Int
        var offset: Int

        enum CodingKeys: String, CodingKey {
            case section, versions, limit, offset
            case totalCount = "total_count"
        }
    }

    func register(on routes: CoreRouter) {
        routes.add(
            .get, "/api/config", access: .user,
            summary: "Every runtime config section, secrets masked (admins); the sections' public keys (everyone else)"
        ) { _, context in
            if Access.admin.refusal(for: try context.requireIdentity()) == nil {
                return JSONValue.object(Dictionary(uniqueKeysWithValues: store.sections.keys.map { ($0, store.maskedValue(of: $0) ?? .null) }))
            }
            // The admin app asks at every start, whoever signs in.
            return JSONValue.object(Dictionary(uniqueKeysWithValues: store.sections.keys.compactMap { name in
                store.publicValue(of: name).map { (name, $0) }
            }))
        }
        routes.add(
            .get, "/api/config/:section", access: .user,
            summary: "One config section, secrets masked (admins); its public keys, such as ticket categories (everyone else)"
        ) { _, context in
            let name = try section(context)
            let caller = try context.requireIdentity()
            if let refusal = Access.admin.refusal(for: caller) {
                return try store.publicValue(of: name) ?? { throw refusal }()
            }
            return store.maskedValue(of: name)!
        }
        routes.add(.put, "/api/config/:section", access: .admin, summary: "Change keys of a section; applied live", body: JSONValue.self) {
            _, context, value in
            let name = try section(context)
            let actor = try context.requireIdentity().username
            return announce(try await store.update(name, value: value, by: actor), of: name, context: context)
        }
        routes.add(
            .post, "/api/config/:section/reset", access: .admin,
            summary: "Put a section back to config.yaml's value (the type's defaults where the file is silent); no body"
        ) { _, context in
            let name = try section(context)
            return announce(try await store.reset(name, by: try context.requireIdentity().username), of: name, context: context)
        }
        routes.add(
            .post, "/api/config/:section/validate", access: .admin, summary: "Check a value without applying it", body: JSONValue.self
        ) { _, context, value in
            let name = try section(context)
            _ = try store.validate(name, value: value)
            return ["valid": true, "section": .string(name)] as JSONValue
        }
        routes.add(
            .get, "/api/config/:section/history", access: .admin, summary: "Stored versions of a section, newest first", query: PageQuery.self
        ) { _, context, query in
            let name = try section(context)
            let paging = try Paging(query)
            let (versions, total) = try await store.history(of: name, limit: paging.limit, offset: paging.offset)
            return History(section: name, versions: versions, totalCount: total, limit: paging.limit, offset: paging.offset)
        }
    }

    /// Publishes `config.changed` for a stored change and answers it.
    private func announce(_ version: ConfigStore.Version, of name: String, context: GuildhallRequestContext) -> Change {
        bus.announceConfigChange(version, of: name, source: "host", correlationID: context.requestID)
        return Change(
            section: name, version: version.version, changedBy: version.changedBy, changedAt: version.changedAt,
            value: store.maskedValue(of: name)!)
    }

    private func section(_ context: GuildhallRequestContext) throws -> String {
        let name = context.parameters.get("section") ?? ""
        guard store.sections[name] != nil else { throw ConfigStore.unknown(name) }
        return name
    }
}
