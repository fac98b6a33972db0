import Foundation
import PluginAPI

/// The breakdowns of one encounter, guild-scoped like the rest: `/api/v1/encounters/{id}/abilities`, `/deaths`,
/// `/interrupts` and `/timeline`. `character` is a character id of the guild (as `/api/v1/characters` lists them).
struct BreakdownRoutes {
    let context: any CogContext<CombatLogConfig>
    let store: CombatLogStore

    enum AbilityKind: String, Decodable, Sendable {
        case damage, healing, taken
    }

    struct AbilityQuery: Decodable, Sendable {
        var character: Int64?
        var kind: AbilityKind?
    }

    struct TimelineQuery: Decodable, Sendable {
        var character: Int64?
    }

    private static let answer = ResponseDescription.json(.ok, JSONValue.self, "`{guild_id, guild_name, data}`")
    private static let missing = ResponseDescription.error(.notFound, "encounter_not_found")

    func register() {
        context.route(
            .get, "/api/v1/encounters/{id}/abilities", access: .guild(.query),
            summary: "Damage, healing and damage taken by ability: ?character (id), ?kind=damage|healing|taken",
            parameters: RecordPath.self, query: AbilityQuery.self, responses: [Self.answer, Self.missing]
        ) { call in
            let guild = try call.requireGuild()
            let id = try await existing(call.parameters.id, guild)
            let rows = try await store.abilities(of: id, guild: guild.id, character: call.query.character, kind: call.query.kind?.rawValue)
            return Answer.guild(guild, data: ["encounter_id": .int(id), "abilities": .array(rows.map(Self.object))])
        }
        context.route(
            .get, "/api/v1/encounters/{id}/deaths", access: .guild(.query),
            summary: "Each player death: the killing blow, what they took and were healed before it, a battle resurrection",
            parameters: RecordPath.self, responses: [Self.answer, Self.missing]
        ) { call in
            let guild = try call.requireGuild()
            let id = try await existing(call.parameters.id, guild)
            let deaths = try await store.deaths(of: id, guild: guild.id).map { row -> JSONValue in
                var death = row.mapValues(\.json)
                for key in ["killing_blow", "events"] {
                    if let text = death[key]?.stringValue { death[key] = (try? JSONValue(parsing: Data(text.utf8))) ?? .null }
                }
                return .object(death)
            }
            return Answer.guild(guild, data: ["encounter_id": .int(id), "deaths": .array(deaths)])
        }
        context.route(
            .get, "/api/v1/encounters/{id}/interrupts", access: .guild(.query),
            summary: "Interrupts and dispels per character: what was interrupted or dispelled, how often",
            parameters: RecordPath.self, responses: [Self.answer, Self.missing]
        ) { call in
            let guild = try call.requireGuild()
            let id = try await existing(call.parameters.id, guild)
            let rows = try await store.interrupts(of: id, guild: guild.id)
            return Answer.guild(guild, data: ["encounter_id": .int(id), "interrupts": .array(rows.map(Self.object))])
        }
        context.route(
            .get, "/api/v1/encounters/{id}/timeline", access: .guild(.query),
            summary: "Damage and healing per second: the raid's, or one character's (?character=id)",
            parameters: RecordPath.self, query: TimelineQuery.self, responses: [Self.answer, Self.missing]
        ) { call in
            let guild = try call.requireGuild()
            let id = try await existing(call.parameters.id, guild)
            let character = call.query.character ?? 0
            guard let row = try await store.timeline(of: id, guild: guild.id, character: character) else {
                throw APIError.notFound("character_not_found", "Character \(character) did not take part in encounter \(id).")
            }
            func series(_ key: String) -> JSONValue {
                row[key].flatMap { $0.json.stringValue }.flatMap { try? JSONValue(parsing: Data($0.utf8)) } ?? []
            }
            return Answer.guild(guild, data: [
                "encounter_id": .int(id), "character_id": call.query.character.map(JSONValue.int) ?? .null,
                "seconds": .int(Int64(series("damage").arrayValue?.count ?? 0)), "damage": series("damage"), "healing": series("healing"),
            ])
        }
    }

    /// `id` if it is one of `guild`'s encounters; 404 `encounter_not_found` otherwise (another guild's ids too).
    private func existing(_ id: Int64, _ guild: GuildScope) async throws -> Int64 {
        guard try await store.hasEncounter(id, guild: guild.id) else {
            throw APIError.notFound("encounter_not_found", "The guild has no encounter \(id).")
        }
        return id
    }

    private static func object(_ row: [String: SQLValue]) -> JSONValue { .object(row.mapValues(\.json)) }
}
