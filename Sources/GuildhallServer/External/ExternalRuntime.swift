import AsyncHTTPClient
import Foundation
import Logging
import PluginAPI
import ServiceLifecycle
import Synchronization

/// What every external cog of one host shares: the private folder of sockets, the client that calls the cogs, the
/// grants behind their callback secrets, the callback server, and the plugins folder they are installed in.
final class ExternalRuntime: Sendable {
    struct Settings: Sendable {
        var healthInterval: Duration
        var startTimeout: Duration
        var isolation: CogIsolation
    }

    let settings: Settings
    /// Where external cogs are installed, one folder each.
    let pluginsDirectory: URL
    /// The folder of the sockets: the host's callback socket, and a folder of each cog's own for its process's. Others
    /// may pass through it (mode 0711) but not list it; a cog's folder is its user's alone.
    let runDirectory: String
    /// The socket cogs call back on.
    var hostSocketPath: String { runDirectory + "/host.sock" }
    let client: HTTPClient
    let callbacks = CallbackGrants()
    let services: CogServices
    private let sockets = Atomic<Int>(0)

    init(settings: Settings, pluginsDirectory: URL, services: CogServices, client: HTTPClient) throws {
        self.settings = settings
        self.pluginsDirectory = pluginsDirectory
        self.services = services
        Self.removeStaleRunDirectories()
        var template = Array("/tmp/guildhall-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ExternalSetupError(description: "cannot create a socket folder in /tmp") }
        runDirectory = String(cString: made)
        settings.isolation.makePassable(URL(fileURLWithPath: runDirectory))
        // Names the host that owns the folder, so a later host can tell it is stale (see below).
        try String(getpid()).write(toFile: runDirectory + "/host.pid", atomically: true, encoding: .utf8)
        self.client = client
    }

    /// Removes the socket folders of hosts that died without cleaning up (`kill -9`): `/tmp/guildhall-XXXXXX` holding a
    /// `host.pid` of a process that is gone. Their cogs died with them (parent-death signal).
    static func removeStaleRunDirectories() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        for name in names where name.hasPrefix("guildhall-") && name.count == "guildhall-XXXXXX".count {
            let folder = "/tmp/" + name
            guard let text = try? String(contentsOfFile: folder + "/host.pid", encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
                kill(pid, 0) == -1 && errno == ESRCH
            else { continue }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// What the process of `manifest`'s cog may do through its callbacks: its manifest's permissions on its own port.
    func port(for manifest: ExternalManifest) -> CogPort {
        CogPort(
            cog: manifest.cog.id, configSection: manifest.cog.configSection, permissions: manifest.permissions, services: services,
            logger: services.logs.logger(for: manifest.cog.id, base: services.logger))
    }

    /// The callback API served on ``hostSocketPath``, a service of the host's group.
    func callbackServer(_ api: CogHostAPI) -> some Service {
        api.application(socketPath: hostSocketPath)
    }

    /// Removes the socket folder (after the cogs stopped).
    func shutDown() async {
        try? FileManager.default.removeItem(atPath: runDirectory)
    }

    /// A socket path no other process of this host has used, in the cog's own socket folder: a reload's new process
    /// starts beside the old one.
    func newSocketPath(for cog: String) throws -> String {
        let folder = URL(fileURLWithPath: runDirectory).appendingPathComponent(cog)
        try settings.isolation.makePrivate(folder, for: cog)
        return "\(folder.path)/\(sockets.add(1, ordering: .relaxed).newValue).sock"
    }

    /// Lets every cog's user connect to the callback socket (the secret, not the socket's mode, says who calls);
    /// answers false while the server has not bound it yet.
    func openHostSocket() -> Bool {
        chmod(hostSocketPath, 0o666) == 0
    }

    func removeSocket(_ path: String?) {
        if let path { unlink(path) }
    }

    /// 32 random bytes as hex.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return CogChannel.hex((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// Host variables a cog process inherits; nothing else of the host's environment (its secrets) reaches it. HOME
    /// and TMPDIR are the cog's own data folder.
    static let inheritedVariables = ["PATH", "LANG", "LC_ALL", "TZ"]

    /// The process's whole environment: a few of the host's variables and the protocol's (docs/external-cogs.md).
    func environment(for manifest: ExternalManifest, socketPath: String, secret: String) throws -> [String: String] {
        let host = ProcessInfo.processInfo.environment
        var environment = host.filter { Self.inheritedVariables.contains($0.key) }
        if environment["PATH"] == nil { environment["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        let cogsDirectory = services.dataDirectory.appendingPathComponent("cogs")
        let dataDirectory = cogsDirectory.appendingPathComponent(manifest.cog.id)
        try settings.isolation.makePrivate(dataDirectory, for: manifest.cog.id)
        // The database and the host's files stay closed: cogs' users only pass through to their own folders.
        settings.isolation.makePassable(services.dataDirectory)
        settings.isolation.makePassable(cogsDirectory)
        environment["HOME"] = dataDirectory.path
        environment["TMPDIR"] = dataDirectory.path
        let config = manifest.cog.configSection.flatMap { services.config.value(of: $0) } ?? .object([:])
        environment["GUILDHALL_COG_ID"] = manifest.cog.id
        environment["GUILDHALL_SOCKET"] = socketPath
        environment["GUILDHALL_HOST_SOCKET"] = hostSocketPath
        environment["GUILDHALL_SECRET"] = secret
        environment["GUILDHALL_CONFIG"] = String(decoding: config.jsonData(), as: UTF8.self)
        environment["GUILDHALL_DATA_DIR"] = dataDirectory.path
        environment["GUILDHALL_CONTRACT"] = ContractVersion.current.description
        environment["GUILDHALL_HOST_VERSION"] = GuildhallHost.version
        environment["PYTHONUNBUFFERED"] = "1"
        return environment
    }

    /// A supervised cog failed for good: told to admins like a failed load.
    func reportFailure(cog: String, reason: String) {
        services.logs.append(cog, level: .error, "failed: \(reason)")
        services.bus.publish(
            "cog.failed", payload: CogEventPayload(cog: cog, operation: "supervise", actor: "host", version: nil, error: reason),
            source: "host", correlationID: nil)
    }

    /// The manifests of the external cogs installed in `directory`; a folder whose manifest is unusable, or that is
    /// not named after its cog's id, is left out and named in `problems`.
    static func discover(in directory: URL) -> (manifests: [ExternalManifest], problems: [String]) {
        let folders = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        var manifests: [ExternalManifest] = []
        var problems: [String] = []
        for folder in folders.sorted(by: { $0.path < $1.path })
        where !folder.lastPathComponent.hasPrefix(".")
            && FileManager.default.fileExists(atPath: folder.appendingPathComponent(ExternalManifest.fileName).path)
        {
            do {
                let manifest = try ExternalManifest(folder: folder)
                guard manifest.cog.id == folder.lastPathComponent else {
                    problems.append("\(folder.path): the folder must be named after the cog's id '\(manifest.cog.id)'")
                    continue
                }
                manifests.append(manifest)
            } catch {
                problems.append("\(folder.path): \(error)")
            }
        }
        return (manifests, problems)
    }
}

struct ExternalSetupError: Error, CustomStringConvertible {
    var description: String
}

/// The live callback secrets: each running cog process's, with what its manifest allows. A secret dies with its
/// process.
final class CallbackGrants: Sendable {
    private let grants = Mutex<[String: CogPort]>([:])

    /// Lets the process holding `secret` act through `port`.
    func grant(_ secret: String, port: CogPort) {
        grants.withLock { $0[secret] = port }
    }

    func revoke(_ secret: String) {
        _ = grants.withLock { $0.removeValue(forKey: secret) }
    }

    /// The port of the cog whose process holds `secret`.
    func lookup(_ secret: String) -> CogPort? { grants.withLock { $0[secret] } }
}
