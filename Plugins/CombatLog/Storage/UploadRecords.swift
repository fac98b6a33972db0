import Foundation
import PluginAPI

/// The uploads of `CombatLogStore`: their records, progress and ends, and what a stopped process left of them.
extension CombatLogStore {
    func createUpload(_ upload: UploadRow) async throws {
        try await database.execute(
            """
            INSERT INTO combatlog_uploads (id, guild_id, guild_name, key_id, uploaded_by, file_name, bytes, status, progress,
                created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
            """,
            [upload.id, upload.guildID, upload.guildName, upload.keyID, upload.uploadedBy, upload.fileName, upload.bytes,
             upload.status, upload.createdAt])
    }

    func updateProgress(_ id: String, guild: Int64, status: String, progress: Double, bytesParsed: Int64, events: Int64, encounters: Int64) async throws {
        try await database.execute(
            "UPDATE combatlog_uploads SET status = ?, progress = ?, bytes_parsed = ?, events = ?, encounters = ? WHERE guild_id = ? AND id = ?",
            [status, progress, bytesParsed, events, encounters, guild, id])
    }

    func finishUpload(_ id: String, guild: Int64, summary: ParseSummary?, error: String?) async throws {
        var text: String?
        if var summary {
            summary.characters = []  // kept as characters rows, not twice
            text = String(decoding: try JSONValue(encoding: summary).jsonData(), as: UTF8.self)
        }
        try await database.execute(
            """
            UPDATE combatlog_uploads SET status = ?, progress = CASE WHEN ? THEN 100 ELSE progress END, summary = ?, error = ?,
                finished_at = ?, events = COALESCE(?, events), encounters = COALESCE(?, encounters)
            WHERE guild_id = ? AND id = ?
            """,
            [error == nil ? "completed" : "failed", error == nil, text, error, Date(), summary.map { Int64($0.events) },
             summary.map { Int64($0.encounters) }, guild, id])
    }

    func upload(_ id: String, guild: Int64) async throws -> UploadRow? {
        try await database.read {
            try $0.queryOne(UploadRow.self, "SELECT * FROM combatlog_uploads WHERE guild_id = ? AND id = ?", [guild, id])
        }
    }

    func uploads(guild: Int64, limit: Int, offset: Int) async throws -> (rows: [UploadRow], total: Int) {
        try await database.read { connection in
            let total = try connection.scalar("SELECT COUNT(*) FROM combatlog_uploads WHERE guild_id = ?", [guild]) ?? 0
            let rows = try connection.query(
                UploadRow.self, "SELECT * FROM combatlog_uploads WHERE guild_id = ? ORDER BY created_at DESC LIMIT ? OFFSET ?",
                [guild, limit, offset])
            return (rows, Int(total))
        }
    }

    /// Uploads whose parse did not finish: left `processing` or `throttled` when the server stopped.
    func unfinishedUploads() async throws -> [UploadRow] {
        try await database.read { connection in
            try connection.query(UploadRow.self, "SELECT * FROM combatlog_uploads WHERE status IN ('processing', 'throttled')", [])
        }
    }

    /// Counts one more resumption of upload `id`; answers how many there were before this one.
    func noteResume(_ id: String, guild: Int64) async throws -> Int64 {
        try await database.write { connection in
            let before = try connection.scalar("SELECT resumes FROM combatlog_uploads WHERE guild_id = ? AND id = ?", [guild, id]) ?? 0
            try connection.execute("UPDATE combatlog_uploads SET resumes = resumes + 1 WHERE guild_id = ? AND id = ?", [guild, id])
            return before
        }
    }

    /// Forgets the resumptions of upload `id`: it was stopped gracefully (unload, shutdown), not by itself.
    func clearResumes(_ id: String, guild: Int64) async throws {
        try await database.execute("UPDATE combatlog_uploads SET resumes = 0 WHERE guild_id = ? AND id = ?", [guild, id])
    }

    /// Removes the encounters (and their figures) an upload had stored, and starts its figures again at nothing:
    /// a parse that starts over, or fails, leaves no half of the upload behind.
    func discardEncounters(ofUpload id: String, guild: Int64, failure: String?) async throws {
        try await database.write { connection in
            _ = try Self.deleteEncounters(guild: guild, where: "upload_id = ?", [id], connection)
            try connection.execute(
                """
                UPDATE combatlog_uploads SET status = ?, progress = 0, bytes_parsed = 0, events = 0, encounters = 0, error = ?,
                    finished_at = ? WHERE guild_id = ? AND id = ?
                """, [failure == nil ? "processing" : "failed", failure, failure == nil ? nil : Date(), guild, id])
        }
    }
}
