import Foundation
import NIOWebSocket
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

final class GatewayTests: XCTestCase {
    override func setUp() { Probe.reset() }

    func testConnectingNeedsAValidToken() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let token = try await server.token("user")
            let viaQuery = WSTestClient(port: server.port, token: token)
            let connected = await viaQuery.next("connected")
            XCTAssertNotNil(connected?["connection_id"]?.stringValue)
            XCTAssertEqual(connected?["message"], "Successfully connected to live log")
            viaQuery.close()
            let viaHeader = WSTestClient(port: server.port, path: "/ws", bearer: token)
            let again = await viaHeader.next("connected")
            XCTAssertNotNil(again)
            viaHeader.close()

            let expired = try await TokenService(secret: host.config.auth.secretKey, lifetime: .seconds(1))
                .issue(for: Identity(userID: 3, username: "user", role: .user), epoch: 0, now: Date().addingTimeInterval(-60)).token
            for (label, credential, code) in [("none", nil, 4000), ("forged", "a.b.c", 4001), ("expired", expired, 4002)] {
                let refused = WSTestClient(port: server.port, token: credential)
                let close = try await refused.closeFrame()
                XCTAssertEqual(close?.closeCode, .unknown(UInt16(code)), label)
            }
        }
    }

    func testSubscribersReceiveTheTypesTheyAskedFor() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let user = try await server.token("user")
            let listener = WSTestClient(port: server.port, token: user)
            let other = WSTestClient(port: server.port, token: user)
            _ = await listener.next("connected")
            _ = await other.next("connected")
            listener.send(["action": "subscribe", "message_types": ["user", "raid"]])
            let subscribed = await listener.next("subscribed")
            XCTAssertEqual(subscribed?["message_types"], ["raid", "user"])
            other.send(["action": "subscribe", "message_types": ["party"]])
            _ = await other.next("subscribed")

            let posted = try await server.request(
                .POST, "/api/live-log/messages", token: admin,
                json: ["type": "user", "user_id": "u1", "username": "Ann", "content": "hello dragons", "metadata": ["channel": "general"]])
            XCTAssertEqual(posted.status, 201)
            XCTAssertEqual(posted.json["delivered"], 1)
            XCTAssertEqual(posted.json["message"]?["id"]?.stringValue?.hasPrefix("msg_"), true)
            let received = await listener.next("user")
            XCTAssertEqual(received?["content"], "hello dragons")
            XCTAssertEqual(received?["id"], posted.json["message"]?["id"])
            XCTAssertNotNil(received?["timestamp"]?.stringValue.flatMap(Timestamp.date(from:)))
            let noise = await other.drain()
            XCTAssertFalse(noise.contains { $0["type"] == "user" }, "not subscribed to user")

            listener.send(["action": "unsubscribe", "message_types": ["user"]])
            await assertEqual(await listener.next("unsubscribed")?["message_types"], ["raid"])
            _ = try await server.request(
                .POST, "/api/live-log/messages", token: admin, json: ["type": "user", "user_id": "u1", "username": "Ann", "content": "again"])
            let after = await listener.drain()
            XCTAssertFalse(after.contains { $0["type"] == "user" })
        }
    }

    func testIngestValidatesEachTypesFields() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let cases: [(JSONValue, String)] = [
                (["type": "user", "username": "Ann", "content": "x"], "user_id"),
                (["type": "raid", "raid_id": "r", "raid_name": "Lair", "boss_name": "Dragon", "status": "sleeping"], "status"),
                (["type": "party", "party_id": "p", "leader_id": "u", "leader_name": "L", "member_count": "four", "event": "disbanded"], "member_count"),
                (["type": "whisper", "content": "x"], "type"),
                (["type": "user", "user_id": "u", "username": "Ann", "content": "x", "colour": "red"], "colour"),
                (["type": "user", "user_id": "u", "username": "Ann", "content": "   "], "content"),
            ]
            for (message, field) in cases {
                let reply = try await server.request(.POST, "/api/live-log/messages", token: admin, json: message)
                XCTAssertEqual(reply.status, 400, field)
                XCTAssertEqual(reply.json["field"], .string(field))
            }
            let raid = try await server.request(
                .POST, "/api/live-log/messages", token: admin,
                json: ["type": "raid", "raid_id": "r1", "raid_name": "Dragon's Lair", "boss_name": "Ancient Red Dragon",
                       "difficulty": "mythic", "status": "in_progress", "health_percentage": 45, "duration_seconds": 324,
                       "participants": [["user_id": "u1", "username": "DragonMaster", "role": "tank", "class": "warrior"]]])
            XCTAssertEqual(raid.status, 201)
            let user = try await server.token("user")
            try await assertEqual(await server.request(.POST, "/api/live-log/messages", token: user, json: ["type": "system", "event": "x"]).status, 403)
        }
    }

    func testDirectMessagesReachOnlyTheirPairAndAdmins() async throws {
        let host = TestHost { $0.bootstrapUsers.append(.init(username: "carol", password: "password-carol", role: .user)) }
        defer { host.removeFolder() }
        try await host.run { server in
            var clients: [String: WSTestClient] = [:]
            var ids: [String: String] = [:]
            for name in ["admin", "moderator", "user", "carol"] {
                let token = try await server.token(name)
                guard case .int(let id)? = try await server.request(.GET, "/api/users/me", token: token).json["user_id"] else { return XCTFail() }
                ids[name] = String(id)
                let client = WSTestClient(port: server.port, token: token)
                _ = await client.next("connected")
                client.send(["action": "subscribe", "message_types": ["dm", "system"]])
                _ = await client.next("subscribed")
                clients[name] = client
            }
            let admin = try await server.token("admin")
            _ = try await server.request(
                .POST, "/api/live-log/messages", token: admin,
                json: ["type": "dm", "from_user_id": .string(ids["moderator"]!), "from_username": "moderator",
                       "to_user_id": .string(ids["user"]!), "content": "psst"])
            for (name, expected) in [("admin", true), ("moderator", true), ("user", true), ("carol", false)] {
                let frames = await clients[name]!.drain(for: .milliseconds(300))
                XCTAssertEqual(frames.contains { $0["type"] == "dm" && $0["content"] == "psst" }, expected, name)
            }
            // History applies the same rule.
            let carolHistory = try await server.request(.GET, "/api/live-log/messages?type=dm", token: try await server.token("carol"))
            XCTAssertEqual(carolHistory.json["total_count"], 0)
            let userHistory = try await server.request(.GET, "/api/live-log/messages?type=dm", token: try await server.token("user"))
            XCTAssertEqual(userHistory.json["total_count"], 1)

            // Staff-only and admin-only system messages.
            _ = try await server.request(
                .POST, "/api/live-log/messages", token: admin, json: ["type": "system", "event": "audit", "audience": "staff"])
            for (name, expected) in [("admin", true), ("moderator", true), ("user", false)] {
                let frames = await clients[name]!.drain(for: .milliseconds(300))
                XCTAssertEqual(frames.contains { $0["event"] == "audit" }, expected, name)
            }
        }
    }

    func testHistoryPagesAndFiltersAndSearchFindsWords() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            for index in 0..<30 {
                _ = try await server.request(
                    .POST, "/api/live-log/messages", token: admin,
                    json: ["type": "user", "user_id": .string(index % 2 == 0 ? "even" : "odd"), "username": "u",
                           "content": .string(index == 7 ? "the red dragon wakes" : "message \(index)"),
                           "metadata": ["channel": .string(index < 10 ? "general" : "trade")]])
            }
            let client = WSTestClient(port: server.port, token: try await server.token("user"))
            _ = await client.next("connected")
            client.send(["action": "get_history", "limit": 10, "offset": 5, "filters": ["type": "user"]])
            let page = await client.next("history")
            XCTAssertEqual(page?["total_count"], 30)
            XCTAssertEqual(page?["limit"], 10)
            XCTAssertEqual(page?["offset"], 5)
            guard case .array(let messages)? = page?["messages"] else { return XCTFail("no messages") }
            XCTAssertEqual(messages.count, 10)
            XCTAssertEqual(messages.first?["content"], "message 24", "newest first, after skipping 5")

            client.send(["action": "get_history", "filters": ["user_id": "odd", "channel": "general"]])
            await assertEqual(await client.next("history")?["total_count"], 5)
            client.send(["action": "get_history", "filters": ["date_from": "2000-01-01T00:00:00Z", "date_to": "2000-12-31T00:00:00Z"]])
            await assertEqual(await client.next("history")?["total_count"], 0)

            client.send(["action": "search", "query": "DRAGON red"])
            let found = await client.next("search_results")
            XCTAssertEqual(found?["count"], 1)
            XCTAssertEqual(found?["query"], "DRAGON red")
            client.send(["action": "search", "query": "\"unbalanced AND ("])
            await assertEqual(await client.next("search_results")?["count"], 0, "FTS syntax in the query is taken literally")

            client.send(["action": "get_history", "limit": 100000])
            let tooMany = await client.next("error")
            XCTAssertEqual(tooMany?["error_code"], 1002)
            XCTAssertEqual(tooMany?["details"]?["field"], "limit")
            client.send(["action": "search", "query": 5])
            await assertEqual(await client.next("error")?["details"]?["field"], "query")
        }
    }

    func testProtocolErrorsHaveTheirCodes() async throws {
        let host = TestHost(enabled: ["rooms"]) { $0.gateway.maxFrameBytes = 2048 }
        defer { host.removeFolder() }
        try await host.run { server in
            let client = WSTestClient(port: server.port, token: try await server.token("user"))
            _ = await client.next("connected")
            client.send(["action": "ping"])
            let pong = await client.next("pong")
            XCTAssertNotNil(pong?["timestamp"]?.stringValue.flatMap(Timestamp.date(from:)))
            client.send(["action": "fly"])
            let unknown = await client.next("error")
            XCTAssertEqual(unknown?["error_code"], 1002)
            XCTAssertEqual(unknown?["error_message"], "Protocol Error")
            client.sendText("{not json")
            await assertEqual(await client.next("error")?["details"]?["issue"], "Malformed JSON")
            client.send(["action": "subscribe", "message_types": ["gossip"]])
            await assertEqual(await client.next("error")?["details"]?["field"], "message_types")
            client.send(["action": "moderate"])
            await assertEqual(await client.next("error")?["error_code"], 1008, "role too small for a cog action")
            client.sendBinary([1, 2, 3])
            await assertEqual(await client.next("error")?["error_code"], 1003)
            client.sendText(String(repeating: "x", count: 3000))
            await assertEqual(await client.next("error")?["error_code"], 1009)
            let close = try await client.closeFrame()
            XCTAssertEqual(close?.closeCode, .messageTooLarge)
            // The server carries on: a new connection works.
            let again = WSTestClient(port: server.port, token: try await server.token("user"))
            await assertTrue(await again.next("connected") != nil)
            again.close()
        }
    }

    func testRateLimitsWarnThenRefuse() async throws {
        let host = TestHost {
            $0.gateway.messagesPerMinute = 20
            $0.gateway.commandsPerMinute = 2
        }
        defer { host.removeFolder() }
        try await host.run { server in
            let client = WSTestClient(port: server.port, token: try await server.token("user"))
            _ = await client.next("connected")
            for _ in 0..<21 { client.send(["action": "ping"]) }
            let frames = await client.drain(for: .milliseconds(500))
            XCTAssertEqual(frames.filter { $0["action"] == "pong" }.count, 20)
            let warning = frames.first { $0["action"] == "rate_limit" }
            XCTAssertEqual(warning?["current_requests"], 19)
            XCTAssertEqual(warning?["limit"], 20)
            XCTAssertEqual(warning?["window_seconds"], 60)
            let refused = frames.first { $0["action"] == "error" }
            XCTAssertEqual(refused?["error_code"], 4003)

            let commander = WSTestClient(port: server.port, token: try await server.token("moderator"))
            _ = await commander.next("connected")
            for _ in 0..<3 { commander.send(["action": "send", "content": "!help"]) }
            let replies = await commander.drain(for: .milliseconds(500))
            XCTAssertEqual(replies.filter { $0["action"] == "command_reply" }.count, 2)
            XCTAssertEqual(replies.first { $0["action"] == "error" }?["error_code"], 4003)
        }
    }

    func testConnectionsPerAddressAreCapped() async throws {
        let host = TestHost { $0.gateway.maxConnectionsPerIP = 2 }
        defer { host.removeFolder() }
        try await host.run { server in
            let token = try await server.token("user")
            let first = WSTestClient(port: server.port, token: token)
            let second = WSTestClient(port: server.port, token: token)
            _ = await first.next("connected")
            _ = await second.next("connected")
            let third = WSTestClient(port: server.port, token: token)
            try await assertEqual(try await third.closeFrame()?.closeCode, .policyViolation)
            first.close()
            _ = try await first.closeFrame()
            try await Task.sleep(for: .milliseconds(100))
            let fourth = WSTestClient(port: server.port, token: token)
            await assertTrue(await fourth.next("connected") != nil, "a slot freed by a close can be reused")
        }
    }

    func testSilentConnectionsAreClosed() async throws {
        let host = TestHost { $0.gateway.heartbeatTimeoutSeconds = 1 }
        defer { host.removeFolder() }
        try await host.run { server in
            let client = WSTestClient(port: server.port, token: try await server.token("user"))
            _ = await client.next("connected")
            let notice = await client.next("disconnected", timeout: .seconds(5))
            XCTAssertEqual(notice?["reason"], "connection_timeout")
            try await assertEqual(try await client.closeFrame()?.closeCode, .goingAway)
        }
    }

    func testPresenceAndCogStateAppearAsSystemMessages() async throws {
        let host = TestHost(enabled: ["echo"])
        defer { host.removeFolder() }
        try await host.run { server in
            let admin = try await server.token("admin")
            let watcher = WSTestClient(port: server.port, token: admin)
            _ = await watcher.next("connected")
            watcher.send(["action": "subscribe", "message_types": ["system"]])
            _ = await watcher.next("subscribed")
            let visitor = WSTestClient(port: server.port, token: try await server.token("user"))
            let joined = await watcher.next("system")
            XCTAssertEqual(joined?["event"], "user_joined")
            XCTAssertEqual(joined?["data"]?["username"], "user")
            XCTAssertEqual(joined?["data"]?["count_online"], 2)
            visitor.close()
            let left = await watcher.next("system")
            XCTAssertEqual(left?["event"], "user_left")

            _ = try await server.request(.POST, "/api/cogs/unload", token: admin, json: ["cog_name": "echo"])
            let unloaded = await watcher.next("system")
            XCTAssertEqual(unloaded?["event"], "cog.unloaded")
            XCTAssertEqual(unloaded?["audience"], "admins")
            XCTAssertEqual(unloaded?["data"]?["cog"], "echo")
        }
    }

    func testCommandsRunWithRolesCooldownsAndSuggestions() async throws {
        let host = TestHost(enabled: ["echo", "rooms"])
        defer { host.removeFolder() }
        try await host.run { server in
            let user = try await server.token("user")
            let client = WSTestClient(port: server.port, token: user)
            _ = await client.next("connected")
            client.send(["action": "subscribe", "message_types": ["dm"]])
            _ = await client.next("subscribed")

            client.send(["action": "send", "content": "!echo \"two words\" more"])
            let frames = await client.drain(for: .milliseconds(300))
            XCTAssertEqual(frames.first { $0["action"] == "sent" }?["message"]?["content"], "!echo \"two words\" more")
            let reply = frames.first { $0["action"] == "command_reply" }
            XCTAssertEqual(reply?["command"], "echo")
            XCTAssertEqual(reply?["reply"], "\"two words\" more")
            let dm = frames.first { $0["type"] == "dm" }
            XCTAssertEqual(dm?["from_user_id"], "bot")
            XCTAssertEqual(dm?["to_user_id"], reply?["message"]?["to_user_id"])
            XCTAssertEqual(dm?["content"], "\"two words\" more")

            client.send(["action": "send", "content": "!echo again"])
            await assertTrue(await client.next("command_reply")?["reply"]?.stringValue?.hasPrefix("Wait ") == true, "cooldown")
            client.send(["action": "send", "content": "!ecoh"])
            await assertEqual(await client.next("command_reply")?["reply"], "Unknown command !ecoh. Did you mean !echo?")
            client.send(["action": "send", "content": "!announce hi"])
            await assertEqual(await client.next("command_reply")?["reply"], "You need the admin role for !announce.")
            client.send(["action": "send", "content": "!help"])
            let help = await client.next("command_reply")?["reply"]?.stringValue ?? ""
            XCTAssertTrue(help.contains("!echo") && help.contains("!cogs"), help)
            XCTAssertFalse(help.contains("!announce"), "commands the caller cannot run are hidden")
            client.send(["action": "send", "content": "just chatting"])
            let chat = await client.drain(for: .milliseconds(300))
            XCTAssertFalse(chat.contains { $0["action"] == "command_reply" })

            let admin = try await server.token("admin")
            let http = try await server.request(.POST, "/api/bot/messages", token: admin, json: ["content": "!announce tonight"])
            XCTAssertEqual(http.status, 200)
            XCTAssertEqual(http.json["reply"], "announced: tonight")
            XCTAssertEqual(http.json["reply_message"]?["to_user_id"], "1")
            let plain = try await server.request(.POST, "/api/bot/messages", token: admin, json: ["content": "hello all"])
            XCTAssertEqual(plain.json["reply"], .null)
            let empty = try await server.request(.POST, "/api/bot/messages", token: admin, json: ["content": ""])
            XCTAssertEqual(empty.status, 400)
        }
    }

    func testCogActionsAndTopicsLiveAndDieWithTheCog() async throws {
        let host = TestHost(enabled: ["rooms"])
        defer { host.removeFolder() }
        try await host.run { server in
            let user = WSTestClient(port: server.port, token: try await server.token("user"))
            let moderator = WSTestClient(port: server.port, token: try await server.token("moderator"))
            _ = await user.next("connected")
            _ = await moderator.next("connected")
            user.send(["action": "join_room", "room": "tavern"])
            await assertEqual(await user.next("joined")?["topic"], "room:tavern")
            user.send(["action": "join_room", "room": "secret"])
            await assertEqual(await user.next("error")?["error_code"], 1008)
            user.send(["action": "join_room"])
            await assertEqual(await user.next("error")?["details"]?["field"], "room")

            moderator.send(["action": "shout", "room": "tavern", "text": "last call"])
            await assertEqual(await moderator.next("shout_sent")?["delivered"], 1)
            await assertEqual(await user.next("shouted")?["text"], "last call")

            let admin = try await server.token("admin")
            _ = try await server.request(.POST, "/api/cogs/unload", token: admin, json: ["cog_name": "rooms"])
            await assertEqual(await user.next("topic_closed")?["topic"], "room:tavern")
            user.send(["action": "join_room", "room": "tavern"])
            await assertEqual(await user.next("error")?["details"]?["issue"], "Unknown action 'join_room'")
        }
    }

    func testReconnectingAfterACloseWorks() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let token = try await server.token("user")
            for _ in 0..<3 {
                let client = WSTestClient(port: server.port, token: token)
                await assertTrue(await client.next("connected") != nil)
                client.send(["action": "ping"])
                await assertTrue(await client.next("pong") != nil)
                client.close()
                try await assertEqual(try await client.closeFrame()?.closeCode, .normalClosure)
            }
            try await assertEqual(await server.request(.GET, "/api/live-log/stats", token: server.token("admin")).json["connections"], 0)
        }
    }

    func testRetentionPurgesOldMessages() async throws {
        let host = TestHost()
        defer { host.removeFolder() }
        try await host.run { server in
            let store = server.host.liveLog.store
            let (type, old) = try LiveLogSchema.validate(
                ["type": "user", "user_id": "u", "username": "u", "content": "ancient"], now: Date().addingTimeInterval(-40 * 86_400))
            try await store.insert(LiveLogStore.routing(type, old))
            _ = try await server.host.liveLog.post(["type": "user", "user_id": "u", "username": "u", "content": "fresh"])
            let purged = try await store.purge(olderThan: Date().addingTimeInterval(-30 * 86_400))
            XCTAssertEqual(purged, 1)
            let admin = try await server.token("admin")
            let left = try await server.request(.GET, "/api/live-log/messages", token: admin)
            XCTAssertEqual(left.json["total_count"], 1)
            let search = try await server.request(.GET, "/api/live-log/search?q=ancient", token: admin)
            XCTAssertEqual(search.json["count"], 0, "the search index forgets it too")
        }
    }

    func testAClientThatStopsReadingIsCutOffWhileOthersGetEverything() async throws {
        let host = TestHost { $0.gateway.outboundQueueLimit = 5 }
        defer { host.removeFolder() }
        try await host.run { server in
            let user = try await server.token("user")
            let fast = WSTestClient(port: server.port, token: user)
            _ = await fast.next("connected")
            fast.send(["action": "subscribe", "message_types": ["user"]])
            _ = await fast.next("subscribed")
            let slow = try PeerProcess(peer: "slow_reader.py", arguments: ["ws://127.0.0.1:\(server.port)/ws/live-log?token=\(user)"])
            try await assertEqual(try await slow.nextEvent(), ["ready": true])
            // 18 MB to both connections of the default guild: far more than the kernel's socket buffers hold.
            let flood = 300
            let payload = JSONValue.string(String(repeating: "x", count: 60_000))
            for number in 0..<flood {
                XCTAssertEqual(server.host.hub.broadcast(toGuild: GuildScope.defaultGuildID, ["action": "bulk", "n": .int(Int64(number)), "payload": payload]), 2)
                if number % 20 == 0 { try await Task.sleep(for: .milliseconds(5)) }
            }
            let outcome = try await slow.nextEvent()
            XCTAssertEqual(outcome?["close_code"], 1008, "the slow client is disconnected: \(String(describing: outcome))")
            XCTAssertLessThan(outcome?["frames"]?.doubleValue ?? 0, Double(flood), "and was not sent everything")
            var received = 0
            while received < flood, let frame = await fast.next("bulk", timeout: .seconds(10)) {
                XCTAssertEqual(frame["n"], .int(Int64(received)), "in order")
                received += 1
            }
            XCTAssertEqual(received, flood, "the client that reads gets every frame")
        }
    }
}
