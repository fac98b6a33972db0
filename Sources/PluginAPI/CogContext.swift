import Foundation
import Logging

/// Everything the host offers a cog during ``Cog/setup(_:)``; `Configuration` is the cog's own settings type, so
/// a cog reads its own section and no other.
///
/// Registrations (routes, actions, listeners, tasks, commands) made here are recorded against the cog and
/// activated together once setup returns; unload drains and removes them together. Register during setup only: a
/// registration made after setup has returned is refused with a logged warning. Every entry into the cog —
/// a request, an action, a command, an event, a task run, work started with ``spawn(_:_:)`` — passes the host's
/// entry: the access declared, the guild's switch for the cog, and the count of work in flight that unload waits for.
public protocol CogContext<Configuration>: Sendable {
    /// The cog's settings type.
    associatedtype Configuration: CogConfiguration

    /// The id of the cog being set up.
    var cogID: String { get }
    /// A logger labelled with the cog's id.
    var logger: Logger { get }
    /// The host's database; the cog's migrations have been applied before setup runs.
    var database: any Database { get }
    /// The cog's namespace of the host's cache.
    var cache: any Cache { get }
    /// Calls to upstream services with timeouts, retries, a circuit breaker per upstream, metrics and a cache that
    /// also stands in while an upstream is down (contract 1.1).
    var outbound: any OutboundClient { get }
    /// The host's event bus.
    var events: any EventPublisher { get }
    /// A folder of the cog's own (beside the database, created on first use) for files too large for rows:
    /// uploads being processed, exports.
    var dataDirectory: URL { get }
    /// The live log: messages posted here are stored, searchable and delivered over the gateway.
    var liveLog: any LiveLogPublisher { get }
    /// Who a user id is, and whether they act in a guild (contract 1.1).
    var people: any PeopleDirectory { get }
    /// The deployment's mail server (contract 1.1).
    var mail: any MailSender { get }
    /// Push notifications to people's devices, honouring their switches (contract 1.2).
    var notifications: any Notifier { get }

    /// Registers a route declaration (`route(...)` builds one from a method, path, access, summary, the types of
    /// its parts and a handler). Its path must lie under one of the manifest's `routePrefixes`.
    func add(_ route: RouteDeclaration)

    /// Registers a listener for events matching `pattern`. Listeners with a higher `priority` run first; a
    /// listener that throws is logged and counted and does not stop the others.
    func listen(
        _ pattern: EventPattern, priority: Int, handler: @escaping @Sendable (Event) async throws -> Void)

    /// Runs `body` every `interval`, first after one interval, until the cog is unloaded. A run that throws is
    /// logged and counted; the schedule goes on.
    func schedule(_ name: String, every interval: Duration, body: @escaping @Sendable () async throws -> Void)

    /// Runs `body` every `interval` once for each active guild the cog is enabled for, with that guild's scope
    /// (a guild that switched the cog off is skipped). A guild whose run throws is logged and counted; the others
    /// still run.
    func schedule(
        _ name: String, every interval: Duration, forEachGuild body: @escaping @Sendable (GuildScope) async throws -> Void)

    /// Starts background work that outlives the request that asked for it (an upload's processing). It runs
    /// inside the cog: unload waits for it (up to the host's drain bound, then cancels it), and a failure is logged
    /// and counted. Answers false, and runs nothing, once the cog is being unloaded.
    @discardableResult
    func spawn(_ name: String, _ work: @escaping @Sendable () async throws -> Void) -> Bool

    /// Registers a bot command.
    func command(_ command: BotCommand)

    /// Registers a gateway action: a client's frame `{"action": name, ...}` from a caller `access` admits runs
    /// `handler`; a non-nil result is sent back to the caller. Throw ``APIError`` to answer the caller with an
    /// `error` frame.
    func action(_ name: String, access: Access, handler: @escaping @Sendable (GatewayCall) async throws -> JSONValue?)

    /// Claims the gateway topics named `prefix` or starting `prefix:` (`ticket` owns `ticket:12`); `rule` decides
    /// who may join one. When the cog unloads, subscribers are told `{"action": "topic_closed", "topic": ...}`.
    func topic(_ prefix: String, rule: @escaping TopicRule)

    /// Sends `frame` (an object with an `action` member) to every connection subscribed to `topic`, which must be
    /// one of the cog's topics; answers how many connections it was sent to.
    @discardableResult
    func publish(topic: String, _ frame: JSONValue) -> Int

    /// Sends `frame` to every gateway connection acting in guild `guild` (its API keys' connections and its members
    /// who connected for it), unless the guild switched the cog off; answers how many it was sent to.
    @discardableResult
    func broadcast(toGuild guild: Int64, _ frame: JSONValue) -> Int

    /// The cog's settings: config.yaml's values and runtime changes laid over the type's defaults. Always current.
    func config() throws -> Configuration

    /// The cog's settings as they apply to `guild`: the deployment's value with the guild's overlay
    /// (`PUT /api/v1/guilds/{id}/config/{section}`) laid over it. Always current.
    func config(for guild: GuildScope) throws -> Configuration

    /// Changes keys of the cog's own section on behalf of `caller`, as `PUT /api/config/{section}` would (for a
    /// settings screen the cog serves itself): validated, checked by ``validateConfig(_:)``, stored as a new
    /// version and put in force. Answers the new settings (contract 1.1).
    func updateConfig(_ changes: JSONValue, by caller: Identity) async throws -> Configuration

    /// Puts the cog's section back to config.yaml's value, as `POST /api/config/{section}/reset` would (contract 1.1).
    func resetConfig(by caller: Identity) async throws -> Configuration

    /// The time now. Read it instead of `Date()` in scheduled work, so a test's harness clock moves it (contract 1.1).
    func now() -> Date

    /// Registers a check of proposed settings, run before a runtime change is stored: throw to refuse it (the
    /// caller of the config API gets 422 with the error's text, and the previous value stays in force).
    func validateConfig(_ check: @escaping @Sendable (Configuration) throws -> Void)

    /// Registers a handler told of each runtime change after it is stored and in force (rebuild a client, reset a
    /// schedule). It cannot refuse the change: refuse in ``validateConfig(_:)``.
    func onConfigApplied(_ handler: @escaping @Sendable (Configuration) async -> Void)

    /// Registers figures the cog reports to admins in `GET /api/admin/stats` (`total_tickets`, ...), read when an
    /// admin asks. Name them after the cog's own nouns: they appear at the top level of the answer (where the host's
    /// own names win) and under `cogs.<id>` (contract 1.2).
    func figures(_ read: @escaping @Sendable () async throws -> [String: JSONValue])

    /// Registers how the cog's rows of one guild leave this deployment and enter another (`guildhall guild export`,
    /// `GET /api/v1/admin/guilds/{id}/export`, `guildhall guild import`; contract 1.2): `exporting` answers them as
    /// JSON of the cog's own shape; `importing` stores such JSON for a guild of the importing deployment, giving the
    /// rows ids of their own there. A cog that registers nothing is left out of exports.
    func guildData(
        exporting: @escaping @Sendable (GuildScope) async throws -> JSONValue,
        importing: @escaping @Sendable (GuildScope, JSONValue) async throws -> Void)

    /// Charges `count` events (parsed log lines, ingested messages) to `guild`'s budget and, when `caller` is a
    /// guild API key, to the key's `events_per_minute`. Throws ``APIError`` 429 `rate_limited` with a
    /// `Retry-After` header once either budget is spent; nothing is charged then.
    func chargeEvents(_ count: Int, in guild: GuildScope, by caller: Identity?) async throws
}

extension CogContext {
    /// Registers a listener with priority 0.
    public func listen(_ pattern: EventPattern, handler: @escaping @Sendable (Event) async throws -> Void) {
        listen(pattern, priority: 0, handler: handler)
    }

    /// Registers a route at `path` (parameters in braces: `/api/tickets/{id}`), which must lie under one of the
    /// manifest's `routePrefixes`. Name the types of the parts the route reads — `parameters:` (the path's),
    /// `query:`, `body:` (JSON) — and leave out the rest.
    ///
    /// The host checks `access` before anything else, then decodes the path's parameters, the query string and the
    /// JSON body strictly, answering 400 `invalid_id` or `invalid_field` naming the field, and only then runs
    /// `handler`. `responses` lists the answers for the API description; errors the host adds itself (401, 403,
    /// 404 `cog_not_loaded`, 429) need not be listed.
    public func route<Parameters: Decodable & Sendable, Query: Decodable & Sendable, Body: Decodable & Sendable, Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        parameters: Parameters.Type, query: Query.Type, body: Body.Type, responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (RouteCall<Parameters, Query, Body>) async throws -> Output
    ) {
        add(RouteDeclaration(method, path, access: access, summary: summary, parameters: parameters, query: query, body: body, responses: responses, handler: handler))
    }

    /// Registers a route; see the variant that names `parameters:`, `query:` and `body:`.
    public func route<Parameters: Decodable & Sendable, Query: Decodable & Sendable, Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        parameters: Parameters.Type, query: Query.Type, responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (RouteCall<Parameters, Query, None>) async throws -> Output
    ) {
        add(RouteDeclaration(method, path, access: access, summary: summary, parameters: parameters, query: query, body: None.self, responses: responses, handler: handler))
    }

    /// Registers a route; see the variant that names `parameters:`, `query:` and `body:`.
    public func route<Parameters: Decodable & Sendable, Body: Decodable & Sendable, Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        parameters: Parameters.Type, body: Body.Type, responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (RouteCall<Parameters, None, Body>) async throws -> Output
    ) {
        add(RouteDeclaration(method, path, access: access, summary: summary, parameters: parameters, query: None.self, body: body, responses: responses, handler: handler))
    }

    /// Registers a route; see the variant that names `parameters:`, `query:` and `body:`.
    public func route<Parameters: Decodable & Sendable, Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        parameters: Parameters.Type, responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (RouteCall<Parameters, None, None>) async throws -> Output
    ) {
        add(RouteDeclaration(method, path, access: access, summary: summary, parameters: parameters, query: None.self, body: None.self, responses: responses, handler: handler))
    }

    /// Registers a route; see the variant that names `parameters:`, `query:` and `body:`.
    public func route<Query: Decodable & Sendable, Body: Decodable & Sendable, Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        query: Query.Type, body: Body.Type, responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (RouteCall<None, Query, Body>) async throws -> Output
    ) {
        add(RouteDeclaration(method, path, access: access, summary: summary, parameters: None.self, query: query, body: body, responses: responses, handler: handler))
    }

    /// Registers a route; see the variant that names `parameters:`, `query:` and `body:`.
    public func route<Query: Decodable & Sendable, Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        query: Query.Type, responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (RouteCall<None, Query, None>) async throws -> Output
    ) {
        add(RouteDeclaration(method, path, access: access, summary: summary, parameters: None.self, query: query, body: None.self, responses: responses, handler: handler))
    }

    /// Registers a route; see the variant that names `parameters:`, `query:` and `body:`.
    public func route<Body: Decodable & Sendable, Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        body: Body.Type, responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (RouteCall<None, None, Body>) async throws -> Output
    ) {
        add(RouteDeclaration(method, path, access: access, summary: summary, parameters: None.self, query: None.self, body: body, responses: responses, handler: handler))
    }

    /// Registers a route; see the variant that names `parameters:`, `query:` and `body:`.
    public func route<Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (RouteCall<None, None, None>) async throws -> Output
    ) {
        add(RouteDeclaration(method, path, access: access, summary: summary, parameters: None.self, query: None.self, body: None.self, responses: responses, handler: handler))
    }

    /// Registers a route that reads its body as a stream (`call.request.body`), for uploads too large to hold.
    public func route<Parameters: Decodable & Sendable, Query: Decodable & Sendable, Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        parameters: Parameters.Type, query: Query.Type, streamedBody: StreamedBody, responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (RouteCall<Parameters, Query, None>) async throws -> Output
    ) {
        add(RouteDeclaration(method, path, access: access, summary: summary, parameters: parameters, query: query, streamedBody: streamedBody, responses: responses, handler: handler))
    }

    /// Registers a streamed-body route; see the variant that names `parameters:` and `query:`.
    public func route<Parameters: Decodable & Sendable, Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        parameters: Parameters.Type, streamedBody: StreamedBody, responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (RouteCall<Parameters, None, None>) async throws -> Output
    ) {
        add(RouteDeclaration(method, path, access: access, summary: summary, parameters: parameters, query: None.self, streamedBody: streamedBody, responses: responses, handler: handler))
    }

    /// Registers a streamed-body route; see the variant that names `parameters:` and `query:`.
    public func route<Query: Decodable & Sendable, Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        query: Query.Type, streamedBody: StreamedBody, responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (RouteCall<None, Query, None>) async throws -> Output
    ) {
        add(RouteDeclaration(method, path, access: access, summary: summary, parameters: None.self, query: query, streamedBody: streamedBody, responses: responses, handler: handler))
    }

    /// Registers a streamed-body route; see the variant that names `parameters:` and `query:`.
    public func route<Output: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        streamedBody: StreamedBody, responses: [ResponseDescription] = [],
        handler: @escaping @Sendable (RouteCall<None, None, None>) async throws -> Output
    ) {
        add(RouteDeclaration(method, path, access: access, summary: summary, parameters: None.self, query: None.self, streamedBody: streamedBody, responses: responses, handler: handler))
    }
}
