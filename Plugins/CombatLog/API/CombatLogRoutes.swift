import Foundation
import PluginAPI

/// The cog's HTTP API: uploads, encounters, characters, exports (guild keys and members, always within the
/// caller's guild) and the admins' activity and overview of every guild.
struct CombatLogRoutes {
    let context: any CogContext
    let store: CombatLogStore
    let processor: UploadProcessor

    func register() {
        registerUploads()
        registerEncounters()
        registerCharacters()
        registerAdmin()
    }

    private func registerUploads() {
        context.route(.post, "/api/v1/logs/upload", access: .guild(.upload), summary: "Upload a combat log (multipart file or raw body)") {
            request, requestContext in
            let guild = try requestContext.requireGuild()
            let caller = try requestContext.requireIdentity()
            let config = try context.config(CombatLogConfig.self, for: guild)
            let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let received = try await UploadReceiver(folder: context.dataDirectory.appendingPathComponent("uploads"), maxBytes: config.maxUploadBytes)
                .receive(request, id: id)
            let upload = UploadRow(
                id: id, guildID: guild.id, guildName: guild.name, keyID: caller.apiKey?.id, uploadedBy: caller.username,
                fileName: received.fileName, bytes: received.bytes, status: "processing", progress: 0, bytesParsed: 0, events: 0,
                encounters: 0, createdAt: Date())
            do {
                try await store.createUpload(upload)
            } catch {
                try? FileManager.default.removeItem(at: received.file)
                throw error
            }
            processor.start(upload, file: received.file, guild: guild, caller: caller)
            return JSONResponse(.accepted, [
                "upload_id": .string(id), "guild_id": .int(guild.id), "guild_name": .string(guild.name),
                "file_name": .string(received.fileName), "bytes": .int(received.bytes), "status": "processing",
                "message": .string("File uploaded successfully for \(guild.name). Upload ID: \(id)"),
            ] as JSONValue)
        }
        context.route(.get, "/api/v1/logs", access: .guild(.query), summary: "The guild's uploads, newest first") { request, requestContext in
            let guild = try requestContext.requireGuild()
            let paging = try Paging(request)
            let (rows, total) = try await store.uploads(guild: guild.id, limit: paging.limit, offset: paging.offset)
            return Answer.guild(guild, data: ["uploads": .array(try rows.map { try $0.json }), "total": .int(Int64(total))], paging: paging, total: total)
        }
        context.route(.get, "/api/v1/logs/:upload_id", access: .guild(.query), summary: "An upload's status, progress, counts and errors") {
            _, requestContext in
            let guild = try requestContext.requireGuild()
            guard let id = requestContext.parameters.get("upload_id"), let upload = try await store.upload(id, guild: guild.id) else {
                throw APIError.notFound("upload_not_found", "The guild has no such upload.")
            }
            return Answer.guild(guild, data: try upload.json)
        }
    }

    private func registerEncounters() {
        context.route(.get, "/api/v1/encounters", access: .guild(.query), summary: "The guild's encounters, newest first") {
            request, requestContext in
            let guild = try requestContext.requireGuild()
            let paging = try Paging(request)
            let filter = try CombatLogStore.EncounterFilter(
                bossName: Query.text(request, "boss_name"), difficulty: Query.text(request, "difficulty"),
                success: Query.bool(request, "success"), from: Query.date(request, "date_from"),
                to: Query.date(request, "date_to", endOfDay: true))
            let (rows, total) = try await store.encounters(guild: guild.id, filter: filter, limit: paging.limit, offset: paging.offset)
            return Answer.guild(guild, data: ["encounters": .array(rows), "total": .int(Int64(total))], paging: paging, total: total)
        }
        context.route(.get, "/api/v1/encounters/search", access: .guild(.query), summary: "Encounters whose boss name contains ?boss_name=") {
            request, requestContext in
            let guild = try requestContext.requireGuild()
            guard let name = Query.text(request, "boss_name") else { throw Query.invalid("boss_name", "the text to find") }
            let paging = try Paging(request)
            let (rows, total) = try await store.encounters(
                guild: guild.id, filter: .init(bossNameContains: name), limit: paging.limit, offset: paging.offset)
            return Answer.guild(guild, data: ["encounters": .array(rows), "total": .int(Int64(total))], paging: paging, total: total)
        }
        context.route(.get, "/api/v1/encounters/stats", access: .guild(.query), summary: "The guild's totals") { _, requestContext in
            let guild = try requestContext.requireGuild()
            let statistics = try Answer.encode(try await store.statistics(guild: guild.id))
            var answer = Answer.guild(guild, data: statistics)
            if case .object(var members) = answer {
                members["statistics"] = statistics  // the document's name for it
                answer = .object(members)
            }
            return answer
        }
        context.route(.get, "/api/v1/encounters/export", access: .guild(.query), summary: "Every encounter of the guild as ?format=json or csv") {
            request, requestContext in
            let guild = try requestContext.requireGuild()
            let format = Query.text(request, "format") ?? "json"
            guard format == "json" || format == "csv" else { throw Query.invalid("format", "json or csv") }
            return Export(store: store, guild: guild, format: format).response()
        }
        context.route(.get, "/api/v1/encounters/:id", access: .guild(.query), summary: "One encounter with every character's figures") {
            _, requestContext in
            let guild = try requestContext.requireGuild()
            return Answer.guild(guild, data: try await detail(Query.id(requestContext), guild: guild))
        }
        context.route(.get, "/api/v1/encounters/:id/export", access: .guild(.query), summary: "One encounter as a JSON file") {
            request, requestContext in
            let guild = try requestContext.requireGuild()
            let id = try Query.id(requestContext)
            var response = try Answer.guild(guild, data: try await detail(id, guild: guild)).response(from: request, context: requestContext)
            response.headers[.contentDisposition] = "attachment; filename=\"encounter-\(id).json\""
            return response
        }
    }

    private func detail(_ id: Int64, guild: GuildScope) async throws -> JSONValue {
        guard let (encounter, metrics) = try await store.encounter(id, guild: guild.id) else {
            throw APIError.notFound("encounter_not_found", "The guild has no encounter \(id).")
        }
        guard case .object(var members) = encounter else { return .null }
        members["characters"] = try Answer.encode(metrics)
        return .object(members)
    }

    private func registerCharacters() {
        context.route(.get, "/api/v1/characters", access: .guild(.query), summary: "The guild's characters (?name= to filter)") {
            request, requestContext in
            let guild = try requestContext.requireGuild()
            let paging = try Paging(request)
            let (rows, total) = try await store.characters(
                guild: guild.id, nameContains: Query.text(request, "name"), limit: paging.limit, offset: paging.offset)
            return Answer.guild(guild, data: ["characters": try Answer.encode(rows), "total": .int(Int64(total))], paging: paging, total: total)
        }
        context.route(.get, "/api/v1/characters/:id", access: .guild(.query), summary: "A character and its history across encounters") {
            request, requestContext in
            let guild = try requestContext.requireGuild()
            let id = try Query.id(requestContext)
            let limit = try Paging(request, defaultLimit: 100).limit
            guard let (character, history) = try await store.character(id, guild: guild.id, limit: limit) else {
                throw APIError.notFound("character_not_found", "The guild has no character \(id).")
            }
            return Answer.guild(guild, data: ["character": try Answer.encode(character), "history": try Answer.encode(history)])
        }
    }

    private func registerAdmin() {
        context.route(.get, "/api/v1/admin/guilds/:id/activity", access: .admin, summary: "A guild's encounters per day (?days=30)") {
            request, requestContext in
            let guild = try Query.id(requestContext)
            let days = try Paging.integer(request, "days") ?? 30
            guard (1...3650).contains(days) else { throw Query.invalid("days", "from 1 to 3650") }
            return ["guild_id": .int(guild), "days": .int(Int64(days)), "activity": .array(try await store.activity(guild: guild, days: days))] as JSONValue
        }
        context.route(.get, "/api/v1/admin/guilds/:id/overview", access: .admin, summary: "A guild's encounters, characters and last activity") {
            _, requestContext in
            let guild = try Query.id(requestContext)
            return try await store.overview(guild: guild).first
                ?? ["guild_id": .int(guild), "uploads": 0, "encounters": 0, "characters": 0, "last_activity": .null]
        }
        context.route(.get, "/api/v1/admin/combatlog/guilds", access: .admin, summary: "Every guild's encounters, characters and last activity") {
            _, _ in
            ["guilds": .array(try await store.overview(guild: nil))] as JSONValue
        }
    }
}

extension HTTPField.Name {
    static let contentDisposition = Self("Content-Disposition")!
}
