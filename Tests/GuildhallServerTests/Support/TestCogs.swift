import Foundation
import PluginAPI
import Synchronization

/// Counters the test cogs bump, so tests can see what still runs.
enum Probe {
    private static let counters = Mutex<[String: Int]>([:])
    private static let flags = Mutex<Set<String>>([])

    static func bump(_ name: String) { counters.withLock { $0[name, default: 0] += 1 } }
    static func count(_ name: String) -> Int { counters.withLock { $0[name, default: 0] } }
    static func set(_ flag: String, _ on: Bool) { flags.withLock { if on { $0.insert(flag) } else { $0.remove(flag) } } }
    static func isSet(_ flag: String) -> Bool { flags.withLock { $0.contains(flag) } }
    static func reset() {
        counters.withLock { $0 = [:] }
        flags.withLock { $0 = [] }
    }
}

enum TestCogs {
    static let all: [any Cog.Type] = [EchoCog.self, DependentCog.self, FlakyCog.self, RoomsCog.self]
}

struct EchoConfig: CogConfiguration {
    var greeting = "hello"
    var limit = 10
    var token = ""
    init() {}
    static var secretKeys: Set<String> { ["token"] }
}

/// A cog that uses every kind of registration: routes of each access level, a listener, a task, a command and a
/// config section.
struct EchoCog: Cog {
    typealias Configuration = EchoConfig
    static let manifest = CogManifest(
        id: "echo", displayName: "Echo", version: "1.0.0", contract: "2.0", summary: "Echoes things back.",
        routePrefixes: ["/api/echo"], configSection: "echo")

    static let migrations = [Migration("001_echoes", "CREATE TABLE echoes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")]

    /// Which setup this instance came from.
    let generation: Int

    init() {
        Probe.bump("echo.instances")
        generation = Probe.count("echo.instances")
    }

    struct Echo: Codable, ResponseConvertible {
        var text: String
        var count: Int
    }

    func setup(_ context: any CogContext<EchoConfig>) async throws {
        let generation = self.generation
        context.route(.get, "/api/echo", access: .public, summary: "Who answers") { _ in
            ["generation": .int(Int64(generation)), "cog": "echo"] as JSONValue
        }
        context.route(.get, "/api/echo/slow", access: .public, summary: "Answers after 300 ms") { _ in
            try await Task.sleep(for: .milliseconds(300))
            return ["generation": .int(Int64(generation))] as JSONValue
        }
        context.route(.get, "/api/echo/admin", access: .admin, summary: "Admins only") { call in
            ["user": .string(try call.requireIdentity().username)] as JSONValue
        }
        context.route(.post, "/api/echo", access: .user, summary: "Echo a JSON body", body: Echo.self) { call in
            call.body
        }
        context.route(.get, "/api/echo/config", access: .public, summary: "The effective config") { _ in
            try JSONValue(encoding: context.config())
        }
        context.route(.get, "/api/echo/crash", access: .public, summary: "Throws a plain error") { _ -> JSONValue in
            struct Boom: Error {}
            throw Boom()
        }
        context.listen("test.*", priority: 0) { _ in Probe.bump("echo.listener") }
        context.schedule("tick", every: .milliseconds(20)) { Probe.bump("echo.task") }
        context.command(BotCommand(name: "echo", usage: "!echo <text>", summary: "Says it back") { $0.rawArguments })
        context.validateConfig { config in
            if config.greeting == "refuse" {
                context.logger.warning("echo is refusing a greeting", metadata: ["greeting": "\(config.greeting)"])
                throw CommandError("greeting 'refuse' is refused")
            }
        }
        context.onConfigApplied { config in Probe.bump("echo.config:\(config.greeting)") }
    }

    func teardown() async {
        Probe.bump("echo.teardown")
    }
}

/// Depends on echo.
struct DependentCog: Cog {
    static let manifest = CogManifest(
        id: "dependent", displayName: "Dependent", version: "1.0.0", contract: "2.0", summary: "Needs echo.",
        dependsOn: ["echo"], routePrefixes: ["/api/dependent"])

    let generation: Int

    init() {
        Probe.bump("dependent.instances")
        generation = Probe.count("dependent.instances")
    }

    func setup(_ context: any CogContext<NoConfiguration>) async throws {
        if Probe.isSet("dependent.fail") { throw CommandError("dependent refuses to start") }
        let generation = self.generation
        context.route(.get, "/api/dependent", access: .public, summary: "Who answers") { _ in
            ["generation": .int(Int64(generation))] as JSONValue
        }
    }
}

/// Fails its setup while the `flaky.fail` flag is set.
struct FlakyCog: Cog {
    static let manifest = CogManifest(
        id: "flaky", displayName: "Flaky", version: "1.0.0", contract: "2.0", summary: "Fails on demand.", routePrefixes: ["/api/flaky"])

    let generation: Int

    init() {
        Probe.bump("flaky.instances")
        generation = Probe.count("flaky.instances")
    }

    func setup(_ context: any CogContext<NoConfiguration>) async throws {
        let generation = self.generation
        context.route(.get, "/api/flaky", access: .public, summary: "Who answers") { _ in
            ["generation": .int(Int64(generation))] as JSONValue
        }
        if Probe.isSet("flaky.fail") { throw CommandError("flaky setup failed on purpose") }
    }
}

/// Gateway rooms: actions to join and shout, a topic per room, an admin-only command.
struct RoomsCog: Cog {
    static let manifest = CogManifest(
        id: "rooms", displayName: "Rooms", version: "1.0.0", contract: "2.0", summary: "Chat rooms on the gateway.",
        routePrefixes: ["/api/rooms"])

    func setup(_ context: any CogContext<NoConfiguration>) async throws {
        context.topic("room") { identity, _, topic in topic != "room:secret" || identity.role == .admin }
        context.action("join_room", access: .user) { call in
            let room = "room:" + (try call.string("room"))
            try await call.join(room)
            return ["action": "joined", "topic": .string(room)]
        }
        context.action("shout", access: .user) { call in
            let room = "room:" + (try call.string("room"))
            let count = context.publish(
                topic: room, ["action": "shouted", "room": .string(room), "text": .string(try call.string("text"))])
            return ["action": "shout_sent", "delivered": .int(Int64(count))]
        }
        context.action("moderate", access: .moderator) { _ in ["action": "moderated"] }
        context.command(BotCommand(name: "announce", usage: "!announce <text>", summary: "Admins only", access: .admin) { call in
            "announced: \(call.rawArguments)"
        })
    }
}
