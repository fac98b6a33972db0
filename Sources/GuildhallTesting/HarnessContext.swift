import AsyncHTTPClient
import Foundation
import GuildhallServer
import Logging
import PluginAPI
import Synchronization

extension Identity {
    /// A signed-in person with `role` (user id `id`, name `name`, or the role's name), to call a cog as.
    public static func person(_ role: Role, id: Int64 = 1, name: String? = nil) -> Identity {
        Identity(userID: id, username: name ?? role.rawValue, role: role)
    }

    /// A guild API key of guild `guild` holding `permissions`.
    public static func guildKey(guild: Int64, permissions: Set<GuildPermission>, id: Int64 = 1) -> Identity {
        Identity(userID: 0, username: "api-key:\(id)", role: .user, apiKey: APIKeyGrant(id: id, guildID: guild, permissions: permissions))
    }
}

/// Everything a harness knows of its cog: what it registered, what it did, its settings and its clock.
final class HarnessState<Configuration: CogConfiguration>: Sendable {
    enum Record: Sendable {
        case event(Event)
        case liveLog(JSONValue)
        case mail(Mail)
        case notification(PushAudience, PushNotification)
        case topic(String, JSONValue)
        case broadcast(Int64, JSONValue)
        case sentToCaller(connection: String, frame: JSONValue)
    }

    struct ScheduledTask: Sendable {
        let interval: Duration
        var due: Duration
        let body: @Sendable () async throws -> Void
    }

    struct Registered: Sendable {
        var routes: [RouteDeclaration] = []
        var listeners: [(pattern: EventPattern, priority: Int, handler: @Sendable (Event) async throws -> Void)] = []
        var tasks: [ScheduledTask] = []
        var commands: [String: BotCommand] = [:]
        var actions: [String: (access: Access, handler: @Sendable (GatewayCall) async throws -> JSONValue?)] = [:]
        var topics: [String: TopicRule] = [:]
        var validators: [@Sendable (Configuration) throws -> Void] = []
        var appliers: [@Sendable (Configuration) async -> Void] = []
        var figures: [@Sendable () async throws -> [String: JSONValue]] = []
        var guildData: (export: @Sendable (GuildScope) async throws -> JSONValue, import: @Sendable (GuildScope, JSONValue) async throws -> Void)?
        /// Registrations that break the host's rules (``RegistrationRules``): the harness refuses the cog as the host would.
        var problems: [String] = []
        var sealed = false
    }

    let manifest: CogManifest
    let guilds: [GuildScope]
    let people: [Identity]
    /// The settings the harness was made with (config.yaml's, for `resetConfig`).
    let initialSettings: Configuration
    private let started = Date()
    /// Upstream circuits of the harness's outbound client.
    let breakers = CircuitBreakers(threshold: 5, cooldown: .seconds(30))
    private let registered = Mutex(Registered())
    private let log = Mutex<[Record]>([])
    private let settingsValue: Mutex<Configuration>
    private let clock = Mutex(Duration.zero)
    private let charges = Mutex<[Int64: Int]>([:])
    private let spawned = Mutex<[Task<Void, Never>]>([])
    private let subscriptions = Mutex<[String: Set<String>]>([:])

    init(manifest: CogManifest, guilds: [GuildScope], people: [Identity], settings: Configuration) {
        self.initialSettings = settings
        self.manifest = manifest
        self.guilds = guilds
        self.people = people
        self.settingsValue = Mutex(settings)
    }

    // MARK: Registration

    func register(_ change: (inout Registered) -> Void) {
        registered.withLock { state in
            precondition(!state.sealed, "register in setup: the host refuses registrations made after setup returns")
            change(&state)
        }
    }

    /// Ends registration; throws the problems the host would refuse the cog for.
    func seal() throws {
        let problems = registered.withLock { state in
            state.sealed = true
            return state.problems
        }
        if !problems.isEmpty { throw RegistrationProblems(problems: problems) }
    }

    func addRoute(_ route: RouteDeclaration) {
        register { state in
            if let problem = RegistrationRules.route(route, prefixes: manifest.routePrefixes, registered: state.routes) {
                return state.problems.append(problem)
            }
            state.routes.append(route)
        }
    }
    func addListener(_ pattern: EventPattern, _ priority: Int, _ handler: @escaping @Sendable (Event) async throws -> Void) {
        register { $0.listeners.append((pattern, priority, handler)) }
    }
    func addTask(_ name: String, every interval: Duration, _ body: @escaping @Sendable () async throws -> Void) {
        let now = clock.withLock { $0 }
        register { state in
            if let problem = RegistrationRules.task(name, every: interval) { return state.problems.append(problem) }
            state.tasks.append(ScheduledTask(interval: interval, due: now + interval, body: body))
        }
    }
    func addCommand(_ command: BotCommand) {
        register { state in
            if let problem = RegistrationRules.command(command.name, registered: state.commands.values.map(\.name)) {
                return state.problems.append(problem)
            }
            state.commands[command.name.lowercased()] = command
        }
    }
    func addAction(_ name: String, _ access: Access, _ handler: @escaping @Sendable (GatewayCall) async throws -> JSONValue?) {
        register { state in
            if let problem = RegistrationRules.action(name, registered: state.actions.keys) { return state.problems.append(problem) }
            state.actions[name] = (access, handler)
        }
    }
    func addTopic(_ prefix: String, _ rule: @escaping TopicRule) {
        register { state in
            if let problem = RegistrationRules.topic(prefix) { return state.problems.append(problem) }
            state.topics[prefix] = rule
        }
    }
    func addValidator(_ check: @escaping @Sendable (Configuration) throws -> Void) {
        register { state in
            if let problem = RegistrationRules.configHandler("validateConfig", section: manifest.configSection) {
                return state.problems.append(problem)
            }
            state.validators.append(check)
        }
    }
    func addApplier(_ handler: @escaping @Sendable (Configuration) async -> Void) {
        register { state in
            if let problem = RegistrationRules.configHandler("onConfigApplied", section: manifest.configSection) {
                return state.problems.append(problem)
            }
            state.appliers.append(handler)
        }
    }
    func addFigures(_ read: @escaping @Sendable () async throws -> [String: JSONValue]) { register { $0.figures.append(read) } }

    // MARK: Lookup

    /// The route matching `method` and `path`, with the path's parameters.
    func route(_ method: HTTPRequest.Method, _ path: String) -> (RouteDeclaration, [String: String])? {
        let segments = path.split(separator: "/")
        for route in registered.withLock({ $0.routes }) where route.method == method {
            let pattern = route.path.split(separator: "/")
            guard pattern.count == segments.count else { continue }
            var parameters: [String: String] = [:]
            let matches = zip(pattern, segments).allSatisfy { part, segment in
                if part.hasPrefix("{"), part.hasSuffix("}") {
                    parameters[String(part.dropFirst().dropLast())] = String(segment).removingPercentEncoding ?? String(segment)
                    return true
                }
                return part == segment
            }
            if matches { return (route, parameters) }
        }
        return nil
    }

    func action(_ name: String) -> (access: Access, handler: @Sendable (GatewayCall) async throws -> JSONValue?)? {
        registered.withLock { $0.actions[name] }
    }
    func command(_ name: String) -> BotCommand? { registered.withLock { $0.commands[name] } }
    func listeners(for name: String) -> [@Sendable (Event) async throws -> Void] {
        registered.withLock { $0.listeners }.filter { $0.pattern.matches(name) }.sorted { $0.priority > $1.priority }.map(\.handler)
    }
    var validators: [@Sendable (Configuration) throws -> Void] { registered.withLock { $0.validators } }
    var appliers: [@Sendable (Configuration) async -> Void] { registered.withLock { $0.appliers } }
    var figureReaders: [@Sendable () async throws -> [String: JSONValue]] { registered.withLock { $0.figures } }
    var guildData: (export: @Sendable (GuildScope) async throws -> JSONValue, import: @Sendable (GuildScope, JSONValue) async throws -> Void)? {
        registered.withLock { $0.guildData }
    }

    /// Moves the clock on and answers the task runs that fell due, in time order.
    func advance(by duration: Duration) -> [@Sendable () async throws -> Void] {
        let end = clock.withLock { now in
            now += duration
            return now
        }
        return registered.withLock { state in
            var runs: [(Duration, Int, @Sendable () async throws -> Void)] = []
            for index in state.tasks.indices {
                while state.tasks[index].due <= end {
                    runs.append((state.tasks[index].due, index, state.tasks[index].body))
                    state.tasks[index].due += state.tasks[index].interval
                }
            }
            return runs.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
        }
    }

    // MARK: Settings and records

    var settings: Configuration { settingsValue.withLock { $0 } }

    /// Lays `changes` over the settings, runs the cog's checks, then its applied handlers; answers the result.
    func update(_ changes: JSONValue) async throws -> Configuration {
        guard case .object(let current) = try JSONValue(encoding: settings), case .object(let given) = changes else {
            throw APIError.badRequest("invalid_config", "Send an object of settings.")
        }
        let proposed = try ConfigSection.decodeChecked(Configuration.self, from: .object(current.merging(given) { $1 }))
        for check in validators { try check(proposed) }
        settingsValue.withLock { $0 = proposed }
        for applied in appliers { await applied(proposed) }
        return proposed
    }

    /// The time on the harness clock: when the harness started, moved on by `advance(by:)`.
    var now: Date { started.addingTimeInterval(Double(clock.withLock { $0 } / .milliseconds(1)) / 1000) }

    func record(_ entry: Record) { log.withLock { $0.append(entry) } }
    var recorded: [Record] { log.withLock { $0 } }

    func charge(_ count: Int, guild: Int64) { charges.withLock { $0[guild, default: 0] += count } }
    var charged: [Int64: Int] { charges.withLock { $0 } }

    func spawn(_ task: Task<Void, Never>) { spawned.withLock { $0.append(task) } }
    func takeSpawned() -> [Task<Void, Never>] { spawned.withLock { tasks in defer { tasks = [] }; return tasks } }

    func join(_ topic: String, caller: Identity, guild: GuildScope?, connection: String) async throws {
        let prefix = String(topic.prefix { $0 != ":" })
        guard let rule = registered.withLock({ $0.topics[prefix] }) else {
            throw APIError.notFound("unknown_topic", "No topic \(topic).")
        }
        guard try await rule(caller, guild, topic) else { throw APIError(.forbidden, "forbidden", "You may not join \(topic).") }
        _ = subscriptions.withLock { $0[topic, default: []].insert(connection) }
    }

    func leave(_ topic: String, connection: String) { _ = subscriptions.withLock { $0[topic]?.remove(connection) } }
    func subscribers(of topic: String) -> Int { subscriptions.withLock { $0[topic]?.count ?? 0 } }
}

/// The context a harnessed cog is set up with.
struct HarnessContext<Configuration: CogConfiguration>: CogContext {
    let state: HarnessState<Configuration>
    let database: any Database
    let folder: URL
    let cache: any Cache = LRUCache(capacity: 10_000)

    var cogID: String { state.manifest.id }
    var logger: Logger {
        var logger = Logger(label: "cog.\(state.manifest.id)")
        logger.logLevel = .warning
        return logger
    }
    /// The host's outbound client, with short backoffs so retries do not slow a test down.
    var outbound: any OutboundClient {
        var settings = OutboundSettings()
        settings.backoffBaseMilliseconds = 10
        settings.backoffMaxMilliseconds = 50
        return HostOutboundClient(
            http: harnessHTTPClient, cache: cache, breakers: state.breakers, settings: settings, userAgent: { "Guildhall-Harness" }, logger: logger)
    }
    var events: any EventPublisher { HarnessPublisher(state: state) }
    var liveLog: any LiveLogPublisher { HarnessLiveLog(state: state) }
    var people: any PeopleDirectory { HarnessPeople(people: state.people, guilds: state.guilds) }
    var mail: any MailSender { HarnessMail(state: state) }
    var notifications: any Notifier { HarnessNotifier(state: state) }
    var dataDirectory: URL {
        let directory = folder.appendingPathComponent("cogs").appendingPathComponent(state.manifest.id)
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    func add(_ route: RouteDeclaration) { state.addRoute(route) }
    func listen(_ pattern: EventPattern, priority: Int, handler: @escaping @Sendable (Event) async throws -> Void) {
        state.addListener(pattern, priority, handler)
    }
    func schedule(_ name: String, every interval: Duration, body: @escaping @Sendable () async throws -> Void) {
        state.addTask(name, every: interval, body)
    }
    func schedule(_ name: String, every interval: Duration, forEachGuild body: @escaping @Sendable (GuildScope) async throws -> Void) {
        let guilds = state.guilds
        state.addTask(name, every: interval) { for guild in guilds { try await body(guild) } }
    }
    func spawn(_ name: String, _ work: @escaping @Sendable () async throws -> Void) -> Bool {
        state.spawn(Task { try? await work() })
        return true
    }
    func command(_ command: BotCommand) { state.addCommand(command) }
    func action(_ name: String, access: Access, handler: @escaping @Sendable (GatewayCall) async throws -> JSONValue?) {
        state.addAction(name, access, handler)
    }
    func topic(_ prefix: String, rule: @escaping TopicRule) { state.addTopic(prefix, rule) }
    func publish(topic: String, _ frame: JSONValue) -> Int {
        state.record(.topic(topic, frame))
        return state.subscribers(of: topic)
    }
    func broadcast(toGuild guild: Int64, _ frame: JSONValue) -> Int {
        state.record(.broadcast(guild, frame))
        return 0
    }
    func config() throws -> Configuration { state.settings }
    func updateConfig(_ changes: JSONValue, by caller: Identity) async throws -> Configuration { try await state.update(changes) }
    func resetConfig(by caller: Identity) async throws -> Configuration {
        try await state.update(try JSONValue(encoding: state.initialSettings))
    }
    func now() -> Date { state.now }
    func config(for guild: GuildScope) throws -> Configuration { state.settings }
    func validateConfig(_ check: @escaping @Sendable (Configuration) throws -> Void) { state.addValidator(check) }
    func onConfigApplied(_ handler: @escaping @Sendable (Configuration) async -> Void) { state.addApplier(handler) }
    func chargeEvents(_ count: Int, in guild: GuildScope, by caller: Identity?) async throws { state.charge(count, guild: guild.id) }
    func figures(_ read: @escaping @Sendable () async throws -> [String: JSONValue]) { state.addFigures(read) }
    func guildData(
        exporting: @escaping @Sendable (GuildScope) async throws -> JSONValue,
        importing: @escaping @Sendable (GuildScope, JSONValue) async throws -> Void
    ) {
        state.register { $0.guildData = (exporting, importing) }
    }
}

/// Records the push notifications the cog sends.
struct HarnessNotifier<Configuration: CogConfiguration>: Notifier {
    let state: HarnessState<Configuration>
    func notify(_ audience: PushAudience, _ notification: PushNotification) { state.record(.notification(audience, notification)) }
}

/// Records what the cog publishes.
struct HarnessPublisher<Configuration: CogConfiguration>: EventPublisher {
    let state: HarnessState<Configuration>
    func publish(_ name: String, payload: some Encodable & Sendable, guild: Int64?, correlationID: String?) {
        let json = (try? JSONValue(encoding: payload)) ?? .null
        state.record(.event(Event(name: name, payload: json, source: state.manifest.id, correlationID: correlationID ?? "", guildID: guild)))
    }
}

/// Records what the cog posts, answering it with an id and a timestamp as the live log does.
struct HarnessLiveLog<Configuration: CogConfiguration>: LiveLogPublisher {
    let state: HarnessState<Configuration>
    func post(_ message: JSONValue) async throws -> JSONValue {
        state.record(.liveLog(message))
        guard case .object(var members) = message else { throw APIError.badRequest("invalid_message", "A message is an object.") }
        members["id"] = .int(Int64(state.recorded.count))
        members["timestamp"] = .string(Timestamp.string(from: Date()))
        return .object(members)
    }
}

/// The harness's people: those it was given, each acting in every harness guild.
struct HarnessPeople: PeopleDirectory {
    let people: [Identity]
    let guilds: [GuildScope]
    func person(_ userID: Int64, in guild: GuildScope) async throws -> Identity? {
        guilds.contains { $0.id == guild.id } ? people.first { $0.userID == userID } : nil
    }
    func guild(_ id: Int64) async throws -> GuildScope? { guilds.first { $0.id == id } }
    func person(named username: String) async throws -> Identity? { people.first { $0.username == username } }
}

/// Records the mail the cog sends; checks addresses as the host's mailer does.
struct HarnessMail<Configuration: CogConfiguration>: MailSender {
    let state: HarnessState<Configuration>
    var isConfigured: Bool { true }
    func send(_ mail: Mail) async throws {
        for address in mail.to where address.filter({ $0 == "@" }).count != 1 || address.contains(where: \.isWhitespace) {
            throw MailError.invalidAddress(address)
        }
        state.record(.mail(mail))
    }
}

/// The harnesses' client for calls out, one for the test process (a host owns and shuts down its own). It fails a
/// connection that cannot be made at once, as the host's does.
private let harnessHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.timeout.connect = .seconds(5)
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()
