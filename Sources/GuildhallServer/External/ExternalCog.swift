import Foundation
import PluginAPI

/// An external cog as the catalogue holds it: its manifest, and how to set up an instance — start its supervised
/// process, then register a proxy for each route, command, action, topic, subscription and task the manifest
/// declares, through the same context (and so the same access, guild and switch rules) as a built-in cog.
struct ExternalCog: CogBlueprint {
    let definition: ExternalManifest
    let runtime: ExternalRuntime

    var manifest: CogManifest { definition.cog }
    var migrations: [Migration] { [] }
    var configSection: ConfigSection? { definition.configSection }
    var kind: CogKind { .external }
    var permissions: [String] { definition.permissions.names }

    func instantiate() -> any CogInstance {
        // The cog's own logger: its output is tagged with its id and kept in its log ring.
        let logger = runtime.services.logs.logger(for: definition.cog.id, base: runtime.services.logger)
        return Instance(definition: definition, supervisor: CogSupervisor(manifest: definition, runtime: runtime, logger: logger))
    }

    /// What the host adds to every proxied route's answers.
    static let proxyErrors: [ResponseDescription] = [
        .error(.badGateway, "cog_unavailable", summary: "The cog's process could not be reached or broke the connection"),
        .error(.serviceUnavailable, "cog_failed", "cog_restarting", "cog_stopping", summary: "The cog's process is down"),
        .error(.gatewayTimeout, "cog_timeout", summary: "The cog did not answer in time"),
    ]

    struct Instance: CogInstance {
        let definition: ExternalManifest
        let supervisor: CogSupervisor

        func setup(_ parts: CogContextParts) async throws {
            try await self.supervisor.start()
            let context = parts.context(NoConfiguration.self)
            let definition = self.definition
            for route in definition.routes { context.add(proxy(route)) }
            if let path = definition.configPath, definition.cog.configSection != nil {
                let logger = parts.logger
                context.onConfigValueApplied { value in
                    do {
                        try await call(path, value, requestID: UUID().uuidString)
                    } catch {
                        logger.warning("the cog was not told of its new settings", metadata: ["error": "\(error)"])
                    }
                }
            }
            for pattern in definition.subscriptions {
                context.listen(EventPattern(pattern)) { event in
                    let body: JSONValue = [
                        "name": .string(event.name), "payload": event.payload, "source": .string(event.source),
                        "timestamp": .string(Timestamp.string(from: event.timestamp)),
                        "correlation_id": .string(event.correlationID), "guild_id": event.guildID.map(JSONValue.int) ?? .null,
                    ]
                    try await call(definition.eventsPath, body, requestID: event.correlationID, waiting: .seconds(5))
                }
            }
            for command in definition.commands {
                context.command(
                    BotCommand(
                        name: command.name, usage: command.usage, summary: command.summary,
                        cooldown: .milliseconds(Int64(command.cooldownSeconds * 1000)), access: command.access
                    ) { invocation in
                        let body: JSONValue = [
                            "arguments": .array(invocation.arguments.map(JSONValue.string)),
                            "raw_arguments": .string(invocation.rawArguments),
                        ]
                        let answer = try await call(
                            command.path, body, identity: invocation.caller, guild: invocation.guild,
                            requestID: invocation.correlationID)
                        if let message = answer?["error_message"]?.stringValue { throw CommandError(message) }
                        return answer?["reply"]?.stringValue ?? ""
                    })
            }
            for action in definition.actions {
                context.action(action.name, access: action.access) { call in
                    let answer = try await self.call(
                        action.path, call.body, identity: call.caller, guild: call.guild, requestID: UUID().uuidString)
                    return try await Self.applyTopicChanges(answer, for: call)
                }
            }
            for topic in definition.topics {
                context.topic(topic.prefix) { identity, guild, _ in
                    guard topic.access.refusal(for: identity) == nil else { return false }
                    if case .guild = topic.access { return guild != nil }
                    return true
                }
            }
            for task in definition.tasks {
                let interval = Duration.milliseconds(Int64(task.everySeconds * 1000))
                if task.forEachGuild {
                    context.schedule(task.name, every: interval) { guild in
                        try await call(task.path, ["guild_id": .int(guild.id)], guild: guild, requestID: UUID().uuidString)
                    }
                } else {
                    context.schedule(task.name, every: interval) {
                        try await call(task.path, [:], requestID: UUID().uuidString)
                    }
                }
            }
        }

        func teardown() async { await supervisor.stop() }

        var process: CogSupervisor.Snapshot? { supervisor.snapshot }

        /// A cog answers an action with `join_topics` and `leave_topics` to subscribe the caller's connection (each
        /// join passes the topic's rule); what remains of the answer, if anything, is sent back to the caller.
        static func applyTopicChanges(_ answer: JSONValue?, for call: GatewayCall) async throws -> JSONValue? {
            guard case .object(var members)? = answer else { return answer }
            for topic in members.removeValue(forKey: "join_topics")?.arrayValue ?? [] {
                if let name = topic.stringValue { try await call.join(name) }
            }
            for topic in members.removeValue(forKey: "leave_topics")?.arrayValue ?? [] {
                if let name = topic.stringValue { call.leave(name) }
            }
            return members.isEmpty ? nil : .object(members)
        }

        /// The route declaration that passes `route`'s requests to the process, after checking its typed parameters.
        private func proxy(_ route: ExternalManifest.Route) -> RouteDeclaration {
            let supervisor = self.supervisor, timeout = definition.timeout
            return .raw(
                route.method, route.path, access: route.access, summary: route.summary,
                parametersSchema: ExternalManifest.schema(of: route.parameters), querySchema: ExternalManifest.schema(of: route.query),
                bodySchema: route.body.map(ExternalManifest.schema(of:)), responses: ExternalCog.proxyErrors
            ) { request in
                for parameter in route.parameters where !parameter.type.admits(text: request.parameters[parameter.name] ?? "") {
                    throw APIError(
                        .badRequest, "invalid_id", "\(parameter.name) must be of type \(parameter.type.rawValue).",
                        details: ["field": .string(parameter.name)])
                }
                for field in route.query {
                    guard let value = request.query[field.name] else {
                        if field.required {
                            throw APIError(
                                .badRequest, "invalid_field", "The query parameter \(field.name) is required.", details: ["field": .string(field.name)])
                        }
                        continue
                    }
                    if !field.type.admits(text: value) {
                        throw APIError(
                            .badRequest, "invalid_field", "The query parameter \(field.name) must be of type \(field.type.rawValue).",
                            details: ["field": .string(field.name)])
                    }
                }
                let channel = try await supervisor.channel()
                return try await channel.proxy(request, timeout: timeout, maxBodySize: request.maxBodySize)
            }
        }

        /// Calls the process at `path` for an event, command, action or task; a 4xx answer `{"error", "message"}`
        /// becomes an ``APIError``, anything else outside 2xx a 502.
        @discardableResult
        private func call(
            _ path: String, _ body: JSONValue, identity: Identity? = nil, guild: GuildScope? = nil, requestID: String,
            waiting: Duration = .seconds(2)
        ) async throws -> JSONValue? {
            let channel = try await supervisor.channel(waitingUpTo: waiting)
            let (status, answer) = try await channel.call(
                path, body, identity: identity, guild: guild, requestID: requestID, timeout: definition.timeout)
            switch status {
            case 200..<300: return answer
            case 400..<500:
                throw APIError(
                    HTTPResponse.Status(code: status), answer?["error"]?.stringValue ?? "cog_refused",
                    answer?["message"]?.stringValue ?? "The cog refused the call.")
            default:
                throw APIError(.badGateway, "cog_error", "The cog answered \(status) to \(path).")
            }
        }
    }
}
