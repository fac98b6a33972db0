import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// The OpenAPI description built from the built-in cogs' route declarations.
final class APIDescriptionTests: XCTestCase {
    func testEveryBuiltInRouteIsDescribedWithItsParametersBodyAndAnswers() async throws {
        let host = TestHost(enabled: ["tickets", "memes", "rocket_league", "combatlog"])
        defer { host.removeFolder() }
        try await host.run(catalogue: BuiltInCogsTests.catalogue) { server in
            let document = server.host.plugins.apiDescription()
            XCTAssertEqual(document["openapi"], "3.1.0")
            let declared = server.host.plugins.mounts.all.flatMap { instance in instance.declarations.map { (instance.manifest.id, $0) } }
            XCTAssertGreaterThan(declared.count, 20)
            for (cog, route) in declared {
                let name = "\(cog) \(route.method) \(route.path)"
                guard let operation = document["paths"]?[route.path]?[route.method.rawValue.lowercased()] else {
                    XCTFail("\(name) is not described")
                    continue
                }
                XCTAssertEqual(operation["summary"], .string(route.summary), name)
                XCTAssertEqual(operation["tags"], [.string(cog)], name)
                let parameters = operation["parameters"]?.arrayValue ?? []
                for parameter in route.parameterNames {
                    let described = parameters.first { (candidate: JSONValue) in candidate["name"] == .string(parameter) && candidate["in"] == "path" }
                    XCTAssertEqual(described?["required"], .bool(true), "\(name): path parameter \(parameter)")
                    XCTAssertNotNil(described?["schema"]?["type"], "\(name): \(parameter) has a type")
                }
                if case .object(let query)? = route.querySchema["properties"] {
                    for parameter in query.keys {
                        XCTAssertTrue(parameters.contains { $0["name"] == .string(parameter) && $0["in"] == "query" }, "\(name): ?\(parameter)")
                    }
                }
                if route.bodySchema != nil || !route.streamedBodyTypes.isEmpty {
                    XCTAssertNotNil(operation["requestBody"]?["content"], "\(name) describes its body")
                } else {
                    XCTAssertNil(operation["requestBody"], "\(name) reads no body")
                }
                XCTAssertFalse(route.responses.isEmpty, "\(name) declares its answers")
                for answer in route.responses {
                    XCTAssertNotNil(operation["responses"]?[String(answer.status.code)], "\(name) answers \(answer.status.code)")
                }
            }
            let send = document["paths"]?["/api/tickets/{id}/send"]?["post"]
            XCTAssertEqual(send?["requestBody"]?["content"]?["application/json"]?["schema"]?["properties"]?["message"], ["type": "string"])
            XCTAssertEqual(send?["parameters"]?.arrayValue?.first?["schema"], ["type": "integer", "format": "int64"])
            let encounters = document["paths"]?["/api/v1/encounters"]?["get"]?["parameters"]?.arrayValue ?? []
            XCTAssertEqual(
                Set(encounters.compactMap { $0["name"]?.stringValue }),
                ["limit", "offset", "boss_name", "difficulty", "success", "date_from", "date_to"])
            XCTAssertEqual(encounters.first { $0["name"] == "success" }?["schema"], ["type": "boolean"])
            try Self.validate(document)
        }
    }

    /// Runs openapi-spec-validator (from PyPI, installed by scripts/test.sh) on the document.
    static func validate(_ document: JSONValue) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
        let python = root.appendingPathComponent(".test-venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            return XCTFail("\(python.path) is missing: scripts/test.sh installs openapi-spec-validator there")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try document.jsonData().write(to: file)
        let process = Process()
        process.executableURL = python
        process.arguments = ["-m", "openapi_spec_validator", file.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
    }
}
