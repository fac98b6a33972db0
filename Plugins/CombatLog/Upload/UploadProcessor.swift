import Foundation
import PluginAPI
import Synchronization

/// Parses stored uploads in the background (work spawned in the cog, so unload waits for it or cancels it): a chunk at a time, storing each encounter as the
/// log closes it, telling the guild's gateway connections how it goes, and charging parsed events to the
/// uploader's budget (waiting when it is spent).
struct UploadProcessor: Sendable {
    let store: CombatLogStore
    let context: any CogContext<CombatLogConfig>
    /// How often progress is written and sent.
    static let progressInterval = Duration.milliseconds(500)

    /// Starts processing; false if the cog is being unloaded (nothing runs then).
    func start(_ upload: UploadRow, file: URL, guild: GuildScope, caller: Identity?) -> Bool {
        context.spawn("upload \(upload.id)") { [self] in
            defer { try? FileManager.default.removeItem(at: file) }
            do {
                try await process(upload, file: file, guild: guild, caller: caller)
            } catch is CancellationError {
                try? await store.finishUpload(upload.id, guild: guild.id, summary: nil, error: "cancelled: the cog was unloaded")
            } catch {
                context.logger.error("combat log upload failed", metadata: ["upload": "\(upload.id)", "error": "\(error)"])
                try? await store.finishUpload(upload.id, guild: guild.id, summary: nil, error: "\(error)")
            }
        }
    }

    /// Encounters the parser's callback closed, drained between chunks.
    private final class Finished {
        var encounters: [ParsedEncounter] = []
    }

    private func process(_ upload: UploadRow, file: URL, guild: GuildScope, caller: Identity?) async throws {
        let finished = Finished()
        let reader = try CombatLogReader(file) { finished.encounters.append($0) }
        var charged = 0
        var stored: Int64 = 0
        var lastReport = ContinuousClock.now
        var more = true
        while more {
            try Task.checkCancellation()
            more = try reader.step()
            // Each chunk's events are paid for before its encounters are kept.
            let events = reader.parser.summary.events
            if events > charged {
                try await charge(events - charged, upload: upload, guild: guild, caller: caller, reader: reader, stored: stored)
                charged = events
            }
            for encounter in finished.encounters {
                try await record(encounter, characters: reader.parser.characters(of: encounter), upload: upload, guild: guild)
                stored += 1
            }
            finished.encounters.removeAll()
            if ContinuousClock.now - lastReport >= Self.progressInterval {
                lastReport = ContinuousClock.now
                try await report(upload, guild: guild, status: "processing", reader: reader, stored: stored)
            }
            await Task.yield()
        }
        let summary = reader.finish()
        for encounter in finished.encounters {
            try await record(encounter, characters: reader.parser.characters(of: encounter), upload: upload, guild: guild)
        }
        try await store.finishUpload(upload.id, guild: guild.id, summary: summary, error: nil)
        context.broadcast(toGuild: guild.id, frame("upload_complete", guild, [
            "upload_id": .string(upload.id), "progress": 100, "events": .int(Int64(summary.events)),
            "encounters": .int(Int64(summary.encounters)), "malformed_lines": .int(Int64(summary.malformedLines)),
        ]))
        context.events.publish(
            "combatlog.upload.completed", payload: ["upload_id": .string(upload.id), "encounters": .int(Int64(summary.encounters))] as JSONValue,
            guild: guild.id, correlationID: upload.id)
    }

    /// Charges parsed events, waiting (status `throttled`) while the key's or guild's budget is spent.
    private func charge(_ events: Int, upload: UploadRow, guild: GuildScope, caller: Identity?, reader: CombatLogReader, stored: Int64) async throws {
        while true {
            do {
                try await context.chargeEvents(events, in: guild, by: caller)
                return
            } catch let refusal as APIError where refusal.status == .tooManyRequests {
                try await report(upload, guild: guild, status: "throttled", reader: reader, stored: stored)
                let seconds = refusal.details["retry_after"].flatMap { if case .int(let value) = $0 { value } else { nil } } ?? Int64(1)
                try await Task.sleep(for: .seconds(max(1, seconds)))
            }
        }
    }

    private func report(_ upload: UploadRow, guild: GuildScope, status: String, reader: CombatLogReader, stored: Int64) async throws {
        // 100 is kept for the end: the last encounters may still be being stored when every byte has been read.
        let progress = reader.size > 0 ? min(99.9, (Double(reader.bytesRead) / Double(reader.size) * 1000).rounded() / 10) : 0
        let events = Int64(reader.parser.summary.events)
        try await store.updateProgress(
            upload.id, guild: guild.id, status: status, progress: progress, bytesParsed: reader.bytesRead, events: events, encounters: stored)
        context.broadcast(toGuild: guild.id, frame("progress", guild, [
            "upload_id": .string(upload.id), "status": .string(status), "progress": .double(progress),
            "bytes_parsed": .int(reader.bytesRead), "bytes": .int(reader.size), "events": .int(events), "encounters": .int(stored),
        ]))
    }

    private func record(_ encounter: ParsedEncounter, characters: [String: ParsedCharacter], upload: UploadRow, guild: GuildScope) async throws {
        let id = try await store.store(encounter, characters: characters, guild: guild.id, upload: upload.id)
        let duration = Int64((Double(encounter.durationMs) / 1000).rounded())
        context.broadcast(toGuild: guild.id, frame("encounter_complete", guild, [
            "upload_id": .string(upload.id), "encounter_id": .int(id), "boss_name": .string(encounter.bossName),
            "difficulty": .string(encounter.difficulty), "success": .bool(encounter.success), "duration": .int(duration),
            "players": .int(Int64(encounter.characters.count)),
        ]))
        var raid: [String: JSONValue] = [
            "type": "raid", "raid_id": .string("encounter-\(id)"), "raid_name": .string(encounter.instanceName ?? encounter.bossName),
            "boss_name": .string(encounter.bossName), "difficulty": .string(encounter.difficulty),
            "status": encounter.success ? "victory" : "wipe", "duration_seconds": .int(duration), "guild_id": .string(String(guild.id)),
        ]
        raid["participants"] = .array(encounter.characters.compactMap { characters[$0.guid]?.name }.filter { !$0.isEmpty }.map(JSONValue.string))
        do {
            try await context.liveLog.post(.object(raid))
        } catch {
            context.logger.warning("raid message not posted", metadata: ["error": "\(error)"])
        }
        context.events.publish("combatlog.encounter", payload: ["id": .int(id), "boss_name": .string(encounter.bossName)] as JSONValue, guild: guild.id, correlationID: upload.id)
    }

    /// A gateway frame as the combat log document's clients read it (`type`) and ours do (`action`).
    private func frame(_ name: String, _ guild: GuildScope, _ members: [String: JSONValue]) -> JSONValue {
        var frame = members
        frame["action"] = .string(name)
        frame["type"] = .string(name)
        frame["guild_id"] = .int(guild.id)
        frame["guild_name"] = .string(guild.name)
        return .object(frame)
    }
}
