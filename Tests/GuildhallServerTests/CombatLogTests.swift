import CombatLogCog
import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

final class CombatLogTests: XCTestCase {
    typealias F = CombatLogFixtures
    static let catalogue: [any Cog.Type] = [CombatLogCog.self]

    /// Uploads `text` as the raw body with `key`; answers the reply.
    static func upload(_ text: String, key: String, on server: LiveServer, name: String = "WoWCombatLog-021626_230000.txt") async throws -> LiveServer.Reply {
        try await server.request(.POST, "/api/v1/logs/upload", token: key, raw: text, headers: [("X-File-Name", name)])
    }

    /// Waits for upload `id` to finish and answers its record.
    static func finished(_ id: String, key: String, on server: LiveServer) async throws -> JSONValue {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let record = try await server.request(.GET, "/api/v1/logs/\(id)", token: key).json["data"] ?? .null
            if record["status"] == "completed" || record["status"] == "failed" || ContinuousClock.now > deadline { return record }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func uploadAndWait(_ text: String, key: String, on server: LiveServer) async throws -> JSONValue {
        let reply = try await upload(text, key: key, on: server)
        guard reply.status == 202, let id = reply.json["upload_id"]?.stringValue else {
            throw TestFailure("upload: \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
        }
        return try await finished(id, key: key, on: server)
    }

    func testAnUploadBecomesEncountersCharactersAndExports() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let accepted = try await Self.upload(F.tww(), key: tenants.keyA, on: server)
            XCTAssertEqual(accepted.status, 202)
            XCTAssertEqual(accepted.json["status"], "processing")
            XCTAssertEqual(accepted.json["guild_id"], .int(tenants.a))
            XCTAssertEqual(accepted.json["guild_name"], "Alpha")
            XCTAssertEqual(accepted.json["file_name"], "WoWCombatLog-021626_230000.txt")
            let record = try await Self.finished(accepted.json["upload_id"]!.stringValue!, key: tenants.keyA, on: server)
            XCTAssertEqual(record["status"], "completed")
            XCTAssertEqual(record["progress"], 100)
            XCTAssertEqual(record["encounters"], 2)
            XCTAssertEqual(record["summary"]?["malformed_lines"], 1)
            XCTAssertEqual(record["summary"]?["problems"]?.arrayValue?.first?["line"], 30, "the cut last line, by number")
            XCTAssertEqual(record["summary"]?["trash_segments"], 2)

            let listing = try await server.request(.GET, "/api/v1/encounters?limit=1", token: tenants.keyA)
            XCTAssertEqual(listing.json["guild_name"], "Alpha")
            XCTAssertEqual(listing.json["pagination"], ["limit": 1, "offset": 0, "total": 2, "has_more": true])
            guard let newest = listing.json["data"]?["encounters"]?.arrayValue?.first, case .int(let killID)? = newest["id"] else {
                return XCTFail("\(listing.json)")
            }
            XCTAssertEqual(newest["success"], true, "newest first: the kill")
            XCTAssertEqual(newest["boss_name"], "Dimensius, the All-Devouring")
            let wipes = try await server.request(.GET, "/api/v1/encounters?success=false&difficulty=normal", token: tenants.keyA)
            XCTAssertEqual(wipes.json["data"]?["total"], 1)
            try await assertEqual(
                await server.request(.GET, "/api/v1/encounters?date_from=2026-02-17", token: tenants.keyA).json["data"]?["total"], 0)
            try await assertEqual(
                await server.request(.GET, "/api/v1/encounters?date_to=2026-02-16&boss_name=Dimensius,%20the%20All-Devouring", token: tenants.keyA)
                    .json["data"]?["total"], 2)
            try await assertEqual(
                await server.request(.GET, "/api/v1/encounters/search?boss_name=devour", token: tenants.keyA).json["data"]?["total"], 2)

            guard case .int(let wipeID)? = wipes.json["data"]?["encounters"]?.arrayValue?.first?["id"] else { return XCTFail() }
            let detail = try await server.request(.GET, "/api/v1/encounters/\(wipeID)", token: tenants.alice)
            XCTAssertEqual(detail.status, 200, "members read their guild's data too")
            guard let characters = detail.json["data"]?["characters"]?.arrayValue else { return XCTFail("\(detail.json)") }
            XCTAssertEqual(characters.map { $0["name"] }, ["Arrowny-Ravencrest-EU", "Tankard-Ravencrest-EU", "Mendwell-Ravencrest-EU"])
            XCTAssertEqual(characters[0]["damage_done"], 2800)
            XCTAssertEqual(characters[0]["deaths"], 1)
            XCTAssertEqual(characters[2]["absorbs_done"], 1500)
            XCTAssertEqual(characters[2]["spec"], "Discipline")
            XCTAssertEqual(detail.json["data"]?["duration_ms"], 11_000)

            let stats = try await server.request(.GET, "/api/v1/encounters/stats", token: tenants.keyA)
            XCTAssertEqual(stats.json["data"]?["total_encounters"], 2)
            XCTAssertEqual(stats.json["data"]?["kills"], 1)
            XCTAssertEqual(stats.json["data"]?["unique_bosses"], 1)
            XCTAssertEqual(stats.json["statistics"]?["active_characters"], 3)
            XCTAssertEqual(stats.json["data"]?["last_activity"], "2026-02-16T23:05:00.000Z")

            try await assertEqual(
                await server.request(.GET, "/api/v1/characters?name=_", token: tenants.keyA).json["data"]?["total"], 0,
                "the name filter takes % and _ literally")
            let roster = try await server.request(.GET, "/api/v1/characters?name=tank", token: tenants.keyA)
            guard case .int(let tankID)? = roster.json["data"]?["characters"]?.arrayValue?.first?["id"] else { return XCTFail() }
            let history = try await server.request(.GET, "/api/v1/characters/\(tankID)", token: tenants.keyA)
            XCTAssertEqual(history.json["data"]?["character"]?["class"], "Warrior")
            XCTAssertEqual(history.json["data"]?["history"]?.arrayValue?.map { $0["damage_done"] }, [10_000, 1450])

            let csv = try await server.request(.GET, "/api/v1/encounters/export?format=csv", token: tenants.keyA)
            let lines = String(decoding: csv.body, as: UTF8.self).split(separator: "\n")
            XCTAssertEqual(csv.header("Content-Type"), "text/csv; charset=utf-8")
            XCTAssertEqual(lines.count, 3)
            XCTAssertTrue(lines[1].contains("\"Dimensius, the All-Devouring\""), String(lines[1]))
            let json = try await server.request(.GET, "/api/v1/encounters/export?format=json", token: tenants.keyA)
            XCTAssertEqual(json.json["encounters"]?.arrayValue?.count, 2)
            XCTAssertEqual(json.json["guild_id"], .int(tenants.a))
            let single = try await server.request(.GET, "/api/v1/encounters/\(killID)/export", token: tenants.keyA)
            XCTAssertEqual(single.header("Content-Disposition"), "attachment; filename=\"encounter-\(killID).json\"")
            XCTAssertEqual(single.json["data"]?["characters"]?.arrayValue?.count, 1)

            // Multipart, as the document's curl -F sends it.
            let boundary = "----guildhall\(UUID().uuidString)"
            let form = "--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nraid night\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\Logs/WoWCombatLog.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\n\(F.dragonflight)\r\n--\(boundary)--\r\n"
            let multipart = try await server.request(
                .POST, "/api/v1/logs/upload", token: tenants.keyA, raw: form,
                headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")])
            XCTAssertEqual(multipart.status, 202, String(decoding: multipart.body, as: UTF8.self))
            XCTAssertEqual(multipart.json["file_name"], "WoWCombatLog.txt")
            let second = try await Self.finished(multipart.json["upload_id"]!.stringValue!, key: tenants.keyA, on: server)
            XCTAssertEqual(second["encounters"], 1)
            try await assertEqual(await server.request(.GET, "/api/v1/logs", token: tenants.keyA).json["data"]?["total"], 2)
        }
    }

    func testAnotherGuildsIdsAnswer404AndItsListsStayEmpty() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let accepted = try await Self.upload(F.tww(), key: tenants.keyA, on: server)
            let upload = accepted.json["upload_id"]!.stringValue!
            _ = try await Self.finished(upload, key: tenants.keyA, on: server)
            let encounters = try await server.request(.GET, "/api/v1/encounters", token: tenants.keyA).json["data"]?["encounters"]?.arrayValue ?? []
            let characters = try await server.request(.GET, "/api/v1/characters", token: tenants.keyA).json["data"]?["characters"]?.arrayValue ?? []
            XCTAssertEqual(encounters.count, 2)
            XCTAssertEqual(characters.count, 3)
            for credential in [tenants.keyB, tenants.bob] {
                try await assertEqual(await server.request(.GET, "/api/v1/logs/\(upload)", token: credential).error, "upload_not_found")
                for encounter in encounters {
                    guard case .int(let id)? = encounter["id"] else { return XCTFail() }
                    try await assertEqual(await server.request(.GET, "/api/v1/encounters/\(id)", token: credential).status, 404)
                    try await assertEqual(await server.request(.GET, "/api/v1/encounters/\(id)/export", token: credential).status, 404)
                }
                for character in characters {
                    guard case .int(let id)? = character["id"] else { return XCTFail() }
                    try await assertEqual(await server.request(.GET, "/api/v1/characters/\(id)", token: credential).error, "character_not_found")
                }
                for path in ["/api/v1/encounters", "/api/v1/characters", "/api/v1/logs", "/api/v1/encounters/search?boss_name=D"] {
                    try await assertEqual(await server.request(.GET, path, token: credential).json["pagination"]?["total"], 0, path)
                }
                try await assertEqual(await server.request(.GET, "/api/v1/encounters/stats", token: credential).json["data"]?["total_encounters"], 0)
                let export = try await server.request(.GET, "/api/v1/encounters/export?format=csv", token: credential)
                XCTAssertEqual(String(decoding: export.body, as: UTF8.self).split(separator: "\n").count, 1, "the header only")
            }
        }
    }

    func testBadUploadsAndQueriesAreRefusedAndLeaveNothing() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            let uploads = server.host.config.database.path.replacingOccurrences(of: "guildhall.sqlite", with: "cogs/combatlog/uploads")
            for garbage in ["%PDF-1.7 not a log", "{\"json\": true}", String(repeating: "x", count: 100_000)] {
                let refused = try await Self.upload(garbage, key: tenants.keyA, on: server)
                XCTAssertEqual(refused.status, 422)
                XCTAssertEqual(refused.error, "not_a_combat_log")
            }
            try await assertEqual(await Self.upload("", key: tenants.keyA, on: server).error, "empty_upload")
            XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: uploads)) ?? [], [], "nothing kept on disk")
            try await assertEqual(await server.request(.GET, "/api/v1/logs", token: tenants.keyA).json["data"]?["total"], 0, "nor stored")

            let noFile = try await server.request(
                .POST, "/api/v1/logs/upload", token: tenants.keyA, raw: "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n",
                headers: [("Content-Type", "multipart/form-data; boundary=b")])
            XCTAssertEqual(noFile.status, 400)
            XCTAssertEqual(noFile.error, "invalid_upload")

            _ = try await server.request(.PUT, "/api/v1/guilds/\(tenants.a)/config/combatlog", token: admin, json: ["max_upload_bytes": 1000])
            let big = try await Self.upload(F.tww(), key: tenants.keyA, on: server)
            XCTAssertEqual(big.status, 413, "the guild's own limit")
            try await assertEqual(await Self.upload(F.tww(), key: tenants.keyB, on: server).status, 202, "not B's")

            let reader = try await Tenants.key(for: tenants.a, on: server, admin: admin, ["permissions": ["query"]])
            try await assertEqual(await Self.upload(F.tww(), key: reader, on: server).error, "missing_permission")
            let streamer = try await Tenants.key(for: tenants.a, on: server, admin: admin, ["permissions": ["stream"]])
            try await assertEqual(await server.request(.GET, "/api/v1/encounters", token: streamer).error, "missing_permission")
            try await assertEqual(await server.request(.GET, "/api/v1/encounters").status, 401)

            for (query, field) in [("limit=0", "limit"), ("offset=-1", "offset"), ("success=maybe", "success"), ("date_from=yesterday", "date_from")] {
                let refused = try await server.request(.GET, "/api/v1/encounters?\(query)", token: tenants.keyA)
                XCTAssertEqual(refused.status, 400, query)
                XCTAssertEqual(refused.json["field"], .string(field), query)
            }
            try await assertEqual(await server.request(.GET, "/api/v1/encounters/search", token: tenants.keyA).json["field"], "boss_name")
            try await assertEqual(await server.request(.GET, "/api/v1/encounters/export?format=xml", token: tenants.keyA).json["field"], "format")
            try await assertEqual(await server.request(.GET, "/api/v1/encounters/abc", token: tenants.keyA).error, "invalid_id")
            try await assertEqual(await server.request(.GET, "/api/v1/encounters/999", token: tenants.keyA).error, "encounter_not_found")
            try await assertEqual(await server.request(.GET, "/api/v1/admin/guilds/\(tenants.a)/activity", token: tenants.keyA).error, "api_key_not_allowed")
            try await assertEqual(await server.request(.GET, "/api/v1/admin/guilds/\(tenants.a)/activity?days=0", token: admin).json["field"], "days")
        }
    }

    func testTheGuildsConnectionsFollowTheUploadAndTheLiveLogGetsTheRaid() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            let uploader = try await Tenants.key(for: tenants.a, on: server, admin: admin, ["events_per_minute": 1_000_000])
            let mine = WSTestClient(port: server.port, path: "/ws", bearer: tenants.keyA)
            let theirs = WSTestClient(port: server.port, path: "/ws", bearer: tenants.keyB)
            let welcome = await mine.next("welcome")
            XCTAssertEqual(welcome?["type"], "welcome")
            XCTAssertEqual(welcome?["guild_name"], "Alpha")
            _ = await theirs.next("welcome")
            mine.send(["action": "subscribe", "message_types": ["raid"]])
            _ = await mine.next("subscribed")

            // A log big enough to report progress along the way: the hand-written pulls, many times over.
            let pulls = F.tww().split(separator: "\n").dropFirst(3).dropLast().joined(separator: "\n") + "\n"
            let repeats = 2000
            let large = F.tww().split(separator: "\n").prefix(3).joined(separator: "\n") + "\n" + String(repeating: pulls, count: repeats)
            let accepted = try await Self.upload(large, key: uploader, on: server)
            XCTAssertEqual(accepted.status, 202)
            XCTAssertGreaterThan(large.utf8.count, 10 << 20)
            var frames: [JSONValue] = []
            while let frame = await mine.next(timeout: .seconds(60)) {
                frames.append(frame)
                if frame["action"] == "upload_complete" { break }
            }
            let progress = frames.filter { $0["action"] == "progress" }.compactMap { $0["progress"]?.doubleValue }
            XCTAssertGreaterThanOrEqual(progress.count, 10, "progress at the start, after each 5% (or second) of parsing and at the end")
            XCTAssertEqual(progress.first, 0)
            XCTAssertEqual(progress.last, 100)
            XCTAssertEqual(progress, progress.sorted(), "and only goes up")
            XCTAssertEqual(frames.filter { $0["action"] == "encounter_complete" }.count, 2 * repeats)
            XCTAssertEqual(frames.filter { $0["type"] == "raid" && $0["action"] == nil }.count, 2 * repeats, "each pull a raid message")
            XCTAssertEqual(frames.last?["encounters"], .int(Int64(2 * repeats)))
            let record = try await Self.finished(accepted.json["upload_id"]!.stringValue!, key: tenants.keyA, on: server)
            XCTAssertEqual(record["encounters"], .int(Int64(2 * repeats)))
            let others = await theirs.drain(for: .milliseconds(200))
            XCTAssertEqual(others.filter { $0["upload_id"] != nil }, [], "B's connections hear nothing of A's upload")
        }
    }

    func testProgressFramesAndEncounterFramesArrive() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let client = WSTestClient(port: server.port, path: "/ws", query: "api_key=\(tenants.keyA)")
            _ = await client.next("welcome")
            client.send(["action": "subscribe", "message_types": ["raid"]])
            _ = await client.next("subscribed")
            let accepted = try await Self.upload(F.tww(), key: tenants.keyA, on: server)
            let first = await client.next("encounter_complete")
            XCTAssertEqual(first?["boss_name"], "Dimensius, the All-Devouring")
            XCTAssertEqual(first?["success"], false)
            XCTAssertEqual(first?["duration"], 11)
            XCTAssertEqual(first?["upload_id"], accepted.json["upload_id"])
            let raid = await client.next("raid")
            XCTAssertEqual(raid?["status"], "wipe")
            XCTAssertEqual(raid?["guild_id"], .string(String(tenants.a)))
            XCTAssertEqual(raid?["raid_name"], "Manaforge Omega")
            let done = await client.next("upload_complete")
            XCTAssertEqual(done?["progress"], 100)
            XCTAssertEqual(done?["malformed_lines"], 1)
        }
    }

    func testUploadsWaitWhenTheKeysEventBudgetIsSpent() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let admin = try await server.token("admin")
            let guild = try await Tenants.guild("Alpha", on: server, admin: admin)
            let key = try await Tenants.key(for: guild, on: server, admin: admin, ["events_per_minute": 10])
            let accepted = try await Self.upload(F.tww(), key: key, on: server)
            let id = accepted.json["upload_id"]!.stringValue!
            try await assertTrue(
                await eventually {
                    try await server.request(.GET, "/api/v1/logs/\(id)", token: key).json["data"]?["status"] == "throttled"
                }, "the parse waits for the budget")
            try await assertEqual(await server.request(.GET, "/api/v1/encounters", token: key).json["data"]?["total"], 0)
        }
    }

    func testAdminsSeeActivityAndOverviewAndRetentionDeletesOldEncounters() async throws {
        let host = TestHost(enabled: ["combatlog"]) { $0.runtimeSections["combatlog"] = ["retention_interval_seconds": 1] }
        defer { host.removeFolder() }
        try await host.run(catalogue: Self.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            _ = try await Self.uploadAndWait(F.tww(), key: tenants.keyA, on: server)
            _ = try await Self.uploadAndWait(F.tww(), key: tenants.keyB, on: server)
            let activity = try await server.request(.GET, "/api/v1/admin/guilds/\(tenants.a)/activity?days=3650", token: admin)
            XCTAssertEqual(activity.json["activity"], [["date": "2026-02-16", "encounters": 2, "unique_bosses": 1, "kills": 1, "minutes": 0.2]])
            let overview = try await server.request(.GET, "/api/v1/admin/guilds/\(tenants.a)/overview", token: admin)
            XCTAssertEqual(overview.json["encounters"], 2)
            XCTAssertEqual(overview.json["characters"], 3)
            XCTAssertEqual(overview.json["guild_name"], "Alpha")
            let all = try await server.request(.GET, "/api/v1/admin/combatlog/guilds", token: admin)
            XCTAssertEqual(all.json["guilds"]?.arrayValue?.map { $0["guild_id"] }, [.int(tenants.a), .int(tenants.b)])
            try await assertEqual(await server.request(.GET, "/api/v1/admin/guilds/\(tenants.a)", token: admin).json["name"], "Alpha", "the host's own route still answers")

            // A's overlay keeps 100 days: its February encounters go; B keeps the deployment's 365.
            _ = try await server.request(.PUT, "/api/v1/guilds/\(tenants.a)/config/combatlog", token: tenants.alice, json: ["retention_days": 100])
            try await assertTrue(
                await eventually { try await server.request(.GET, "/api/v1/encounters", token: tenants.keyA).json["data"]?["total"] == 0 })
            try await assertEqual(await server.request(.GET, "/api/v1/encounters", token: tenants.keyB).json["data"]?["total"], 2)
        }
    }
}
