import Foundation
import AsyncHTTPClient
import Hummingbird
import Logging

/// Handles one HTTP request of a cog route; returns anything Hummingbird can turn into a response
/// (an `Encodable` struct conforming to `ResponseEncodable`, a `Response`, a `String`, ...).
public typealias RouteHandler<Output: ResponseGenerator> =
    @Sendable (Request, GuildhallRequestContext) async throws -> Output

/// Everything the host offers a cog during ``Cog/setup(_:)``.
///
/// Registrations (routes, listeners, tasks, commands) made here are recorded against the cog and activated
/// together once setup returns; unload removes them together. Register during setup only: a registration made
/// after setup has returned is refused with a logged warning.
public protocol CogContext: Sendable {
    /// The id of the cog being set up.
    var cogID: String { get }
    /// A logger labelled with the cog's id.
    var logger: Logger { get }
    /// The host's database; the cog's migrations have been applied before setup runs.
    var database: any Database { get }
    /// The cog's namespace of the host's cache.
    var cache: any Cache { get }
    /// A shared client for outbound HTTP calls. Do not shut it down.
    var httpClient: HTTPClient { get }
    /// The host's event bus.
    var events: any EventPublisher { get }
    /// A folder of the cog's own (beside the database, created on first use) for files too large for rows:
    /// uploads being processed, exports.
    var dataDirectory: URL { get }
    /// The live log: messages posted here are stored, searchable and delivered over the gateway.
    var liveLog: any LiveLogPublisher { get }

    /// Registers a route at `path` (Hummingbird syntax: `/api/tickets/:id`), which must lie under one of the
    /// manifest's `routePrefixes`. The host checks `access` before `handler` runs and sets
    /// ``GuildhallRequestContext/identity``.
    func route<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String, access: Access, summary: String,
        handler: @escaping RouteHandler<Output>)

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

    /// The cog's configuration section decoded as `type`: config.yaml's values and runtime changes laid over
    /// the type's defaults.
    func config<C: CogConfiguration>(_ type: C.Type) throws -> C

    /// The cog's configuration section as it applies to `guild`: the deployment's value with the guild's overlay
    /// (`PUT /api/v1/guilds/{id}/config/{section}`) laid over it. Read it where you need it; it is always current.
    func config<C: CogConfiguration>(_ type: C.Type, for guild: GuildScope) throws -> C

    /// Charges `count` events (parsed log lines, ingested messages) to `guild`'s budget and, when `caller` is a
    /// guild API key, to the key's `events_per_minute`. Throws ``APIError`` 429 `rate_limited` with a
    /// `Retry-After` header once either budget is spent; nothing is charged then.
    func chargeEvents(_ count: Int, in guild: GuildScope, by caller: Identity?) async throws

    /// Calls `handler` with the new value each time the cog's section changes at runtime. If the handler throws,
    /// the change is refused, the previous value stays in force and the caller of the config API is told why.
    func onConfigChange<C: CogConfiguration>(_ type: C.Type, handler: @escaping @Sendable (C) async throws -> Void)
}

extension CogContext {
    /// Registers a listener with priority 0.
    public func listen(_ pattern: EventPattern, handler: @escaping @Sendable (Event) async throws -> Void) {
        listen(pattern, priority: 0, handler: handler)
    }
}
