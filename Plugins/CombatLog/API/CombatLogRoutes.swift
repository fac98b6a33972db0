import Foundation
import PluginAPI

/// The cog's HTTP API: uploads, encounters, characters, exports (guild keys and members, always within the
/// caller's guild) and the admins' activity and overview of every guild.
struct CombatLogRoutes {
    let context: any CogContext<CombatLogConfig>
    let store: CombatLogStore
    let processor: UploadProcessor

    struct UploadPath: Decodable, Sendable {
        var uploadID: String
    }

    struct EncounterQuery: PagedQuery {
        var limit: Int?
        var offset: Int?
        var bossName: String?
        var difficulty: String?
        var success: Bool?
        var dateFrom: String?
        var dateTo: String?
    }

    struct SearchQuery: PagedQuery {
        var limit: Int?
        var offset: Int?
        var bossName: String
    }

    enum ExportFormat: String, Codable, Sendable, CaseIterable {
        case json, csv
    }

    struct ExportQuery: Decodable, Sendable {
        var format: ExportFormat?
    }

    struct CharacterQuery: PagedQuery {
        var limit: Int?
        var offset: Int?
        var name: String?
    }

    struct ActivityQuery: Decodable, Sendable {
        var days: Int?
    }

    /// Every answer of the guild's routes: `{guild_id, guild_name, data, pagination?}`.
    private static let guildAnswer = ResponseDescription.json(.ok, JSONValue.self, "`{guild_id, guild_name, data, pagination}`")

    func register() {
        registerUploads()
        registerEncounters()
        registerCharacters()
        registerAdmin()
    }

    private func registerUploads() {
        context.route(
            .post, "/api/v1/logs/upload", access: .guild(.upload), summary: "Upload a combat log (multipart file or raw body)",
            streamedBody: .accepting("multipart/form-data", "text/plain", "application/octet-stream"),
            responses: [
                .json(.accepted, JSONValue.self, "Stored; parsing goes on in the background"),
                .error(.unprocessableContent, "not_a_combat_log"), .error(.badRequest, "empty_upload", "invalid_upload"),
                .error(.contentTooLarge, "payload_too_large"),
            ]
        ) { call in
            let guild = try call.requireGuild()
            let caller = try call.requireIdentity()
            let config = try context.config(for: guild)
            let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let received = try await UploadReceiver(folder: UploadProcessor.spool(context), maxBytes: config.maxUploadBytes)
                .receive(call.request, id: id)
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
            guard processor.start(upload, file: received.file, guild: guild, caller: caller) else {
                try? FileManager.default.removeItem(at: received.file)
                try? await store.finishUpload(id, guild: guild.id, summary: nil, error: "cancelled: the cog was unloaded")
                throw APIError(.serviceUnavailable, "cog_unloading", "The combat log cog is being unloaded; upload again shortly.")
            }
            return JSONResponse(.accepted, [
                "upload_id": .string(id), "guild_id": .int(guild.id), "guild_name": .string(guild.name),
                "file_name": .string(received.fileName), "bytes": .int(received.bytes), "status": "processing",
                "message": .string("File uploaded successfully for \(guild.name). Upload ID: \(id)"),
            ] as JSONValue)
        }
        context.route(
            .get, "/api/v1/logs", access: .guild(.query), summary: "The guild's uploads, newest first", query: PageQuery.self,
            responses: [Self.guildAnswer]
        ) { call in
            let guild = try call.requireGuild()
            let paging = try Paging(call.query)
            let (rows, total) = try await store.uploads(guild: guild.id, limit: paging.limit, offset: paging.offset)
            return Answer.guild(guild, data: ["uploads": .array(try rows.map { try $0.json }), "total": .int(Int64(total))], paging: paging, total: total)
        }
        context.route(
            .get, "/api/v1/logs/{upload_id}", access: .guild(.query), summary: "An upload's status, progress, counts and errors",
            parameters: UploadPath.self, responses: [Self.guildAnswer, .error(.notFound, "upload_not_found")]
        ) { call in
            let guild = try call.requireGuild()
            guard let upload = try await store.upload(call.parameters.uploadID, guild: guild.id) else {
                throw APIError.notFound("upload_not_found", "The guild has no such upload.")
            }
            return Answer.guild(guild, data: try upload.json)
        }
    }

    private func registerEncounters() {
        context.route(
            .get, "/api/v1/encounters", access: .guild(.query), summary: "The guild's encounters, newest first",
            query: EncounterQuery.self, responses: [Self.guildAnswer]
        ) { call in
            let guild = try call.requireGuild()
            let query = call.query
            let paging = try Paging(query)
            let filter = try CombatLogStore.EncounterFilter(
                bossName: query.bossName, difficulty: query.difficulty, success: query.success,
                from: QueryDate.parse(query.dateFrom, "date_from"), to: QueryDate.parse(query.dateTo, "date_to", endOfDay: true))
            let (rows, total) = try await store.encounters(guild: guild.id, filter: filter, limit: paging.limit, offset: paging.offset)
            return Answer.guild(guild, data: ["encounters": .array(rows), "total": .int(Int64(total))], paging: paging, total: total)
        }
        context.route(
            .get, "/api/v1/encounters/search", access: .guild(.query), summary: "Encounters whose boss name contains ?boss_name=",
            query: SearchQuery.self, responses: [Self.guildAnswer]
        ) { call in
            let guild = try call.requireGuild()
            let paging = try Paging(call.query)
            let (rows, total) = try await store.encounters(
                guild: guild.id, filter: .init(bossNameContains: call.query.bossName), limit: paging.limit, offset: paging.offset)
            return Answer.guild(guild, data: ["encounters": .array(rows), "total": .int(Int64(total))], paging: paging, total: total)
        }
        context.route(
            .get, "/api/v1/encounters/stats", access: .guild(.query), summary: "The guild's totals", responses: [Self.guildAnswer]
        ) { call in
            let guild = try call.requireGuild()
            let statistics = try Answer.encode(try await store.statistics(guild: guild.id))
            var answer = Answer.guild(guild, data: statistics)
            if case .object(var members) = answer {
                members["statistics"] = statistics  // the document's name for it
                answer = .object(members)
            }
            return answer
        }
        context.route(
            .get, "/api/v1/encounters/export", access: .guild(.query), summary: "Every encounter of the guild as ?format=json or csv",
            query: ExportQuery.self, responses: [.json(.ok, JSONValue.self, "A JSON file"), .content(.ok, "text/csv", "A CSV file")]
        ) { call in
            let guild = try call.requireGuild()
            return Export(store: store, guild: guild, format: (call.query.format ?? .json).rawValue).response()
        }
        context.route(
            .get, "/api/v1/encounters/{id}", access: .guild(.query), summary: "One encounter with every character's figures",
            parameters: RecordPath.self, responses: [Self.guildAnswer, .error(.notFound, "encounter_not_found")]
        ) { call in
            let guild = try call.requireGuild()
            return Answer.guild(guild, data: try await detail(call.parameters.id, guild: guild))
        }
        context.route(
            .get, "/api/v1/encounters/{id}/export", access: .guild(.query), summary: "One encounter as a JSON file",
            parameters: RecordPath.self, responses: [Self.guildAnswer, .error(.notFound, "encounter_not_found")]
        ) { call in
            let guild = try call.requireGuild()
            let id = call.parameters.id
            var response = try Answer.guild(guild, data: try await detail(id, guild: guild)).response()
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
        context.route(
            .get, "/api/v1/characters", access: .guild(.query), summary: "The guild's characters (?name= to filter)",
            query: CharacterQuery.self, responses: [Self.guildAnswer]
        ) { call in
            let guild = try call.requireGuild()
            let paging = try Paging(call.query)
            let (rows, total) = try await store.characters(
                guild: guild.id, nameContains: call.query.name, limit: paging.limit, offset: paging.offset)
            return Answer.guild(guild, data: ["characters": try Answer.encode(rows), "total": .int(Int64(total))], paging: paging, total: total)
        }
        context.route(
            .get, "/api/v1/characters/{id}", access: .guild(.query), summary: "A character and its history across encounters",
            parameters: RecordPath.self, query: PageQuery.self, responses: [Self.guildAnswer, .error(.notFound, "character_not_found")]
        ) { call in
            let guild = try call.requireGuild()
            let id = call.parameters.id
            let limit = try Paging(call.query, defaultLimit: 100).limit
            guard let (character, history) = try await store.character(id, guild: guild.id, limit: limit) else {
                throw APIError.notFound("character_not_found", "The guild has no character \(id).")
            }
            return Answer.guild(guild, data: ["character": try Answer.encode(character), "history": try Answer.encode(history)])
        }
    }

    private func registerAdmin() {
        context.route(
            .get, "/api/v1/admin/guilds/{id}/activity", access: .admin, summary: "A guild's encounters per day (?days=30)",
            parameters: RecordPath.self, query: ActivityQuery.self, responses: [.json(.ok, JSONValue.self, "`{guild_id, days, activity}`")]
        ) { call in
            let guild = call.parameters.id
            let days = call.query.days ?? 30
            guard (1...3650).contains(days) else { throw QueryDate.invalid("days", "from 1 to 3650") }
            return ["guild_id": .int(guild), "days": .int(Int64(days)), "activity": .array(try await store.activity(guild: guild, days: days))] as JSONValue
        }
        context.route(
            .get, "/api/v1/admin/guilds/{id}/overview", access: .admin, summary: "A guild's encounters, characters and last activity",
            parameters: RecordPath.self, responses: [.json(.ok, JSONValue.self, "`{guild_id, uploads, encounters, characters, last_activity}`")]
        ) { call in
            let guild = call.parameters.id
            return try await store.overview(guild: guild).first
                ?? ["guild_id": .int(guild), "uploads": 0, "encounters": 0, "characters": 0, "last_activity": .null]
        }
        context.route(
            .post, "/api/v1/admin/combatlog/move", access: .admin,
            summary: "Move encounters between guilds with their characters' figures, in one transaction: {encounter_ids, from_guild_id, to_guild_id}",
            body: MoveRequest.self,
            responses: [
                .json(.ok, CombatLogStore.Moved.self, "`{encounters, characters_created}`"),
                .error(.notFound, "encounter_not_found", "guild_not_found"), .error(.badRequest, "invalid_field"),
            ]
        ) { call in
            let move = call.body
            guard (1...1000).contains(move.encounterIDs.count) else {
                throw APIError(.badRequest, "invalid_field", "encounter_ids holds 1 to 1000 ids.", details: ["field": "encounter_ids"])
            }
            guard move.fromGuildID != move.toGuildID else {
                throw APIError(.badRequest, "invalid_field", "from_guild_id and to_guild_id are the same guild.", details: ["field": "to_guild_id"])
            }
            guard let target = try await context.people.guild(move.toGuildID) else {
                throw APIError(.notFound, "guild_not_found", "There is no active guild \(move.toGuildID).", details: ["field": "to_guild_id"])
            }
            let moved = try await store.move(Array(Set(move.encounterIDs)), from: move.fromGuildID, to: target.id)
            context.events.publish(
                "combatlog.encounters.moved",
                payload: ["from_guild_id": .int(move.fromGuildID), "to_guild_id": .int(target.id), "encounters": .int(Int64(moved.encounters))] as JSONValue,
                guild: target.id, correlationID: call.requestID)
            return JSONResponse(.ok, moved)
        }
        context.route(
            .get, "/api/v1/admin/combatlog/guilds", access: .admin, summary: "Every guild's encounters, characters and last activity",
            responses: [.json(.ok, JSONValue.self, "`{guilds: [...]}`")]
        ) { _ in
            ["guilds": .array(try await store.overview(guild: nil))] as JSONValue
        }
    }
}

extension HTTPField.Name {
    static let contentDisposition = Self("Content-Disposition")!
}

/// `POST /api/v1/admin/combatlog/move`.
struct MoveRequest: Decodable, Sendable {
    var encounterIDs: [Int64]
    var fromGuildID: Int64
    var toGuildID: Int64
    enum CodingKeys: String, CodingKey {
        case encounterIDs = "encounter_ids", fromGuildID = "from_guild_id", toGuildID = "to_guild_id"
    }
}
