import Foundation
import Hummingbird
import PluginAPI
import Synchronization

/// `GET /openapi.json` (the OpenAPI 3.1 description of the routes served now: the host's and every loaded cog's,
/// so it changes as cogs load and unload) and `GET /docs`, the same as a readable page rendered on the server (no
/// script, nothing from a CDN).
struct APIDocsRoutes {
    let plugins: PluginManager

    /// The host's routes, known once every one is registered.
    private final class HostRoutes: Sendable {
        let operations = Mutex<[APIDescription.Operation]>([])
    }

    /// Register last: the description lists the host routes registered before (and these two).
    func register(on routes: CoreRouter) {
        let host = HostRoutes()
        let plugins = self.plugins
        routes.add(.get, "/openapi.json", access: .public, summary: "The OpenAPI 3.1 description of every route served now") { _, _ in
            plugins.apiDescription(hostRoutes: host.operations.withLock { $0 })
        }
        routes.add(.get, "/docs", access: .public, summary: "The API description as a page") { _, _ in
            let page = APIDocsPage.html(plugins.apiDescription(hostRoutes: host.operations.withLock { $0 }))
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8",
                    .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
                ],
                body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        host.operations.withLock { $0 = routes.operations }
    }
}

/// Renders an OpenAPI document as one HTML page: operations grouped by tag, each with its access, parameters,
/// body schema and answers.
enum APIDocsPage {
    static func html(_ document: JSONValue) -> String {
        var byTag: [String: [(path: String, method: String, operation: JSONValue)]] = [:]
        if case .object(let paths)? = document["paths"] {
            for (path, item) in paths {
                guard case .object(let methods) = item else { continue }
                for (method, operation) in methods {
                    let tag = operation["tags"]?.arrayValue?.first?.stringValue ?? "other"
                    byTag[tag, default: []].append((path, method, operation))
                }
            }
        }
        let tags = byTag.keys.sorted { ($0 == "host" ? 0 : 1, $0) < ($1 == "host" ? 0 : 1, $1) }
        var html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(escape(document["info"]?["title"]?.stringValue ?? "API"))</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>
            body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1d1d1f}
            h1{margin-bottom:.2rem} h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
            nav a{margin-right:.8rem} details{border:1px solid #e2e2e2;border-radius:6px;margin:.4rem 0;padding:.3rem .7rem}
            summary{cursor:pointer} code,pre{font:13px ui-monospace,monospace} pre{background:#f6f6f6;padding:.5rem;overflow:auto}
            .m{display:inline-block;min-width:4.2rem;font-weight:600;text-transform:uppercase}
            .get{color:#0a7c2f}.post{color:#8a5a00}.put,.patch{color:#1f5fbf}.delete{color:#b3261e}
            .access{color:#666;font-size:13px;margin-left:.5rem} table{border-collapse:collapse} td,th{padding:.15rem .6rem;text-align:left;vertical-align:top}
            </style></head><body>
            <h1>\(escape(document["info"]?["title"]?.stringValue ?? "API")) \(escape(document["info"]?["version"]?.stringValue ?? ""))</h1>
            <p>\(escape(document["info"]?["description"]?.stringValue ?? "")) The machine-readable form is <a href="/openapi.json">/openapi.json</a>.</p>
            <nav>\(tags.map { "<a href=\"#\(escape($0))\">\(escape($0))</a>" }.joined())</nav>
            """
        for tag in tags {
            html += "<h2 id=\"\(escape(tag))\">\(escape(tag))</h2>"
            for entry in byTag[tag]!.sorted(by: { ($0.path, $0.method) < ($1.path, $1.method) }) {
                html += operation(entry.path, entry.method, entry.operation)
            }
        }
        return html + "</body></html>"
    }

    private static func operation(_ path: String, _ method: String, _ operation: JSONValue) -> String {
        var html = "<details><summary><span class=\"m \(escape(method))\">\(escape(method))</span><code>\(escape(path))</code> "
        html += "\(escape(operation["summary"]?.stringValue ?? ""))<span class=\"access\">\(escape(operation["x-access"]?.stringValue ?? ""))</span></summary>"
        if let parameters = operation["parameters"]?.arrayValue, !parameters.isEmpty {
            html += "<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th></tr>"
            for parameter in parameters {
                html += "<tr><td><code>\(escape(parameter["name"]?.stringValue ?? ""))</code></td><td>\(escape(parameter["in"]?.stringValue ?? ""))</td>"
                html += "<td>\(escape(typeName(parameter["schema"])))</td><td>\(parameter["required"] == true ? "yes" : "")</td></tr>"
            }
            html += "</table>"
        }
        if case .object(let content)? = operation["requestBody"]?["content"] {
            for (type, media) in content.sorted(by: { $0.key < $1.key }) {
                html += "<p>Body <code>\(escape(type))</code></p><pre>\(escape(pretty(media["schema"] ?? .null)))</pre>"
            }
        }
        if case .object(let responses)? = operation["responses"] {
            html += "<table><tr><th>status</th><th>answer</th></tr>"
            for (status, response) in responses.sorted(by: { $0.key < $1.key }) {
                html += "<tr><td>\(escape(status))</td><td>\(escape(response["description"]?.stringValue ?? ""))</td></tr>"
            }
            html += "</table>"
        }
        return html + "</details>"
    }

    private static func typeName(_ schema: JSONValue?) -> String {
        guard let schema else { return "" }
        if let values = schema["enum"]?.arrayValue { return values.compactMap(\.stringValue).joined(separator: " | ") }
        let type = schema["type"]?.stringValue ?? ""
        return schema["format"]?.stringValue.map { "\(type) (\($0))" } ?? type
    }

    private static func pretty(_ value: JSONValue) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: value.jsonData(), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed])
        else { return String(decoding: value.jsonData(), as: UTF8.self) }
        return String(decoding: data, as: UTF8.self)
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
