import Foundation
import PluginAPI
import XCTest

/// The contract's JSON: snake_case keys without CodingKeys, strict decoding of what callers send, and schemas read
/// from types.
final class CodingTests: XCTestCase {
    struct Settings: Codable, Equatable {
        var maxOpenPerUser = 3
        var apiBaseURL = "http://localhost"
        var userID: Int64 = 7
        var rank1v1: String? = nil
        var labels: [String: Int] = ["keepThisKey": 1]
    }

    func testPropertyNamesBecomeSnakeCaseKeysAndDictionaryKeysStay() throws {
        let json = try JSONValue(encoding: Settings())
        XCTAssertEqual(json, [
            "max_open_per_user": 3, "api_base_url": "http://localhost", "user_id": 7, "rank1v1": nil,
            "labels": ["keepThisKey": 1],
        ])
        XCTAssertEqual(try json.decode(Settings.self), Settings())
        // Keys written as the Swift name still read.
        XCTAssertEqual(try (["maxOpenPerUser": 5] as JSONValue).decode(PartialSettings.self).maxOpenPerUser, 5)
    }

    struct PartialSettings: Decodable { var maxOpenPerUser: Int }

    func testSnakeCaseIsIdempotentAndSplitsAcronyms() {
        XCTAssertEqual(SnakeCase.key("maxOpenPerUser"), "max_open_per_user")
        XCTAssertEqual(SnakeCase.key("apiBaseURL"), "api_base_url")
        XCTAssertEqual(SnakeCase.key("rankCacheTTLSeconds"), "rank_cache_ttl_seconds")
        XCTAssertEqual(SnakeCase.key("URLValue"), "url_value")
        XCTAssertEqual(SnakeCase.key("max_open_per_user"), "max_open_per_user")
        XCTAssertEqual(SnakeCase.key("id"), "id")
    }

    struct Body: Decodable, Sendable {
        var enabled: Bool
        var count: Int
        var when: Date?
    }

    func testBodiesAreDecodedStrictly() throws {
        func decode(_ text: String) throws -> Body { try RequestDecoding.body(Body.self, from: ByteBuffer(string: text)) }
        XCTAssertEqual(try decode(#"{"enabled": true, "count": 2}"#).count, 2)
        for (text, field) in [
            (#"{"enabled": 1, "count": 2}"#, "enabled"), (#"{"enabled": true, "count": "2"}"#, "count"),
            (#"{"enabled": true, "count": 2.5}"#, "count"), (#"{"enabled": true}"#, "count"),
            (#"{"enabled": true, "count": 1, "when": 1700000000}"#, "when"),
        ] {
            XCTAssertThrowsError(try decode(text), text) { error in
                XCTAssertEqual((error as? APIError)?.code, "invalid_field", text)
                XCTAssertEqual((error as? APIError)?.details["field"], .string(field), text)
            }
        }
        XCTAssertThrowsError(try decode("{enabled")) { XCTAssertEqual(($0 as? APIError)?.code, "invalid_json") }
        // Stored rows stay lenient: 0/1 are booleans there.
        XCTAssertEqual(try (["enabled": 1, "count": 2] as JSONValue).decode(Body.self).enabled, true)
    }

    enum Kind: String, Codable, CaseIterable { case open, closed }

    struct Query: Decodable, Sendable {
        var limit: Int?
        var kind: Kind?
        var tags: [String]?
        var from: Date?
        var onlyMine: Bool?
    }

    func testQueryStringsAndPathParametersAreTyped() throws {
        let query = try RequestDecoding.query(
            Query.self, from: QueryItems([("limit", "5"), ("kind", "closed"), ("tags", "a"), ("tags", "b"), ("from", "2026-02-16"), ("only_mine", "true")]))
        XCTAssertEqual(query.limit, 5)
        XCTAssertEqual(query.kind, .closed)
        XCTAssertEqual(query.tags, ["a", "b"])
        XCTAssertEqual(query.from, Date(timeIntervalSince1970: 1_771_200_000))
        XCTAssertEqual(query.onlyMine, true)
        XCTAssertNil(try RequestDecoding.query(Query.self, from: QueryItems([("limit", "")])).limit, "empty counts as absent")
        XCTAssertThrowsError(try RequestDecoding.query(Query.self, from: QueryItems([("kind", "pending")]))) {
            XCTAssertEqual(($0 as? APIError)?.message, "Query parameter 'kind': expected one of: open, closed.")
        }
        for (name, value) in [("limit", "five"), ("kind", "pending"), ("only_mine", "1"), ("from", "yesterday")] {
            XCTAssertThrowsError(try RequestDecoding.query(Query.self, from: QueryItems([(name, value)])), name) { error in
                XCTAssertEqual((error as? APIError)?.code, "invalid_field")
                XCTAssertEqual((error as? APIError)?.details["field"], .string(name))
            }
        }
        struct Path: Decodable { var id: Int64 }
        XCTAssertEqual(try RequestDecoding.fields(Path.self, from: ["id": "12"], part: .path).id, 12)
        XCTAssertThrowsError(try RequestDecoding.fields(Path.self, from: ["id": "abc"], part: .path)) {
            XCTAssertEqual(($0 as? APIError)?.code, "invalid_id")
        }
    }

    struct Ticket: Codable {
        var id: Int64
        var subject: String
        var kind: Kind
        var closedAt: Date?
        var tags: [String]
        var owner: Owner
        struct Owner: Codable { var name: String }
    }

    func testSchemasAreReadFromTypes() {
        let schema = SchemaProbe.schema(of: Ticket.self)
        XCTAssertEqual(schema["type"], "object")
        XCTAssertEqual(schema["required"], ["id", "kind", "owner", "subject", "tags"])
        XCTAssertEqual(schema["properties"]?["id"], ["type": "integer", "format": "int64"])
        XCTAssertEqual(schema["properties"]?["kind"], ["type": "string", "enum": ["open", "closed"]])
        XCTAssertEqual(schema["properties"]?["closed_at"], ["type": "string", "format": "date-time"])
        XCTAssertEqual(schema["properties"]?["tags"], ["type": "array", "items": ["type": "string"]])
        XCTAssertEqual(schema["properties"]?["owner"]?["properties"]?["name"], ["type": "string"])
        XCTAssertEqual(SchemaProbe.schema(of: JSONValue.self), [:])
    }

    func testContractVersionsRunOnTheSameMajorAndNoNewerMinor() {
        XCTAssertTrue(ContractVersion("1.0").runs(on: ContractVersion(major: 1, minor: 3)))
        XCTAssertFalse(ContractVersion("1.4").runs(on: ContractVersion(major: 1, minor: 3)))
        XCTAssertFalse(ContractVersion("2.0").runs(on: ContractVersion(major: 1, minor: 3)))
        XCTAssertFalse(ContractVersion("bogus").runs(on: .current))
        XCTAssertFalse(ContractVersion("1.4").runs(on: .current), "2.0 removed CogContext.httpClient")
        XCTAssertEqual(ContractVersion.current.description, "2.0")
    }
}
