import Foundation
import Hummingbird
import PluginAPI

/// One guild's data as a file, from one deployment to another (`guildhall guild export` / `import`,
/// `GET /api/v1/admin/guilds/{id}/export`): the guild, its members (by user name: user ids mean nothing elsewhere),
/// its cog switches and config overlays, and each loaded cog's rows as the cog exports them (`guildData`). API keys
/// are left out: a key is a secret of the deployment that issued it.
struct GuildTransfer: Sendable {
    let guilds: GuildStore
    let users: UserStore
    let database: any PluginAPI.Database
    let switches: GuildCogSwitches
    let overlays: GuildConfigOverlays
    let plugins: PluginManager

    static let format = "guildhall.guild-export"

    func export(_ id: Int64) async throws -> JSONValue {
        guard let guild = try await guilds.find(id) else {
            throw APIError.notFound("guild_not_found", "There is no guild \(id).")
        }
        let members = try await guilds.members(of: id)
        let sections = try await database.read { connection in
            try connection.rows("SELECT section, value FROM guild_config WHERE guild_id = ? ORDER BY section", [id])
        }
        var cogs: [String: JSONValue] = [:]
        let scope = GuildScope(id: guild.id, name: guild.name)
        for instance in plugins.mounts.all {
            guard let data = instance.guildData else { continue }
            cogs[instance.manifest.id] = try await data.export(scope)
        }
        return [
            "format": .string(Self.format), "version": 1, "exported_at": .string(Timestamp.string(from: Date())),
            "host_version": .string(GuildhallHost.version),
            "guild": [
                "name": .string(guild.name), "server": .string(guild.server), "region": .string(guild.region),
                "faction": .string(guild.faction.rawValue), "settings": guild.settings, "is_active": .bool(guild.isActive),
            ],
            "members": .array(members.map { ["username": .string($0.username), "role": .string($0.role.rawValue)] }),
            "cogs_off": .array(switches.offCogs(of: id).sorted().map(JSONValue.string)),
            "config_overlays": .object(Dictionary(uniqueKeysWithValues: sections.compactMap { row in
                guard let section = row["section"]?.stringValue, let text = row["value"]?.stringValue,
                    let value = try? JSONValue(parsing: Data(text.utf8))
                else { return nil }
                return (section, value)
            })),
            "cogs": .object(cogs),
        ]
    }

    /// Creates the exported guild here (409 `guild_exists` for the same name, server and region) with what the
    /// file holds, and answers what was imported and what was left out (members without a user of that name here,
    /// cogs not loaded here). If a part fails, what was written for the guild is removed again and the error thrown.
    func `import`(_ document: JSONValue, by actor: String) async throws -> JSONValue {
        guard document["format"]?.stringValue == Self.format, document["version"]?.intValue == 1 else {
            throw APIError.badRequest("invalid_export", "This is not a guild export of Guildhall (format \(Self.format), version 1).")
        }
        guard let name = document["guild"]?["name"]?.stringValue, let server = document["guild"]?["server"]?.stringValue,
            let region = document["guild"]?["region"]?.stringValue,
            let faction = document["guild"]?["faction"]?.stringValue.flatMap(Guild.Faction.init(rawValue:))
        else { throw APIError.badRequest("invalid_export", "The export's guild is incomplete.") }
        let guild = try await guilds.create(
            name: name, server: server, region: region, faction: faction, settings: document["guild"]?["settings"] ?? [:])
        do {
            return try await fill(guild, from: document, by: actor)
        } catch {
            try await removeEverything(of: guild.id)
            throw error
        }
    }

    private func fill(_ guild: Guild, from document: JSONValue, by actor: String) async throws -> JSONValue {
        var skipped: [String] = []
        for member in document["members"]?.arrayValue ?? [] {
            guard let username = member["username"]?.stringValue,
                let role = member["role"]?.stringValue.flatMap(GuildRole.init(rawValue:))
            else { continue }
            guard let user = try await users.find(username: username) else {
                skipped.append("member \(username): no user of that name here")
                continue
            }
            try await guilds.setMember(user.id, of: guild.id, role: role)
        }
        for cog in document["cogs_off"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            try await switches.set(cog, on: false, for: guild.id, by: actor)
        }
        if case .object(let sections)? = document["config_overlays"] {
            for (section, value) in sections.sorted(by: { $0.key < $1.key }) {
                do {
                    _ = try await overlays.set(section, overlay: value, for: guild.id, by: actor)
                } catch {
                    skipped.append("config overlay \(section): \(error)")
                }
            }
        }
        var imported: [String] = []
        let scope = GuildScope(id: guild.id, name: guild.name)
        if case .object(let cogs)? = document["cogs"] {
            for (cog, data) in cogs.sorted(by: { $0.key < $1.key }) {
                guard let handlers = plugins.mounts.instance(of: cog)?.guildData else {
                    skipped.append("cog \(cog): not loaded here")
                    continue
                }
                try await handlers.import(scope, data)
                imported.append(cog)
            }
        }
        return [
            "guild_id": .int(guild.id), "guild_name": .string(guild.name), "cogs_imported": .array(imported.map(JSONValue.string)),
            "skipped": .array(skipped.map(JSONValue.string)),
        ]
    }

    /// Undoes a failed import: every row of every table with a `guild_id` column (the host's and the cogs'), then the
    /// guild. Each cog's import is one transaction, so a cog that failed left nothing of its own.
    private func removeEverything(of guild: Int64) async throws {
        try await database.write { connection in
            let tables = try connection.rows(
                """
                SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
                WHERE m.type = 'table' AND p.name = 'guild_id' AND m.name <> 'guilds'
                """, []
            ).compactMap { $0["name"]?.stringValue }
            for table in tables { try connection.execute("DELETE FROM \"\(table)\" WHERE guild_id = ?", [guild]) }
            try connection.execute("DELETE FROM guilds WHERE id = ?", [guild])
        }
        switches.forget(guild)
        overlays.forget(guild)
    }
}

extension GuildTransfer {
    /// `GET /api/v1/admin/guilds/{id}/export`: the file `guildhall guild export` writes.
    func register(on routes: CoreRouter) {
        routes.add(.get, "/api/v1/admin/guilds/:id/export", access: .admin, summary: "One guild's data as a file for `guildhall guild import`") {
            request, context in
            guard let id = context.parameters.get("id", as: Int64.self) else {
                throw APIError.badRequest("invalid_id", "A guild id is an integer.")
            }
            var response = try await export(id).response(from: request, context: context)
            response.headers[.contentDisposition] = "attachment; filename=\"guild-\(id).json\""
            return response
        }
    }
}
