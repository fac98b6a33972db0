import Foundation
import NIOFoundationCompat
import PluginAPI
import XCTest

final class JSONValueCodingTests: XCTestCase {
    struct Sample: Codable, Equatable {
        var name: String
        var optional: Int?
        var nested: [String: [Int]]
        var flag: Bool
        var ratio: Double
        var when: Date
    }

    func testRoundTripKeepsOptionalKeys() throws {
        let sample = Sample(name: "n", optional: nil, nested: ["a": [1, 2]], flag: true, ratio: 0.5, when: Date(timeIntervalSince1970: 1_700_000_000.25))
        let value = try JSONValueEncoder().encode(sample)
        XCTAssertEqual(value["optional"], .null, "nil keeps its key")
        XCTAssertEqual(value["when"], "2023-11-14T22:13:20.250Z")
        XCTAssertEqual(try JSONValueDecoder().decode(Sample.self, from: value), sample)
    }

    func testDecodingIsLenientWhereStorageDiffers() throws {
        let row: JSONValue = ["name": "n", "nested": "{\"a\":[3]}", "flag": 1, "ratio": 2, "when": 1_700_000_000]
        let decoded = try JSONValueDecoder().decode(Sample.self, from: row)
        XCTAssertEqual(decoded.nested, ["a": [3]])
        XCTAssertTrue(decoded.flag)
        XCTAssertEqual(decoded.ratio, 2)
        XCTAssertNil(decoded.optional)
    }
}

final class TimestampTests: XCTestCase {
    func testFormatsAndParsesExactlyToTheMillisecond() {
        for seconds in [0.0, 1_700_000_000.25, 951_782_400.999, -86_400.5, 4_102_444_800.001] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = Timestamp.string(from: date)
            let parsed = Timestamp.date(from: text)
            XCTAssertEqual(parsed.map { Timestamp.string(from: $0) }, text)
            XCTAssertEqual(parsed!.timeIntervalSince1970, (seconds * 1000).rounded(.down) / 1000, accuracy: 0.0000001)
        }
        XCTAssertEqual(Timestamp.string(from: Date(timeIntervalSince1970: 951_782_400.999)), "2000-02-29T00:00:00.999Z")
        XCTAssertEqual(Timestamp.date(from: "2026-11-22T13:05:53+01:00")?.timeIntervalSince1970, 1_795_349_153)
        XCTAssertNil(Timestamp.date(from: "2026-13-22T13:05:53.000Z"))
        XCTAssertNil(Timestamp.date(from: "yesterday"))
    }
}

final class JSONWritingTests: XCTestCase {
    func testWritesValidEscapedJSON() throws {
        let value: JSONValue = [
            "text": "quote \" backslash \\ newline \n tab \t bell \u{07} é 🐉", "int": -42, "double": 0.25, "whole": 3.0,
            "nan": .double(.nan), "list": [true, false, nil], "nested": ["empty": [:]],
        ]
        let text = value.jsonBuffer
        let reparsed = try JSONSerialization.jsonObject(with: Data(buffer: text)) as? [String: Any]
        XCTAssertEqual(reparsed?["text"] as? String, "quote \" backslash \\ newline \n tab \t bell \u{07} é 🐉")
        XCTAssertEqual(try JSONValue.parse(Data(buffer: text))["int"], -42)
        XCTAssertEqual(try JSONValue.parse(Data(buffer: text))["nan"], .null)
        XCTAssertEqual(String(decoding: (["b": 1, "a": 2] as JSONValue).jsonData(), as: UTF8.self), #"{"a":2,"b":1}"#)
    }
}

final class JSONParsingTests: XCTestCase {
    func testParsesWhatJSONAllows() throws {
        let text = #" { "a" : [1, -2, 3.5, 1e3, -0.25E-2, 9223372036854775807, 92233720368547758070], "s": "q\"\\\/\b\f\n\r\t\u00e9\ud83d\udc09", "t": true, "f": false, "n": null, "o": {}, "e": [] } "#
        let value = try JSONValue.parse(Data(text.utf8))
        XCTAssertEqual(value["a"], [1, -2, 3.5, 1000.0, -0.0025, .int(Int64.max), .double(9.2233720368547758e19)])
        XCTAssertEqual(value["s"], "q\"\\/\u{08}\u{0C}\n\r\té🐉")
        XCTAssertEqual(value["t"], true)
        XCTAssertEqual(value["n"], .null)
        XCTAssertEqual(value["o"], .object([:]))
        XCTAssertEqual(value["e"], .array([]))
        XCTAssertEqual(try JSONValue.parse(Data("\"plain\"".utf8)), "plain")
        XCTAssertEqual(try JSONValue.parse(Data(" 42 ".utf8)), 42)
    }

    func testRefusesWhatJSONDoesNot() {
        let bad = [
            "", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "[01]", "[1.]", "[.5]", "[1e]", "tru", "nul", "\"unterminated",
            "\"tab\there\"", "\"\\x\"", "\"\\ud83d\"", "\"\\udc09\"", "[1] 2", "{\"a\" 1}", "[-]", "NaN", "[1,2",
        ]
        for text in bad {
            XCTAssertThrowsError(try JSONValue.parse(Data(text.utf8)), text)
        }
        XCTAssertThrowsError(try JSONValue.parse(Data([0x22, 0xFF, 0xFE, 0x22])), "invalid UTF-8")
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try JSONValue.parse(Data(deep.utf8))) { error in
            XCTAssertTrue("\(error)".contains("nested too deeply"))
        }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        XCTAssertNoThrow(try JSONValue.parse(Data(fine.utf8)))
    }

    func testRoundTripsThroughTheWriter() throws {
        let value: JSONValue = ["k": ["nested": [1, 2.5, "x", nil, false]], "unicode": "ünï 🐉 \u{01}"]
        XCTAssertEqual(try JSONValue.parse(value.jsonData()), value)
    }
}
