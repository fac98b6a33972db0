import PluginAPI

/// An OpenAPI 3.1 description of the routes served now — the host's own and every loaded cog's — built from their
/// typed declarations: each route's path and query parameters with their types, its JSON or streamed body, and its
/// answers — those declared and those the host adds itself (400 for parts that do not decode, 401/403 from its
/// access, 404 while a cog is not loaded).
enum APIDescription {
    /// One described route: a cog's declaration, or a host route's.
    struct Operation: Sendable {
        /// The cog that serves it, or `host`.
        let tag: String
        let method: String
        /// The path with parameters in braces (`/api/tickets/{id}`).
        let path: String
        let access: Access
        let summary: String
        let parametersSchema: JSONValue
        let querySchema: JSONValue
        let bodySchema: JSONValue?
        let streamedBodyTypes: [String]
        let responses: [ResponseDescription]

        var parameterNames: [String] {
            path.split(separator: "/").compactMap { segment in
                segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
            }
        }

        /// A cog's route.
        init(cog: String, declaration route: RouteDeclaration) {
            self.init(
                tag: cog, method: route.method.rawValue, path: route.path, access: route.access, summary: route.summary,
                parametersSchema: route.parametersSchema, querySchema: route.querySchema, bodySchema: route.bodySchema,
                streamedBodyTypes: route.streamedBodyTypes, responses: route.responses)
        }

        init(
            tag: String, method: String, path: String, access: Access, summary: String, parametersSchema: JSONValue,
            querySchema: JSONValue, bodySchema: JSONValue?, streamedBodyTypes: [String], responses: [ResponseDescription]
        ) {
            self.tag = tag
            self.method = method
            self.path = path
            self.access = access
            self.summary = summary
            self.parametersSchema = parametersSchema
            self.querySchema = querySchema
            self.bodySchema = bodySchema
            self.streamedBodyTypes = streamedBodyTypes
            self.responses = responses
        }
    }

    static func document(of operations: [Operation], title: String, version: String) -> JSONValue {
        var paths: [String: [String: JSONValue]] = [:]
        for operation in operations.sorted(by: { ($0.path, $0.method) < ($1.path, $1.method) }) {
            paths[operation.path, default: [:]][operation.method.lowercased()] = describe(operation)
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": .string(title), "version": .string(version),
                "description": "The routes this deployment serves now: the host's and each loaded cog's (tagged with its id).",
            ],
            "paths": .object(paths.mapValues(JSONValue.object)),
            "components": [
                "securitySchemes": [
                    "bearer": ["type": "http", "scheme": "bearer", "description": "A user's token (JWT) or a guild API key"],
                    "apiKey": ["type": "apiKey", "in": "header", "name": "X-API-Key"],
                ],
                "schemas": ["Error": SchemaProbe.errorSchema(codes: [])],
            ],
        ]
    }

    private static func describe(_ route: Operation) -> JSONValue {
        var operation: [String: JSONValue] = [
            "operationId": .string(operationID(route)), "summary": .string(route.summary), "tags": [.string(route.tag)],
            "x-access": .string(route.access.label),
            "security": route.access == .public ? [] : [["bearer": []], ["apiKey": []]],
        ]
        let parameters = pathParameters(route) + queryParameters(route)
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if let schema = route.bodySchema {
            operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": schema]]]
        } else if !route.streamedBodyTypes.isEmpty {
            let content = route.streamedBodyTypes.map { ($0, ["schema": ["type": "string", "format": "binary"]] as JSONValue) }
            operation["requestBody"] = ["required": true, "content": .object(Dictionary(content) { first, _ in first })]
        }
        operation["responses"] = .object(responses(route))
        return .object(operation)
    }

    private static func operationID(_ route: Operation) -> String {
        let words = route.path.split(separator: "/").map { segment in
            segment.hasPrefix("{") ? "by_" + segment.dropFirst().dropLast() : segment
        }
        return ([route.tag, route.method.lowercased()] + words.map(String.init))
            .joined(separator: "_").replacingOccurrences(of: "-", with: "_")
    }

    private static func pathParameters(_ route: Operation) -> [JSONValue] {
        route.parameterNames.map { name in
            [
                "name": .string(name), "in": "path", "required": true,
                "schema": route.parametersSchema["properties"]?[name] ?? ["type": "string"],
            ]
        }
    }

    private static func queryParameters(_ route: Operation) -> [JSONValue] {
        guard case .object(let properties)? = route.querySchema["properties"] else { return [] }
        var required: Set<String> = []
        if case .array(let names)? = route.querySchema["required"] { required = Set(names.compactMap(\.stringValue)) }
        return properties.keys.sorted().map { name in
            ["name": .string(name), "in": "query", "required": .bool(required.contains(name)), "schema": properties[name]!]
        }
    }

    private static func responses(_ route: Operation) -> [String: JSONValue] {
        var answers: [String: [ResponseDescription]] = [:]
        for answer in route.responses { answers[String(answer.status.code), default: []].append(answer) }
        var responses = answers.mapValues { group -> JSONValue in
            var content: [String: JSONValue] = [:]
            for answer in group {
                guard let type = answer.contentType else { continue }
                content[type] = answer.schema.map { ["schema": Self.widened($0, status: answer.status.code)] } ?? [:]
            }
            var response: [String: JSONValue] = ["description": .string(group.map(\.summary).joined(separator: "; "))]
            if !content.isEmpty { response["content"] = .object(content) }
            return .object(response)
        }
        func hostAnswer(_ status: Int, _ description: String) {
            guard responses[String(status)] == nil else { return }
            responses[String(status)] = [
                "description": .string(description),
                "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]],
            ]
        }
        if !route.parameterNames.isEmpty || route.querySchema["properties"] != [:] || route.bodySchema != nil {
            hostAnswer(400, "A parameter, query value or body member of the wrong type (invalid_id, invalid_field, invalid_json)")
        }
        if route.access != .public {
            hostAnswer(401, "No valid credentials")
            hostAnswer(403, "The caller's role or key does not admit this route")
        }
        hostAnswer(404, "Not found, or the cog is not loaded (cog_not_loaded)")
        if responses.keys.allSatisfy({ !$0.hasPrefix("2") }) { responses["200"] = ["description": "OK"] }
        return responses
    }

    /// Error codes the host itself answers with, whatever the route: a cog that lists the codes of one status
    /// lists only its own, so the description adds these to them.
    static let hostCodes: [Int: [String]] = [
        400: ["invalid_json", "invalid_field", "invalid_id", "guild_required"],
        401: ["missing_token", "invalid_token", "token_expired", "token_revoked", "user_not_found", "invalid_api_key", "api_key_revoked"],
        403: ["forbidden", "missing_permission", "api_key_not_allowed", "guild_inactive"],
        404: ["not_found", "cog_not_loaded", "cog_disabled_for_guild"],
        413: ["payload_too_large"],
        429: ["rate_limited"],
    ]

    /// `schema` with the host's codes for `status` added to an error schema's list of codes.
    private static func widened(_ schema: JSONValue, status: Int) -> JSONValue {
        guard let extra = hostCodes[status], case .object(var root) = schema, case .object(var properties)? = root["properties"],
            case .object(var error)? = properties["error"], case .array(let codes)? = error["enum"]
        else { return schema }
        error["enum"] = .array(codes + extra.map(JSONValue.string).filter { !codes.contains($0) })
        properties["error"] = .object(error)
        root["properties"] = .object(properties)
        return .object(root)
    }
}
