import Foundation
import PluginAPI

/// Every encounter of a guild as one JSON document or CSV file, written a page at a time so the answer streams
/// whatever the guild's history.
struct Export {
    let store: CombatLogStore
    let guild: GuildScope
    let format: String
    static let pageSize = 500

    func response() -> CogResponse {
        let store = self.store, guild = self.guild, csv = format == "csv"
        var response = CogResponse.stream(contentType: csv ? "text/csv; charset=utf-8" : "application/json; charset=utf-8") { writer in
            var offset = 0
            try await writer.write(ByteBuffer(string: csv ? EncounterJSON.csvHeader : Self.jsonStart(guild)))
            while true {
                let (rows, _) = try await store.encounters(guild: guild.id, filter: .init(), limit: Self.pageSize, offset: offset)
                var chunk = ""
                for (index, row) in rows.enumerated() {
                    if csv {
                        chunk += EncounterJSON.csvLine(row)
                    } else {
                        if offset + index > 0 { chunk += "," }
                        chunk += String(decoding: row.jsonData(), as: UTF8.self)
                    }
                }
                if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
                offset += rows.count
                if rows.count < Self.pageSize { break }
            }
            if !csv { try await writer.write(ByteBuffer(string: "]}")) }
        }
        response.headers[.contentDisposition] = "attachment; filename=\"guild-\(guild.id)-encounters.\(format)\""
        return response
    }

    private static func jsonStart(_ guild: GuildScope) -> String {
        let head = String(decoding: (["guild_id": .int(guild.id), "guild_name": .string(guild.name)] as JSONValue).jsonData(), as: UTF8.self)
        return String(head.dropLast()) + ",\"encounters\":["
    }
}
