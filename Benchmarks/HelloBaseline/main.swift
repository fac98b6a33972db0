// The baselines of scripts/bench.sh, built the same way as guildhall: a bare Hummingbird server answering
// "Hello, world!" at / and, at /api/health, the same JSON body as Guildhall's health check, written the way a
// Hummingbird application usually writes one (a Codable struct through Hummingbird's JSON encoder).
import Foundation
import Hummingbird

struct Health: ResponseEncodable {
    var status: String
    var timestamp: String
    var version: String
    var cogsLoaded: Int

    enum CodingKeys: String, CodingKey {
        case status, timestamp, version
        case cogsLoaded = "cogs_loaded"
    }
}

let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 8081 : 8081
let stamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
let router = Router()
router.get("/") { _, _ in "Hello, world!" }
router.get("/api/health") { _, _ in
    Health(status: "ok", timestamp: Date().formatted(stamp), version: "1.0.0", cogsLoaded: 4)
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
