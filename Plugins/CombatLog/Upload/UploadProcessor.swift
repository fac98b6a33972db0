import Foundation
import PluginAPI
import Synchronization

/// Parses stored uploads in the background (work spawned in the cog, so unload waits for it or cancels it): a chunk at a time, storing each encounter as the
/// log closes it, telling the guild's gateway connections how it goes, and charging parsed events to the
/// uploader's budget (waiting when it is spent).
struct UploadProcessor: Sendable {
    let store: CombatLogStore
    let context: any CogContext<CombatLogConfig>
    /// Progress is written and sent at the start, after every `progressStep` percent or `progressInterval` of
    /// parsing (whichever comes first), and at 100: a whole raid pull parses in well under a second, and clients
    /// written to the combat log document wait for `progress` frames.
    static let progressInterval = Duration.milliseconds(500)
    static let progressStep = 5.0

    /// Uploads being parsed in this process, by whichever instance of the cog: at setup, an upload the database says
    /// is being parsed but that is not here was cut off by a stop of the whole process (`kill -9`, a power cut).
    private static let inThisProcess = Mutex<Set<String>>([])

    /// The folder uploads are spooled in until they are parsed.
    static func spool(_ context: any CogContext<CombatLogConfig>) -> URL {
        context.dataDirectory.appendingPathComponent("uploads")
    }

    /// Starts processing; false if the cog is being unloaded (nothing runs then).
    func start(_ upload: UploadRow, file: URL, guild: GuildScope, caller: Identity?) -> Bool {
        Self.inThisProcess.withLock { _ = $0.insert(upload.id) }
        let started = context.spawn("upload \(upload.id)") { [self] in
            var resumable = false
            defer {
                if !resumable { try? FileManager.default.removeItem(at: file) }
                Self.inThisProcess.withLock { _ = $0.remove(upload.id) }
            }
            do {
                try await process(upload, file: file, guild: guild, caller: caller)
            } catch is CancellationError {
                // Unloaded, or the host is stopping: the file stays, and the next load parses it again from the start.
                // Not the log's fault, so it does not count as a resumption that stopped the server.
                resumable = true
                try? await store.clearResumes(upload.id, guild: guild.id)
            } catch {
                context.logger.error("combat log upload failed", metadata: ["upload": "\(upload.id)", "error": "\(error)"])
                try? await store.finishUpload(upload.id, guild: guild.id, summary: nil, error: "\(error)")
            }
        }
        if !started { Self.inThisProcess.withLock { _ = $0.remove(upload.id) } }
        return started
    }

    /// Finishes what a stopped process left: an interrupted upload whose spooled file is still there is parsed again
    /// from the start (its partial encounters removed first), once; one whose file is gone, or that was resumed before
    /// and stopped the process again (a log that crashes or kills the server must not do so at every start), is
    /// marked failed with its reason, its partial encounters and file removed. Either way a guild never keeps half an
    /// upload, and the host starts.
    func resumeInterrupted() async throws {
        let interrupted = try await store.unfinishedUploads().filter { upload in
            !Self.inThisProcess.withLock { $0.contains(upload.id) }
        }
        for upload in interrupted {
            let file = Self.spool(context).appendingPathComponent("\(upload.id).log")
            let guild = GuildScope(id: upload.guildID, name: upload.guildName)
            guard FileManager.default.fileExists(atPath: file.path) else {
                try await store.discardEncounters(
                    ofUpload: upload.id, guild: upload.guildID,
                    failure: "interrupted: the server stopped while parsing and the file is gone; upload again")
                context.logger.warning("interrupted upload failed", metadata: ["upload": "\(upload.id)"])
                continue
            }
            guard try await store.noteResume(upload.id, guild: upload.guildID) == 0 else {
                try await store.discardEncounters(
                    ofUpload: upload.id, guild: upload.guildID,
                    failure: "interrupted twice: the server stopped while parsing this log, and again when it was resumed; not tried again")
                try? FileManager.default.removeItem(at: file)
                context.logger.warning("upload stopped the server twice; failed", metadata: ["upload": "\(upload.id)"])
                continue
            }
            try await store.discardEncounters(ofUpload: upload.id, guild: upload.guildID, failure: nil)
            let caller = upload.keyID.map { key in
                Identity(userID: 0, username: "api-key:\(key)", role: .user, apiKey: APIKeyGrant(id: key, guildID: upload.guildID, permissions: []))
            }
            context.logger.info("resuming interrupted upload", metadata: ["upload": "\(upload.id)", "guild": "\(upload.guildID)"])
            _ = start(upload, file: file, guild: guild, caller: caller)
        }
    }

    /// Encounters the parser's callback closed, drained between chunks.
    private final class Finished {
        var encounters: [ParsedEncounter] = []
    }

    /// The reader and what it closed, handed between this task and the parsing thread: one of them uses it at a time
    /// (the task awaits each step).
    private struct Parse: @unchecked Sendable {
        let reader: CombatLogReader
        let finished: Finished
    }

    /// An upload the parser refuses to go on with.
    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    private func process(_ upload: UploadRow, file: URL, guild: GuildScope, caller: Identity?) async throws {
        let settings = try context.config(for: guild)
        let finished = Finished()
        let reader = try CombatLogReader(file, recapWindowMs: Int64(settings.deathRecapSeconds) * 1000) { finished.encounters.append($0) }
        let parse = Parse(reader: reader, finished: finished)
        let thread = BackgroundThread(name: "combatlog \(upload.id)")
        defer { thread.stop() }
        var charged = 0
        var stored: Int64 = 0
        try await report(upload, guild: guild, status: "processing", reader: reader, stored: stored)
        var lastReport = (time: ContinuousClock.now, progress: 0.0)
        var more = true
        while more {
            try Task.checkCancellation()
            more = try await thread.run { try parse.reader.step() }
            // A small gzip file can stand for an enormous log: the limit counts what is parsed, not what was sent.
            guard reader.bytesParsed <= settings.maxUploadBytes else {
                throw Refusal(description: "the log is larger than max_upload_bytes (\(settings.maxUploadBytes) bytes) once decompressed")
            }
            // Each chunk's lines are paid for before its encounters are kept: every line read costs parsing, blank
            // or malformed ones too.
            let lines = reader.parser.summary.lines
            if lines > charged {
                try await charge(lines - charged, upload: upload, guild: guild, caller: caller, reader: reader, stored: stored)
                charged = lines
            }
            for encounter in finished.encounters {
                try await record(encounter, characters: reader.parser.characters(of: encounter), upload: upload, guild: guild)
                stored += 1
            }
            finished.encounters.removeAll()
            let progress = Self.progress(of: reader)
            if more, ContinuousClock.now - lastReport.time >= Self.progressInterval || progress - lastReport.progress >= Self.progressStep {
                lastReport = (ContinuousClock.now, progress)
                try await report(upload, guild: guild, status: "processing", reader: reader, stored: stored)
            }
            await Task.yield()
        }
        let summary = try await thread.run { parse.reader.finish() }
        for encounter in finished.encounters {
            try await record(encounter, characters: reader.parser.characters(of: encounter), upload: upload, guild: guild)
        }
        try await store.finishUpload(upload.id, guild: guild.id, summary: summary, error: nil)
        context.broadcast(toGuild: guild.id, frame("progress", guild, [
            "upload_id": .string(upload.id), "status": "completed", "progress": 100, "bytes_parsed": .int(reader.bytesRead),
            "bytes": .int(reader.size), "events": .int(Int64(summary.events)), "encounters": .int(Int64(summary.encounters)),
        ]))
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

    /// Percent of the file read, to one decimal. 100 is kept for the end: the last encounters may still be being
    /// stored when every byte has been read.
    private static func progress(of reader: CombatLogReader) -> Double {
        reader.size > 0 ? min(99.9, (Double(reader.bytesRead) / Double(reader.size) * 1000).rounded() / 10) : 0
    }

    private func report(_ upload: UploadRow, guild: GuildScope, status: String, reader: CombatLogReader, stored: Int64) async throws {
        let progress = Self.progress(of: reader)
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
