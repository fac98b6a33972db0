import PluginAPI

/// An OpenAPI 3.1 description of cog routes, built from their declarations: each route's path and query parameters
/// with their types, its JSON or streamed body, and its answers — those the cog declared and those the host adds
/// itself (400 for parts that do not decode, 401/403 from its access, 404 while the cog is not loaded).
enum APIDescription {
    /// One declared route and the cog it belongs to.
    struct Entry: Sendable {
        let cog: String
        let declaration: RouteDeclaration
    }

    static func document(of entries: [Entry], title: String, version: String) -> JSONValue {
        var paths: [String: [String: JSONValue]] = [:]
        for entry in entries.sorted(by: { ($0.declaration.path, $0.declaration.method.rawValue) < ($1.declaration.path, $1.declaration.method.rawValue) }) {
            paths[entry.declaration.path, default: [:]][entry.declaration.method.rawValue.lowercased()] = operation(entry)
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": .string(title), "version": .string(version)],
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

    private static func operation(_ entry: Entry) -> JSONValue {
        let route = entry.declaration
        var operation: [String: JSONValue] = [
            "operationId": .string(operationID(entry)), "summary": .string(route.summary), "tags": [.string(entry.cog)],
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

    private static func operationID(_ entry: Entry) -> String {
        let words = entry.declaration.path.split(separator: "/").map { segment in
            segment.hasPrefix("{") ? "by_" + segment.dropFirst().dropLast() : segment
        }
        return ([entry.cog, entry.declaration.method.rawValue.lowercased()] + words.map(String.init))
            .joined(separator: "_").replacingOccurrences(of: "-", with: "_")
    }

    private static func pathParameters(_ route: RouteDeclaration) -> [JSONValue] {
        route.parameterNames.map { name in
            [
                "name": .string(name), "in": "path", "required": true,
                "schema": route.parametersSchema["properties"]?[name] ?? ["type": "string"],
            ]
        }
    }

    private static func queryParameters(_ route: RouteDeclaration) -> [JSONValue] {
        guard case .object(let properties)? = route.querySchema["properties"] else { return [] }
        var required: Set<String> = []
        if case .array(let names)? = route.querySchema["required"] { required = Set(names.compactMap(\.stringValue)) }
        return properties.keys.sorted().map { name in
            ["name": .string(name), "in": "query", "required": .bool(required.contains(name)), "schema": properties[name]!]
        }
    }

    private static func responses(_ route: RouteDeclaration) -> [String: JSONValue] {
        var answers: [String: [ResponseDescription]] = [:]
        for answer in route.responses { answers[String(answer.status.code), default: []].append(answer) }
        var responses = answers.mapValues { group -> JSONValue in
            var content: [String: JSONValue] = [:]
            for answer in group {
                guard let type = answer.contentType else { continue }
                content[type] = answer.schema.map { ["schema": $0] } ?? [:]
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
}
