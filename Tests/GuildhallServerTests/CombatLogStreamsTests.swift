import AsyncHTTPClient
import Foundation
import GuildhallTesting
import NIOCore
import PluginAPI
import XCTest

@testable import GuildhallServer

private typealias F = CombatLogFixtures

/// What trying the cog with real raid logs showed (issue 15): gzip logs in uploads and on the command line, reading
/// standard input, a progress frame even for a log that parses at once, and uploads a killed server left behind.
final class CombatLogStreamsTests: XCTestCase {
    /// `body` POSTed to `path` as it is (bytes, not text).
    static func post(_ body: Data, to path: String, port: Int, token: String, headers: [(String, String)]) async throws -> (Int, JSONValue) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(data: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), (try? JSONValue(parsing: Data(buffer: bytes))) ?? .null)
    }

    /// The bytes `gzip -c` makes of `text`.
    static func gzipped(_ text: String) throws -> Data {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = folder.appendingPathComponent("log.txt"), packed = folder.appendingPathComponent("log.txt.gz")
        try text.write(to: plain, atomically: true, encoding: .utf8)
        try CombatLogParserTests.gzip(plain, to: packed)
        return try Data(contentsOf: packed)
    }

    static func call(port: Int, _ method: HTTPMethod, _ path: String, _ token: String?, _ body: JSONValue?) async throws -> JSONValue {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body { request.body = .bytes(ByteBuffer(data: body.jsonData())) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (try? JSONValue(parsing: Data(buffer: try await response.body.collect(upTo: 1 << 22)))) ?? .null
    }

    func testGzipUploadsAndProgressFramesForALogThatParsesAtOnce() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: CombatLogTests.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let listener = WSTestClient(port: server.port, path: "/ws", bearer: tenants.keyA)
            _ = await listener.next("welcome")
            let packed = try Self.gzipped(F.tww())
            XCTAssertLessThan(packed.count, F.tww().utf8.count)

            // A raw body sent with Content-Encoding: gzip.
            let (status, accepted) = try await Self.post(
                packed, to: "/api/v1/logs/upload", port: server.port, token: tenants.keyA,
                headers: [("Content-Encoding", "gzip"), ("X-File-Name", "WoWCombatLog-021626_230000.txt")])
            XCTAssertEqual(status, 202, "\(accepted)")
            var frames: [JSONValue] = []
            while let frame = await listener.next(timeout: .seconds(10)) {
                frames.append(frame)
                if frame["action"] == "upload_complete" { break }
            }
            let progress = frames.filter { $0["type"] == "progress" }
            XCTAssertEqual(progress.first?["progress"], 0, "a progress frame at the start")
            XCTAssertEqual(progress.last?["progress"], 100, "and at the end, though the pull parsed in a moment")
            XCTAssertEqual(progress.last?["status"], "completed")
            let record = try await CombatLogTests.finished(accepted["upload_id"]!.stringValue!, key: tenants.keyA, on: server)
            XCTAssertEqual(record["status"], "completed")
            XCTAssertEqual(record["encounters"], 2)

            // A .gz file part of a form.
            let boundary = "----guildhall\(UUID().uuidString)"
            var form = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"WoWCombatLog.txt.gz\"\r\nContent-Type: application/gzip\r\n\r\n".utf8)
            form.append(packed)
            form.append(Data("\r\n--\(boundary)--\r\n".utf8))
            let (formStatus, formAnswer) = try await Self.post(
                form, to: "/api/v1/logs/upload", port: server.port, token: tenants.keyA,
                headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")])
            XCTAssertEqual(formStatus, 202)
            let fromForm = try await CombatLogTests.finished(formAnswer["upload_id"]!.stringValue!, key: tenants.keyA, on: server)
            XCTAssertEqual(fromForm["encounters"], 2)
            XCTAssertEqual(fromForm["file_name"], "WoWCombatLog.txt.gz")

            // Something gzip that is not a log is refused before it is kept.
            let notALog = try Self.gzipped("just some text\nand more\n")
            let (refused, answer) = try await Self.post(notALog, to: "/api/v1/logs/upload", port: server.port, token: tenants.keyA, headers: [])
            XCTAssertEqual(refused, 422)
            XCTAssertEqual(answer["error"], "not_a_combat_log")
            listener.close()
        }
    }

    func testTheBreakdownEndpointsAnswerWithinTheGuild() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: CombatLogTests.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let record = try await CombatLogTests.uploadAndWait(F.breakdowns(), key: tenants.keyA, on: server)
            XCTAssertEqual(record["encounters"], 1)
            let list = try await server.request(.GET, "/api/v1/encounters", token: tenants.keyA).json
            let id = try XCTUnwrap(list["data"]?["encounters"]?.arrayValue?.first?["id"]?.intValue, "\(list)")
            let characters = try await server.request(.GET, "/api/v1/encounters/\(id)", token: tenants.keyA).json["data"]?["characters"]?.arrayValue ?? []
            let tank = try XCTUnwrap(characters.first { $0["name"] == "Tankard-Ravencrest-EU" }?["character_id"]?.intValue)

            let all = try await server.request(.GET, "/api/v1/encounters/\(id)/abilities", token: tenants.keyA)
            XCTAssertEqual(all.status, 200)
            XCTAssertEqual(all.json["guild_id"], .int(tenants.a))
            let mine = try await server.request(.GET, "/api/v1/encounters/\(id)/abilities?character=\(tank)&kind=damage", token: tenants.keyA)
            let rows = mine.json["data"]?["abilities"]?.arrayValue ?? []
            XCTAssertEqual(rows.compactMap { $0["spell_name"]?.stringValue }, ["Shield Slam", "Melee", "Ebon Might"], "biggest first")
            XCTAssertEqual(rows.first?["total"], 2000)
            XCTAssertEqual(rows.first?["crits"], 1)
            XCTAssertTrue(rows.allSatisfy { $0["character_id"]?.intValue == tank && $0["kind"] == "damage" })

            let deaths = try await server.request(.GET, "/api/v1/encounters/\(id)/deaths", token: tenants.keyA).json["data"]?["deaths"]?.arrayValue ?? []
            XCTAssertEqual(deaths.count, 1)
            XCTAssertEqual(deaths.first?["name"], "Arrowny-Ravencrest-EU")
            XCTAssertEqual(deaths.first?["killing_blow"]?["spell_name"], "Devour")
            XCTAssertEqual(deaths.first?["events"]?.arrayValue?.count, 2)
            XCTAssertEqual(deaths.first?["resurrected_by"], "Mendwell-Ravencrest-EU")

            let interrupts = try await server.request(.GET, "/api/v1/encounters/\(id)/interrupts", token: tenants.keyA).json["data"]?["interrupts"]?.arrayValue ?? []
            XCTAssertEqual(Set(interrupts.compactMap { $0["extra_spell_name"]?.stringValue }), ["Void Bolt", "Shadow Curse"])

            let raid = try await server.request(.GET, "/api/v1/encounters/\(id)/timeline", token: tenants.keyA).json["data"]
            XCTAssertEqual(raid?["seconds"], 9)
            XCTAssertEqual(raid?["damage"]?.arrayValue?.prefix(3).compactMap(\.intValue), [1200, 1100, 200])
            let own = try await server.request(.GET, "/api/v1/encounters/\(id)/timeline?character=\(tank)", token: tenants.keyA).json["data"]
            XCTAssertEqual(own?["damage"]?.arrayValue?.prefix(2).compactMap(\.intValue), [1200, 900])

            // The other guild sees nothing of it; bad input is refused.
            for path in ["abilities", "deaths", "interrupts", "timeline"] {
                try await assertEqual(await server.request(.GET, "/api/v1/encounters/\(id)/\(path)", token: tenants.keyB).error, "encounter_not_found", path)
            }
            try await assertEqual(
                await server.request(.GET, "/api/v1/encounters/\(id)/abilities?kind=magic", token: tenants.keyA).json["field"], "kind")
            try await assertEqual(
                await server.request(.GET, "/api/v1/encounters/\(id)/timeline?character=999999", token: tenants.keyA).error, "character_not_found")
        }
    }

    func testAdminsMoveEncountersBetweenGuildsWithTheirFigures() async throws {
        let host = TestHost(enabled: ["combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: CombatLogTests.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            _ = try await CombatLogTests.uploadAndWait(F.breakdowns(), key: tenants.keyA, on: server)
            _ = try await CombatLogTests.uploadAndWait(F.tww(), key: tenants.keyB, on: server)
            let listA = try await server.request(.GET, "/api/v1/encounters", token: tenants.keyA).json["data"]?["encounters"]?.arrayValue ?? []
            let pull = try XCTUnwrap(listA.first?["id"]?.intValue)
            let charactersB = try await server.request(.GET, "/api/v1/characters", token: tenants.keyB).json["data"]?["total"]?.intValue ?? 0

            func move(_ body: JSONValue, as token: String) async throws -> LiveServer.Reply {
                try await server.request(.POST, "/api/v1/admin/combatlog/move", token: token, json: body)
            }
            // Refused as a whole: one id that is not the source guild's, a guild that does not exist, a non-admin.
            let listB = try await server.request(.GET, "/api/v1/encounters", token: tenants.keyB).json
            let foreign = try XCTUnwrap(listB["data"]?["encounters"]?.arrayValue?.first?["id"]?.intValue)
            try await assertEqual(
                await move(["encounter_ids": [.int(pull), .int(foreign)], "from_guild_id": .int(tenants.a), "to_guild_id": .int(tenants.b)], as: admin).error,
                "encounter_not_found")
            try await assertEqual(
                await move(["encounter_ids": [.int(pull)], "from_guild_id": .int(tenants.a), "to_guild_id": 9999], as: admin).error, "guild_not_found")
            try await assertEqual(
                await move(["encounter_ids": [.int(pull)], "from_guild_id": .int(tenants.a), "to_guild_id": .int(tenants.b)], as: tenants.keyA).status, 403)
            try await assertEqual(
                await move(["encounter_ids": [], "from_guild_id": .int(tenants.a), "to_guild_id": .int(tenants.b)], as: admin).json["field"],
                "encounter_ids")
            try await assertEqual(await server.request(.GET, "/api/v1/encounters/\(pull)", token: tenants.keyA).status, 200, "nothing moved")

            let moved = try await move(["encounter_ids": [.int(pull)], "from_guild_id": .int(tenants.a), "to_guild_id": .int(tenants.b)], as: admin)
            XCTAssertEqual(moved.status, 200, "\(moved.json)")
            XCTAssertEqual(moved.json["encounters"], 1)
            // The tank, healer and hunter were in guild B's log already; the Evoker was not.
            XCTAssertEqual(moved.json["characters_created"], 1)
            try await assertEqual(await server.request(.GET, "/api/v1/encounters/\(pull)", token: tenants.keyA).error, "encounter_not_found")
            let there = try await server.request(.GET, "/api/v1/encounters/\(pull)", token: tenants.keyB)
            XCTAssertEqual(there.status, 200)
            XCTAssertEqual(there.json["data"]?["characters"]?.arrayValue?.count, 4)
            let abilities = try await server.request(.GET, "/api/v1/encounters/\(pull)/abilities?kind=damage", token: tenants.keyB).json["data"]?["abilities"]?.arrayValue ?? []
            XCTAssertTrue(abilities.contains { $0["spell_name"] == "Shield Slam" && $0["total"] == 2000 })
            try await assertEqual(
                await server.request(.GET, "/api/v1/encounters/\(pull)/timeline", token: tenants.keyB).json["data"]?["seconds"], 9)
            try await assertEqual(
                await server.request(.GET, "/api/v1/characters", token: tenants.keyB).json["data"]?["total"]?.intValue, charactersB + 1)
        }
    }

    /// A guild's export from one deployment, imported into another: the guild, its members by name, its switches and
    /// overlays, and every combat log row with ids of its own there.
    func testAGuildMovesToAnotherDeploymentWithItsData() async throws {
        let source = TestHost(enabled: ["combatlog"])
        defer { source.removeFolder() }
        let exported: JSONValue = try await source.run(catalogue: CombatLogTests.catalogue) { server in
            let tenants = try await Tenants.make(on: server)
            let admin = try await server.token("admin")
            _ = try await CombatLogTests.uploadAndWait(F.breakdowns(), key: tenants.keyA, on: server)
            _ = try await CombatLogTests.uploadAndWait(F.tww(), key: tenants.keyA, on: server)
            _ = try await server.request(.PUT, "/api/v1/guilds/\(tenants.a)/config/combatlog", token: admin, json: ["retention_days": 30])
            let reply = try await server.request(.GET, "/api/v1/admin/guilds/\(tenants.a)/export", token: admin)
            XCTAssertEqual(reply.status, 200)
            XCTAssertEqual(reply.header("Content-Disposition"), "attachment; filename=\"guild-\(tenants.a).json\"")
            try await assertEqual(await server.request(.GET, "/api/v1/admin/guilds/\(tenants.a)/export", token: tenants.keyA).status, 403)
            try await assertEqual(await server.request(.GET, "/api/v1/admin/guilds/999/export", token: admin).error, "guild_not_found")
            return reply.json
        }
        XCTAssertEqual(exported["guild"]?["name"], "Alpha")
        XCTAssertEqual(exported["members"]?.arrayValue?.first?["username"], "alice")
        XCTAssertEqual(exported["cogs"]?["combatlog"]?["combatlog_encounters"]?.arrayValue?.count, 3)

        let target = TestHost(enabled: ["combatlog"])
        defer { target.removeFolder() }
        try await target.run(catalogue: CombatLogTests.catalogue) { server in
            let admin = try await server.token("admin")
            // Something of the target's own first, so the imported rows cannot keep their old ids.
            let own = try await Tenants.guild("Resident", on: server, admin: admin)
            _ = try await CombatLogTests.uploadAndWait(F.tww(), key: try await Tenants.key(for: own, on: server, admin: admin), on: server)
            _ = try await server.host.users.upsert(username: "alice", password: "password-alice", role: .user)

            // A file that breaks halfway (an encounter without its boss) leaves nothing behind.
            var broken = exported
            if case .object(var cogs)? = broken["cogs"], case .object(var tables)? = cogs["combatlog"],
                case .array(var encounters)? = tables["combatlog_encounters"], case .object(var first)? = encounters.first
            {
                first["boss_name"] = nil
                encounters[0] = .object(first)
                tables["combatlog_encounters"] = .array(encounters)
                cogs["combatlog"] = .object(tables)
                if case .object(var root) = broken { root["cogs"] = .object(cogs); broken = .object(root) }
            }
            do {
                _ = try await server.host.importGuild(broken, by: "admin")
                XCTFail("a broken export is refused")
            } catch {}
            let leftovers = try await server.host.database.read { connection in
                [
                    try connection.scalar("SELECT COUNT(*) FROM guilds WHERE name = 'Alpha'"),
                    try connection.scalar("SELECT COUNT(*) FROM combatlog_characters WHERE guild_id NOT IN (SELECT id FROM guilds)"),
                    try connection.scalar("SELECT COUNT(*) FROM guild_config WHERE guild_id NOT IN (SELECT id FROM guilds)"),
                ]
            }
            XCTAssertEqual(leftovers, [0, 0, 0], "the guild and what was written for it are gone")

            let report = try await server.host.importGuild(exported, by: "admin")
            let guild = try XCTUnwrap(report["guild_id"]?.intValue)
            XCTAssertEqual(report["cogs_imported"], ["combatlog"])
            XCTAssertEqual(report["skipped"], [])
            let key = try await Tenants.key(for: guild, on: server, admin: admin)
            let encounters = try await server.request(.GET, "/api/v1/encounters?limit=10", token: key).json["data"]?["encounters"]?.arrayValue ?? []
            XCTAssertEqual(encounters.count, 3)
            let pull = try XCTUnwrap(encounters.first { $0["boss_name"] == "Soulbinder Naazindhri" }?["id"]?.intValue)
            let deaths = try await server.request(.GET, "/api/v1/encounters/\(pull)/deaths", token: key).json["data"]?["deaths"]?.arrayValue ?? []
            XCTAssertEqual(deaths.first?["name"], "Arrowny-Ravencrest-EU", "figures point at the imported characters")
            let abilities = try await server.request(.GET, "/api/v1/encounters/\(pull)/abilities?kind=damage", token: key).json["data"]?["abilities"]?.arrayValue ?? []
            XCTAssertTrue(abilities.contains { $0["spell_name"] == "Shield Slam" && $0["total"] == 2000 })
            let members = try await server.request(.GET, "/api/v1/admin/guilds/\(guild)/members", token: admin).json["members"]?.arrayValue ?? []
            XCTAssertEqual(members.compactMap { $0["username"]?.stringValue }, ["alice"])
            try await assertEqual(
                await server.request(.GET, "/api/v1/guilds/\(guild)/config/combatlog", token: admin).json["overlay"]?["retention_days"], 30)
            // The same file again: the guild exists now.
            do {
                _ = try await server.host.importGuild(exported, by: "admin")
                XCTFail("a second import of the same guild is refused")
            } catch let error as APIError {
                XCTAssertEqual(error.code, "guild_exists")
            }
            do {
                _ = try await server.host.importGuild(["format": "something else"], by: "admin")
                XCTFail("not an export")
            } catch let error as APIError {
                XCTAssertEqual(error.code, "invalid_export")
            }
        }
    }

    func testTheParseCommandReadsStandardInputAndGzipFiles() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("guildhall-parse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fromPipe = try await CLITests.guildhall(["combatlog", "parse", "-", "--json"], in: folder, input: F.tww())
        XCTAssertEqual(fromPipe.status, 0, fromPipe.errors)
        let piped = try JSONValue(parsing: Data(fromPipe.output.utf8))
        XCTAssertEqual(piped["summary"]?["encounters"], 2, "a pipe finds the encounters")
        XCTAssertEqual(piped["encounters"]?.arrayValue?.count, 2)

        try Self.gzipped(F.tww()).write(to: folder.appendingPathComponent("WoWCombatLog-021626_230000.txt.gz"))
        let fromGzip = try await CLITests.guildhall(["combatlog", "parse", "WoWCombatLog-021626_230000.txt.gz", "--json"], in: folder)
        XCTAssertEqual(fromGzip.status, 0, fromGzip.errors)
        XCTAssertEqual(try JSONValue(parsing: Data(fromGzip.output.utf8))["encounters"], piped["encounters"])

        let garbage = try await CLITests.guildhall(["combatlog", "parse", "-"], in: folder, input: "hello\nworld\n")
        XCTAssertEqual(garbage.status, 1)
        XCTAssertTrue(garbage.errors.contains("not a combat log"), garbage.errors)
    }

    /// A real server, a real `kill -9` while two uploads are being parsed (held back by the guild's event budget),
    /// and a restart: the upload whose spooled file is still there is parsed again from the start and completes
    /// with its encounters once; the one whose file is gone is failed; neither leaves half its encounters behind.
    func testAKilledServerFinishesOrFailsTheUploadsItWasParsing() async throws {
        let port = Int.random(in: 30_000...39_999)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("guildhall-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func start(budget: Int) throws -> Process {
            let config = """
                server:\n  port: \(port)\ndatabase:\n  path: ./g.sqlite\nauth:\n  bcrypt_cost: 4\nplugins:\n  enabled: [combatlog]
                tenancy:\n  guild_events_per_minute: \(budget)\n
                """
            try config.write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = CLITests.executable
            process.arguments = ["serve"]
            process.currentDirectoryURL = folder
            process.environment = ["API_ADMIN_PASS": "a-long-password", "PATH": "/usr/bin:/bin"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        let call = { @Sendable (method: HTTPMethod, path: String, token: String?, body: JSONValue?) async throws -> JSONValue in
            try await Self.call(port: port, method, path, token, body)
        }
        func waitUntilUp() async throws {
            let up = try await eventually(timeout: .seconds(20)) { (try? await call(.GET, "/api/health", nil, nil))?["status"] == "ok" }
            XCTAssertTrue(up)
        }

        // One chunk (1 MB) of pulls is about 9,000 events: a budget of 12,000 lets the first upload store the first
        // chunk's encounters, then holds both uploads back.
        let pulls = F.tww().split(separator: "\n").dropFirst(3).dropLast().joined(separator: "\n") + "\n"
        let log = F.tww().split(separator: "\n").prefix(3).joined(separator: "\n") + "\n" + String(repeating: pulls, count: 1500)
        let expected = 2 * 1500
        var server = try start(budget: 12_000)
        try await waitUntilUp()
        let admin = try await call(.POST, "/api/auth/login", nil, ["username": "admin", "password": "a-long-password"])["token"]!.stringValue!
        let guild = try await call(.POST, "/api/v1/admin/guilds", admin, ["name": "Loothing", "server": "Silvermoon", "region": "eu", "faction": "Horde"])
        let guildID = try XCTUnwrap(guild["id"]?.intValue, "\(guild)")
        let key = try await call(.POST, "/api/v1/admin/guilds/\(guildID)/api-keys", admin, ["description": "uploader"])["api_key"]!.stringValue!
        var uploads: [String] = []
        for _ in 0..<2 {
            let (status, answer) = try await Self.post(
                Data(log.utf8), to: "/api/v1/logs/upload", port: port, token: key, headers: [("X-File-Name", "WoWCombatLog-021626_230000.txt")])
            XCTAssertEqual(status, 202, "\(answer)")
            uploads.append(answer["upload_id"]!.stringValue!)
        }
        let ids = uploads
        let held = try await eventually(timeout: .seconds(20)) {
            let first = try await call(.GET, "/api/v1/logs/\(ids[0])", key, nil)["data"]
            let second = try await call(.GET, "/api/v1/logs/\(ids[1])", key, nil)["data"]
            return first?["status"] == "throttled" && second?["status"] == "throttled" && (first?["encounters"]?.intValue ?? 0) > 0
        }
        XCTAssertTrue(held, "both uploads are being parsed, the first with encounters stored")
        let partial = try await call(.GET, "/api/v1/encounters?limit=1", key, nil)["pagination"]?["total"]?.intValue ?? 0
        XCTAssertGreaterThan(partial, 0)

        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        let spool = folder.appendingPathComponent("cogs/combatlog/uploads")
        XCTAssertTrue(FileManager.default.fileExists(atPath: spool.appendingPathComponent("\(ids[0]).log").path))
        try FileManager.default.removeItem(at: spool.appendingPathComponent("\(ids[1]).log"))

        server = try start(budget: 10_000_000)
        defer { server.terminate(); server.waitUntilExit() }
        try await waitUntilUp()
        let settled = try await eventually(timeout: .seconds(60)) {
            try await call(.GET, "/api/v1/logs/\(ids[0])", key, nil)["data"]?["status"] == "completed"
        }
        XCTAssertTrue(settled, "the interrupted upload is parsed again and completes")
        let first = try await call(.GET, "/api/v1/logs/\(ids[0])", key, nil)["data"]
        XCTAssertEqual(first?["encounters"], .int(Int64(expected)))
        let second = try await call(.GET, "/api/v1/logs/\(ids[1])", key, nil)["data"]
        XCTAssertEqual(second?["status"], "failed")
        XCTAssertTrue(second?["error"]?.stringValue?.contains("interrupted") ?? false, "\(String(describing: second))")
        let total = try await call(.GET, "/api/v1/encounters?limit=1", key, nil)["pagination"]?["total"]?.intValue
        XCTAssertEqual(total, Int64(expected), "each encounter once: the partial ones went before the parse started over")
    }
}
