import Foundation
import PluginAPI

/// Work that takes a while on every surface of a cog — a route, a gateway action, a command, a listener and spawned
/// work — so the tests can unload the cog while each is running and see it finish (or, past the drain bound, be
/// cancelled). Each records `drain.<surface>.started`, `.finished` or `.cancelled` in the probe.
struct DrainCog: Cog {
    static let manifest = CogManifest(
        id: "drain", displayName: "Drain", version: "1.0.0", contract: "2.0", summary: "Slow on every surface.",
        routePrefixes: ["/api/drain"])

    struct Pause: Decodable, Sendable {
        var milliseconds: Int
    }

    /// Sleeps `milliseconds`, recording start and end (or cancellation) under `surface`.
    static func work(_ surface: String, _ milliseconds: Int) async throws {
        Probe.bump("drain.\(surface).started")
        do {
            try await Task.sleep(for: .milliseconds(milliseconds))
        } catch {
            Probe.bump("drain.\(surface).cancelled")
            throw error
        }
        Probe.bump("drain.\(surface).finished")
    }

    func setup(_ context: any CogContext<NoConfiguration>) async throws {
        context.route(.get, "/api/drain/slow", access: .public, summary: "Answers after ?milliseconds=", query: Pause.self) { call in
            try await Self.work("route", call.query.milliseconds)
            return ["done": true] as JSONValue
        }
        context.route(.post, "/api/drain/spawn", access: .public, summary: "Starts background work", body: Pause.self) { call in
            let started = context.spawn("slow work") { try await Self.work("spawn", call.body.milliseconds) }
            return ["started": .bool(started)] as JSONValue
        }
        context.action("slow", access: .user) { call in
            try await Self.work("action", Int(try call.integer("milliseconds")))
            return ["action": "slow_done"]
        }
        context.command(BotCommand(name: "slow", usage: "!slow <ms>", summary: "Answers late", cooldown: .nanoseconds(1)) { call in
            try await Self.work("command", Int(call.arguments.first ?? "0") ?? 0)
            return "slow done"
        })
        context.listen("drain.*") { event in try await Self.work("listener", (try? event.decode(Pause.self).milliseconds) ?? 0) }
    }
}

/// A cog written for a contract this host does not implement.
struct FutureCog: Cog {
    static let manifest = CogManifest(
        id: "future", displayName: "Future", version: "1.0.0", contract: "3.0", summary: "Needs contract 3.",
        routePrefixes: ["/api/future"])
    func setup(_ context: any CogContext<NoConfiguration>) async throws {}
}

/// A cog that needs a newer host than this one.
struct DemandingCog: Cog {
    static let manifest = CogManifest(
        id: "demanding", displayName: "Demanding", version: "1.0.0", contract: "2.0", summary: "Needs Guildhall 9.",
        minimumHostVersion: "9.0.0", routePrefixes: ["/api/demanding"])
    func setup(_ context: any CogContext<NoConfiguration>) async throws {}
}

/// Each instance numbers itself; its route publishes an event carrying the number and its listener records which
/// instance published what it hears.
struct GenerationsCog: Cog {
    static let manifest = CogManifest(
        id: "generations", displayName: "Generations", version: "1.0.0", contract: "2.0", summary: "Numbers its instances.",
        routePrefixes: ["/api/generations"])

    struct Ping: Codable, Sendable { var generation: Int }

    let generation: Int

    init() {
        Probe.bump("generations.instances")
        generation = Probe.count("generations.instances")
    }

    func setup(_ context: any CogContext<NoConfiguration>) async throws {
        let generation = self.generation
        context.route(.post, "/api/generations/ping", access: .public, summary: "Publishes this instance's number") { _ in
            context.events.publish("generations.ping", payload: Ping(generation: generation))
            return ["generation": .int(Int64(generation))] as JSONValue
        }
        context.listen("generations.ping") { event in
            let publisher = try event.decode(Ping.self).generation
            Probe.bump(publisher > generation ? "generations.newer_reached_older" : "generations.heard")
        }
    }
}
