import Foundation
import GuildhallServer
import HTTPTypes
import NIOCore
import PluginAPI
import Synchronization

/// A cog set up for a unit test, with no server: a temporary SQLite database (the cog's migrations applied), an
/// in-memory cache, and a context that records what the cog does — events it publishes, live-log posts, gateway
/// frames — and lets the test drive it: call its routes, actions and commands as a chosen caller, deliver events to
/// its listeners, change its settings, and advance a clock that runs its scheduled tasks.
///
/// ```swift
/// let harness = try await CogHarness(GreeterCog.self)
/// defer { Task { await harness.tearDown() } }
/// let reply = await harness.request(.post, "/api/greetings", as: .person(.user), body: ["name": "Ann"])
/// XCTAssertEqual(reply.status, .created)
/// XCTAssertEqual(reply.json["text"], "Hello Ann")
/// ```
///
/// Access is checked as the host checks it (the same rule), the path's parameters, query and body are decoded as
/// the host decodes them, and a thrown ``APIError`` becomes the answer a caller would see.
public final class CogHarness<C: Cog>: Sendable {
    /// The instance under test, set up.
    public let cog: C
    /// The cog's database: a real SQLite file in a temporary folder, migrations applied.
    public let database: any Database
    /// The temporary folder (database and the cog's data directory); removed by ``tearDown()``.
    public let folder: URL
    let state: HarnessState<C.Configuration>

    /// Creates the folder and database, applies `type`'s migrations, lays `config` over the cog's defaults (as
    /// config.yaml would), and runs the cog's setup. `guilds` are the active guilds per-guild tasks run for;
    /// `people` the users `context.people` knows (each acting in every one of `guilds`). Throws
    /// ``RegistrationProblems`` when the cog registers what the host would refuse to load (a route outside its
    /// prefixes, a duplicate, a malformed topic).
    public init(
        _ type: C.Type = C.self, config: JSONValue = [:],
        guilds: [GuildScope] = [GuildScope(id: GuildScope.defaultGuildID, name: "Default")], people: [Identity] = []
    ) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("cog-harness-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let database = try SQLiteDatabase(path: folder.appendingPathComponent("cog.sqlite").path)
        self.database = database
        try await Migrator(database: database).apply(type.migrations, owner: type.manifest.id)
        state = HarnessState(
            manifest: type.manifest, guilds: guilds, people: people,
            settings: try ConfigSection.decodeChecked(C.Configuration.self, from: config))
        cog = type.init()
        try await cog.setup(HarnessContext<C.Configuration>(state: state, database: database, folder: folder))
        try state.seal()
    }

    // MARK: - Driving the cog

    /// Calls the cog's route matching `method` and `path` (with its query string) as `caller` acting in `guild`,
    /// with `body` as JSON (or `raw` bytes). Answers what a caller would get: 404 for a path the cog does not
    /// serve, 401/403 from the route's access, 400 for a part that does not decode, the cog's own answer or
    /// error, 500 `internal_error` for anything else it throws.
    public func request(
        _ method: HTTPRequest.Method, _ path: String, as caller: Identity? = nil, guild: GuildScope? = nil,
        headers: HTTPFields = [:], body: JSONValue? = nil, raw: ByteBuffer? = nil
    ) async -> TestResponse {
        let (pathOnly, query) = Self.split(path)
        guard let (route, parameters) = state.route(method, pathOnly) else {
            return TestResponse(APIError.notFound("not_found", "No route matches \(method) \(pathOnly)."))
        }
        if let refusal = route.access.refusal(for: caller) { return TestResponse(refusal) }
        var headers = headers
        var bytes = raw ?? ByteBuffer()
        if let body {
            bytes = ByteBuffer(data: body.jsonData())
            headers[.contentType] = "application/json"
        }
        let request = CogRequest(
            method: method, path: pathOnly, headers: headers, query: query, parameters: parameters,
            body: RequestBody(buffer: bytes), identity: caller, guild: guild ?? (caller == nil ? nil : state.guilds.first),
            requestID: UUID().uuidString)
        do {
            return await TestResponse(try await route.handle(request))
        } catch let error as APIError {
            return TestResponse(error)
        } catch let error as OutboundError {
            return TestResponse(error.apiError)
        } catch {
            return TestResponse(APIError(.internalServerError, "internal_error", "\(error)"))
        }
    }

    /// Runs the cog's gateway action `name` with `frame` (its `action` member is added) from `caller`; answers its
    /// reply. Throws the ``APIError`` a client would get as an `error` frame — access refused included.
    public func action(
        _ name: String, _ frame: JSONValue = [:], as caller: Identity, guild: GuildScope? = nil, connectionID: String = "test"
    ) async throws -> JSONValue? {
        guard let action = state.action(name) else { throw APIError.notFound("unknown_action", "The cog has no action \(name).") }
        if let refusal = action.access.refusal(for: caller) { throw refusal }
        var members: [String: JSONValue] = [:]
        if case .object(let given) = frame { members = given }
        members["action"] = .string(name)
        let state = self.state, guild = guild ?? state.guilds.first
        let call = GatewayCall(
            caller: caller, body: .object(members), connectionID: connectionID, guild: guild,
            join: { topic in try await state.join(topic, caller: caller, guild: guild, connection: connectionID) },
            leave: { topic in state.leave(topic, connection: connectionID) },
            send: { frame in state.record(.sentToCaller(connection: connectionID, frame: frame)) })
        return try await action.handler(call)
    }

    /// Runs a bot command written as in chat (`"!greet Ann"`, the prefix optional) from `caller`; answers the reply
    /// text (a ``CommandError``'s message too). Throws the refusal when the command's access does not admit the caller.
    public func command(_ text: String, as caller: Identity, guild: GuildScope? = nil) async throws -> String {
        let words = text.drop { $0 == "!" }
        let name = String(words.prefix { !$0.isWhitespace }).lowercased()
        let rest = words.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        guard let command = state.command(name) else { throw APIError.notFound("unknown_command", "The cog has no command \(name).") }
        if let refusal = command.access.refusal(for: caller) { throw refusal }
        let invocation = CommandInvocation(
            caller: caller, arguments: rest.split(separator: " ").map(String.init), rawArguments: rest,
            correlationID: UUID().uuidString, guild: guild ?? state.guilds.first)
        do {
            return try await command.handler(invocation)
        } catch let error as CommandError {
            return error.message
        } catch let error as OutboundError {
            return error.apiError.message
        }
    }

    /// Delivers an event to the cog's listeners whose pattern matches, highest priority first, and waits for them.
    /// Answers the errors listeners threw (the host logs and counts those).
    @discardableResult
    public func deliver(_ name: String, payload: JSONValue = [:], guild: Int64? = nil, source: String = "test") async -> [any Error] {
        let event = Event(name: name, payload: payload, source: source, correlationID: UUID().uuidString, guildID: guild)
        var failures: [any Error] = []
        for listener in state.listeners(for: name) {
            do { try await listener(event) } catch { failures.append(error) }
        }
        return failures
    }

    /// Moves the test clock on by `duration`, running every scheduled task whose time came, in time order (a task
    /// first runs one interval after setup). Answers the errors runs threw.
    @discardableResult
    public func advance(by duration: Duration) async -> [any Error] {
        var failures: [any Error] = []
        for run in state.advance(by: duration) {
            do { try await run() } catch { failures.append(error) }
        }
        return failures
    }

    /// Applies a runtime change of the cog's settings as `PUT /api/config/{section}` does: laid over the current
    /// value, validated by the type, offered to the cog's checks (a refusal is thrown), then put in force and told to
    /// the cog.
    public func updateConfig(_ changes: JSONValue) async throws {
        _ = try await state.update(changes)
    }

    /// Waits until the work the cog spawned has finished.
    public func waitForSpawnedWork() async {
        for work in state.takeSpawned() { await work.value }
    }

    /// Cancels work the cog spawned and still runs, runs the cog's teardown and removes the folder.
    public func tearDown() async {
        let spawned = state.takeSpawned()
        for work in spawned { work.cancel() }
        for work in spawned { await work.value }
        await cog.teardown()
        try? (database as? SQLiteDatabase)?.close()
        try? FileManager.default.removeItem(at: folder)
    }

    /// The figures the cog reports in `GET /api/admin/stats`, read now (all its `figures` registrations merged).
    public func figures() async throws -> [String: JSONValue] {
        var merged: [String: JSONValue] = [:]
        for read in state.figureReaders { merged.merge(try await read()) { $1 } }
        return merged
    }

    /// The cog's export of `guild`'s rows (nil when it registers no `guildData`).
    public func exportGuildData(_ guild: GuildScope) async throws -> JSONValue? {
        try await state.guildData?.export(guild)
    }

    /// Imports an export of the cog's into `guild`.
    public func importGuildData(_ data: JSONValue, into guild: GuildScope) async throws {
        try await state.guildData?.import(guild, data)
    }

    // MARK: - What the cog did

    /// Events the cog published, in order.
    public var publishedEvents: [Event] { state.recorded.compactMap { if case .event(let event) = $0 { event } else { nil } } }
    /// The mail the cog sent through `context.mail`, in order (the harness's mail server accepts everything).
    public var sentMail: [Mail] { state.recorded.compactMap { if case .mail(let mail) = $0 { mail } else { nil } } }
    /// The push notifications the cog sent through `context.notifications`, in order.
    public var sentNotifications: [(audience: PushAudience, notification: PushNotification)] {
        state.recorded.compactMap { if case .notification(let audience, let notification) = $0 { (audience, notification) } else { nil } }
    }
    /// Messages the cog posted to the live log, as it posted them.
    public var liveLogPosts: [JSONValue] { state.recorded.compactMap { if case .liveLog(let message) = $0 { message } else { nil } } }
    /// Frames the cog sent to its gateway topics.
    public var topicFrames: [(topic: String, frame: JSONValue)] {
        state.recorded.compactMap { if case .topic(let topic, let frame) = $0 { (topic, frame) } else { nil } }
    }
    /// Frames the cog broadcast to guilds' connections.
    public var guildBroadcasts: [(guild: Int64, frame: JSONValue)] {
        state.recorded.compactMap { if case .broadcast(let guild, let frame) = $0 { (guild, frame) } else { nil } }
    }
    /// Frames actions sent straight to their caller's connection (`call.send`).
    public var framesSentToCallers: [(connection: String, frame: JSONValue)] {
        state.recorded.compactMap { if case .sentToCaller(let connection, let frame) = $0 { (connection, frame) } else { nil } }
    }
    /// Events charged with `chargeEvents`, per guild.
    public var chargedEvents: [Int64: Int] { state.charged }

    private static func split(_ path: String) -> (String, QueryItems) {
        guard let mark = path.firstIndex(of: "?") else { return (path, QueryItems()) }
        let items = path[path.index(after: mark)...].split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ") }
            return (parts[0].removingPercentEncoding ?? parts[0], parts.count > 1 ? (parts[1].removingPercentEncoding ?? parts[1]) : "")
        }
        return (String(path[..<mark]), QueryItems(items))
    }
}

/// An answer to ``CogHarness/request(_:_:as:guild:headers:body:raw:)``.
public struct TestResponse: Sendable {
    /// The status.
    public let status: HTTPResponse.Status
    /// The header fields.
    public let headers: HTTPFields
    /// The whole body (a streamed one collected).
    public let body: ByteBuffer

    /// The body as JSON, `null` if it is not JSON.
    public var json: JSONValue { (try? JSONValue(parsing: Data(buffer: body))) ?? .null }
    /// The body as text.
    public var text: String { String(buffer: body) }
    /// The `error` code of a JSON error answer.
    public var error: String? { json["error"]?.stringValue }

    init(_ response: CogResponse) async {
        status = response.status
        headers = response.headers
        switch response.body {
        case .bytes(let buffer):
            body = buffer
        case .stream(let produce):
            let collected = Mutex(ByteBuffer())
            var writer = ResponseStreamWriter { buffer in
                var buffer = buffer
                _ = collected.withLock { $0.writeBuffer(&buffer) }
            }
            do {
                try await produce(&writer)
            } catch {
                _ = collected.withLock { $0.writeString("\n[stream failed: \(error)]") }
            }
            body = collected.withLock { $0 }
        }
    }

    init(_ error: APIError) {
        let response = error.response()
        status = response.status
        headers = response.headers
        if case .bytes(let buffer) = response.body { body = buffer } else { body = ByteBuffer() }
    }
}
