import Foundation
import Hummingbird
import PluginAPI

/// The admin API for cogs: list, load, unload, reload (one or several), and the audit log.
struct CogRoutes {
    let plugins: PluginManager
    let database: any PluginAPI.Database
    let external: ExternalRuntime
    let maxInstallBytes: Int

    /// `POST /api/cogs/install` with a JSON body: a `.tar.gz` or a folder on the server.
    struct InstallFromPath: Decodable {
        var path: String
        var sha256: String?
    }

    /// `{"cog_name": "tickets"}` or `{"cog_names": [...]}`, with `"cascade": true` for unload and reload.
    struct Command: Decodable {
        var cogName: String?
        var cogNames: [String]?
        var cascade: Bool?

        enum CodingKeys: String, CodingKey {
            case cogName = "cog_name"
            case cogNames = "cog_names"
            case cascade
        }
    }

    struct CogLogPage: Encodable, Sendable {
        var cog: String
        var logs: [CogLogs.Record]
    }

    struct CogList: ResponseEncodable {
        var cogs: [PluginManager.Entry]
    }

    struct BatchResult: Encodable, Sendable {
        var cogName: String
        var outcome: String
        var reason: String?
        var cog: PluginManager.Entry?

        enum CodingKeys: String, CodingKey {
            case outcome, reason, cog
            case cogName = "cog_name"
        }
    }

    struct BatchAnswer: ResponseEncodable {
        var results: [BatchResult]
    }

    struct AuditEntry: Codable, Sendable {
        var id: Int64
        var at: Date
        var actor: String
        var action: String
        var cogs: String
        var result: String
        var detail: String?
    }

    struct AuditPage: ResponseEncodable {
        var entries: [AuditEntry]
        var totalCount: Int
        var limit: Int
        var offset: Int

        enum CodingKeys: String, CodingKey {
            case entries, limit, offset
            case totalCount = "total_count"
        }
    }

    enum Operation: String {
        case load, unload, reload
    }

    func register(on routes: CoreRouter) {
        routes.add(.get, "/api/cogs", access: .admin, summary: "Every cog with its state") { _, _ in
            CogList(cogs: plugins.entries())
        }
        for operation in [Operation.load, .unload, .reload] {
            routes.add(
                .post, "/api/cogs/\(operation.rawValue)", access: .admin, summary: "\(operation.rawValue.capitalized) one or several cogs",
                body: Command.self
            ) {
                request, context, command in
                try await perform(operation, command, request, context)
            }
        }
        // The HazeBot admin app's form: the cog in the path, no body.
        for operation in [Operation.load, .unload, .reload] {
            routes.add(.post, "/api/cogs/:name/\(operation.rawValue)", access: .admin, summary: "\(operation.rawValue.capitalized) a cog (no body)") {
                _, context in
                let name = context.parameters.get("name") ?? ""
                let outcome = await run(operation, name, cascade: false, actor: try context.requireIdentity().username)
                guard outcome.succeeded, let entry = plugins.entry(name) else { throw Self.error(for: outcome, cog: name) }
                return JSONResponse(.ok, entry)
            }
        }
        routes.add(
            .post, "/api/cogs/install", access: .admin,
            summary: "Install an external cog: a .tar.gz body (application/gzip, ?sha256=) or {\"path\", \"sha256\"} on the server",
            responses: [.error(.unprocessableContent, "invalid_manifest", "checksum_mismatch"), .error(.badRequest, "invalid_archive", "invalid_path")]
        ) { request, context in
            let actor = try context.requireIdentity().username
            let entry = try await install(request, actor: actor)
            return JSONResponse(.created, entry)
        }
        routes.add(.delete, "/api/cogs/:name", access: .admin, summary: "Uninstall an unloaded external cog") { _, context in
            let name = context.parameters.get("name") ?? ""
            let installer = CogInstaller(pluginsDirectory: external.pluginsDirectory)
            let outcome = await plugins.uninstall(name, by: try context.requireIdentity().username) { try installer.remove(name) }
            guard outcome.succeeded else { throw Self.error(for: outcome, cog: name) }
            return JSONValue.object(["uninstalled": .string(name)])
        }
        routes.add(.get, "/api/cogs/:name/logs", access: .admin, summary: "A cog's recent log records (?limit=100)", query: PageQuery.self) {
            _, context, query in
            let name = context.parameters.get("name") ?? ""
            guard plugins.entry(name) != nil else { throw Self.error(for: .notFound, cog: name) }
            let limit = try Paging(query, defaultLimit: 100, max: 500).limit
            return JSONResponse(.ok, CogLogPage(cog: name, logs: plugins.logs(of: name, limit: limit)))
        }
        routes.add(
            .get, "/api/cogs/audit", access: .admin, summary: "Who loaded, unloaded and reloaded what, newest first", query: PageQuery.self
        ) { _, _, query in
            let paging = try Paging(query)
            let (entries, total) = try await database.read { connection in
                let total = try connection.scalar("SELECT COUNT(*) FROM cog_audit") ?? 0
                let entries = try connection.query(
                    AuditEntry.self, "SELECT * FROM cog_audit ORDER BY id DESC LIMIT ? OFFSET ?", [paging.limit, paging.offset])
                return (entries, Int(total))
            }
            return AuditPage(entries: entries, totalCount: total, limit: paging.limit, offset: paging.offset)
        }
    }

    /// Stages the upload or the named path, puts it in place and adds it to the catalogue (reloading a loaded
    /// older version); anything refused leaves the plugins folder as it was.
    private func install(_ request: Request, actor: String) async throws -> PluginManager.Entry {
        let installer = CogInstaller(pluginsDirectory: external.pluginsDirectory)
        let staged: CogInstaller.Staged
        do {
            if (request.headers[.contentType] ?? "").hasPrefix("application/json") {
                let body = try RequestDecoding.body(InstallFromPath.self, from: try await request.body.collect(upTo: 65_536))
                var isFolder: ObjCBool = false
                guard body.path.hasPrefix("/"), FileManager.default.fileExists(atPath: body.path, isDirectory: &isFolder) else {
                    throw APIError(.badRequest, "invalid_path", "path must be an absolute path to a .tar.gz or a folder on the server.")
                }
                if isFolder.boolValue {
                    guard body.sha256 == nil else { throw APIError(.badRequest, "invalid_field", "sha256 checks an archive, not a folder.") }
                    staged = try installer.stage(folder: URL(fileURLWithPath: body.path))
                } else {
                    staged = try installer.stage(archive: URL(fileURLWithPath: body.path), sha256: body.sha256)
                }
            } else {
                let upload = try await spool(request.body, in: external.pluginsDirectory)
                defer { try? FileManager.default.removeItem(at: upload) }
                staged = try installer.stage(archive: upload, sha256: request.uri.queryParameters["sha256"].map(String.init))
            }
        } catch let refusal as CogInstaller.Refusal {
            throw APIError(
                refusal.code == "invalid_manifest" || refusal.code == "checksum_mismatch" ? .unprocessableContent : .badRequest,
                refusal.code, refusal.description, details: refusal.problems.isEmpty ? [:] : ["problems": .array(refusal.problems.map(JSONValue.string))])
        }
        let placed = try installer.place(staged)
        let outcome = await plugins.install(ExternalCog(definition: placed.manifest, runtime: external), by: actor, restore: placed.undo)
        guard outcome.succeeded, let entry = plugins.entry(placed.manifest.cog.id) else {
            throw Self.error(for: outcome, cog: placed.manifest.cog.id)
        }
        placed.commit()
        return entry
    }

    /// Writes an uploaded archive to a file as it arrives, refusing it past `maxInstallBytes`.
    private func spool(_ body: Hummingbird.RequestBody, in folder: URL) async throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(".upload-\(UUID().uuidString).tar.gz")
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw APIError(.internalServerError, "storage_error", "The upload cannot be written to the plugins folder.")
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        var written = 0
        do {
            for try await buffer in body {
                written += buffer.readableBytes
                guard written <= maxInstallBytes else {
                    throw APIError(.contentTooLarge, "payload_too_large", "An archive is at most \(maxInstallBytes) bytes.")
                }
                try handle.write(contentsOf: buffer.readableBytesView)
            }
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw error
        }
        guard written > 0 else {
            try? FileManager.default.removeItem(at: file)
            throw APIError(.badRequest, "invalid_archive", "Send the .tar.gz as the body, or {\"path\": ...} as JSON.")
        }
        return file
    }

    private func run(_ operation: Operation, _ name: String, cascade: Bool, actor: String) async -> PluginManager.Outcome {
        switch operation {
        case .load: await plugins.load(name, by: actor)
        case .unload: await plugins.unload(name, cascade: cascade, by: actor)
        case .reload: await plugins.reload(name, cascade: cascade, by: actor)
        }
    }

    private func perform(
        _ operation: Operation, _ command: Command, _ request: Request, _ context: GuildhallRequestContext
    ) async throws -> Response {
        let actor = try context.requireIdentity().username
        let cascade = command.cascade ?? false
        func run(_ name: String) async -> PluginManager.Outcome {
            await self.run(operation, name, cascade: cascade, actor: actor)
        }
        if let names = command.cogNames {
            guard command.cogName == nil else {
                throw APIError.badRequest("invalid_field", "Send cog_name or cog_names, not both.")
            }
            guard !names.isEmpty, names.count <= 100 else {
                throw APIError.badRequest("invalid_field", "cog_names holds 1 to 100 names.")
            }
            var results: [BatchResult] = []
            for name in names {
                let outcome = await run(name)
                results.append(BatchResult(cogName: name, outcome: outcome.name, reason: Self.reason(outcome), cog: plugins.entry(name)))
            }
            return try BatchAnswer(results: results).response(from: request, context: context)
        }
        guard let name = command.cogName, !name.isEmpty else {
            throw APIError(.badRequest, "invalid_field", "Send cog_name (or cog_names).", details: ["field": "cog_name"])
        }
        let outcome = await run(name)
        if outcome.succeeded, let entry = plugins.entry(name) {
            return try JSONResponse(.ok, entry).response(from: request, context: context)
        }
        throw Self.error(for: outcome, cog: name)
    }

    static func reason(_ outcome: PluginManager.Outcome) -> String? {
        switch outcome {
        case .failed(let reason), .refused(_, let reason, _): reason
        default: nil
        }
    }

    static func error(for outcome: PluginManager.Outcome, cog: String) -> APIError {
        switch outcome {
        case .notFound:
            APIError(.notFound, "cog_not_found", "There is no cog '\(cog)'.", details: ["cog": .string(cog)])
        case .alreadyLoaded:
            APIError(.conflict, "already_loaded", "\(cog) is already loaded.", details: ["cog": .string(cog)])
        case .notLoaded:
            APIError(.conflict, "not_loaded", "\(cog) is not loaded.", details: ["cog": .string(cog)])
        case .refused(let code, let reason, let cogs):
            APIError(.conflict, code, reason, details: ["cog": .string(cog), "cogs": .array(cogs.map(JSONValue.string))])
        case .failed(let reason):
            APIError(
                .internalServerError, "cog_setup_failed", "\(cog) failed to set up: \(reason)",
                details: ["cog": .string(cog)])
        case .loaded, .unloaded, .reloaded, .installed, .uninstalled:
            APIError(.internalServerError, "internal_error", "The operation succeeded but the cog vanished.")
        }
    }
}
