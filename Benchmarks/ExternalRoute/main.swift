import GuildhallServer
import PluginAPI

/// The in-process side of scripts/bench-external.sh: the guildhall command line with one cog whose route answers
/// what the external examples' trivial routes answer, so one host serves both in the same run.
struct InProcessPingCog: Cog {
    static let manifest = CogManifest(
        id: "inproc", displayName: "In-process ping", version: "1.0.0", contract: "2.0",
        summary: "A constant answer, in the host's process (benchmarks).", routePrefixes: ["/api/inproc"])

    struct Pong: Codable, ResponseConvertible {
        var pong: Bool
    }

    init() {}

    func setup(_ context: any CogContext<NoConfiguration>) async throws {
        context.route(.get, "/api/inproc/ping", access: .public, summary: "A constant answer", responses: [.json(.ok, Pong.self)]) { _ in
            Pong(pong: true)
        }
    }
}

await GuildhallCommand.main(cogs: [InProcessPingCog.self])
