import Foundation
import NIOCore

/// Strict decoding of what callers send — JSON bodies, path parameters and query strings — with the errors a
/// caller can act on. The host's own routes use it too.
package enum RequestDecoding {
    /// Where a text field came from, for the error.
    package enum Part: String { case path, query }

    /// The JSON body in `buffer` as `type`: 400 `invalid_json` or `invalid_field` naming the field. An empty body
    /// is an empty object, so a body whose members are all optional may be left out.
    package static func body<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        let value: JSONValue
        do {
            let bytes = Array(buffer.readableBytesView)
            value = bytes.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 } ? .object([:]) : try JSONValue.parse(bytes)
        } catch {
            throw APIError.badRequest("invalid_json", "The body is not valid JSON.")
        }
        do {
            return try JSONValueDecoder(strict: true).decode(T.self, from: value)
        } catch let error as DecodingError {
            let problem = ConfigValidationError(error)
            var expected = problem.expected
            if case .typeMismatch(_, let context) = error, context.debugDescription.hasPrefix("one of: ") { expected = context.debugDescription }
            throw APIError(
                .badRequest, "invalid_field",
                problem.path.isEmpty ? "The body must be \(expected)." : "Field '\(problem.path)': expected \(expected).",
                details: ["field": .string(problem.path)])
        }
    }

    /// The query string as `type`; an empty value counts as absent. 400 `invalid_field` naming the parameter.
    package static func query<T: Decodable>(_ type: T.Type, from query: QueryItems) throws -> T {
        if T.self == None.self { return None() as! T }
        var values: [String: [String]] = [:]
        for (name, value) in query where !value.isEmpty { values[name, default: []].append(value) }
        return try decode(T.self, values, part: .query)
    }

    /// Path parameters as `type`. A parameter of the wrong type is 400 `invalid_id` naming it.
    package static func fields<T: Decodable>(_ type: T.Type, from values: [String: String], part: Part) throws -> T {
        if T.self == None.self { return None() as! T }
        return try decode(T.self, values.mapValues { [$0] }, part: part)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ values: [String: [String]], part: Part) throws -> T {
        do {
            return try T(from: FieldsDecoder(values: values, codingPath: [], single: nil))
        } catch let error as DecodingError {
            let problem = ConfigValidationError(error)
            let field = problem.path.split(separator: ".").first.map(String.init) ?? problem.path
            var expected = problem.expected
            if case .typeMismatch(_, let context) = error { expected = context.debugDescription }
            switch part {
            case .path:
                throw APIError(
                    .badRequest, "invalid_id", "Path parameter '\(field)' must be \(expected).",
                    details: ["field": .string(field)])
            case .query:
                throw APIError(
                    .badRequest, "invalid_field", "Query parameter '\(field)': expected \(expected).",
                    details: ["field": .string(field), "in": "query"])
            }
        }
    }
}

/// Decodes a flat set of text fields (path parameters, a query string): a struct whose properties are strings,
/// integers, numbers, booleans (`true`/`false`), dates (ISO 8601 or `YYYY-MM-DD`), string enums, or arrays of
/// these (a repeated query parameter).
private struct FieldsDecoder: Decoder {
    let values: [String: [String]]
    let codingPath: [any CodingKey]
    /// The text being decoded when this decoder stands for one field.
    let single: [String]?
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard single == nil else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath, debugDescription: "a single value"))
        }
        return KeyedDecodingContainer(Keyed<Key>(values: values, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard let single else {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "a set of fields"))
        }
        return Unkeyed(items: single, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        guard let text = single?.first else {
            throw DecodingError.valueNotFound(String.self, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return Single(text: text, codingPath: codingPath)
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let values: [String: [String]]
        let codingPath: [any CodingKey]
        var allKeys: [Key] { values.keys.compactMap(Key.init(stringValue:)) }

        private func texts(_ key: Key) -> [String]? { values[key.stringValue] ?? values[SnakeCase.key(key.stringValue)] }
        func contains(_ key: Key) -> Bool { texts(key) != nil }
        func decodeNil(forKey key: Key) throws -> Bool { texts(key) == nil }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            guard let texts = texts(key) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
            }
            let path = codingPath + [key]
            if let value = try Single(text: texts[0], codingPath: path).primitive(T.self) { return value }
            return try EnumChoices.decoding(T.self, codingPath: path) {
                try T(from: FieldsDecoder(values: [:], codingPath: path, single: texts))
            }
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath + [key], debugDescription: "a text field"))
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            Unkeyed(items: texts(key) ?? [], codingPath: codingPath + [key])
        }
        func superDecoder() throws -> any Decoder { FieldsDecoder(values: values, codingPath: codingPath, single: nil) }
        func superDecoder(forKey key: Key) throws -> any Decoder {
            FieldsDecoder(values: [:], codingPath: codingPath + [key], single: texts(key))
        }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [String]
        let codingPath: [any CodingKey]
        var currentIndex = 0
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        mutating func decodeNil() throws -> Bool { false }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            guard !isAtEnd else { throw DecodingError.valueNotFound(T.self, .init(codingPath: codingPath, debugDescription: "end")) }
            defer { currentIndex += 1 }
            let single = Single(text: items[currentIndex], codingPath: codingPath)
            if let value = try single.primitive(T.self) { return value }
            return try T(from: FieldsDecoder(values: [:], codingPath: codingPath, single: [items[currentIndex]]))
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath, debugDescription: "a text field"))
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "a text field"))
        }
        mutating func superDecoder() throws -> any Decoder { FieldsDecoder(values: [:], codingPath: codingPath, single: items) }
    }

    struct Single: SingleValueDecodingContainer {
        let text: String
        let codingPath: [any CodingKey]

        /// `text` as one of the primitive types, nil for any other type.
        func primitive<T>(_ type: T.Type) throws -> T? {
            if T.self == String.self { return text as? T }
            if T.self == Bool.self {
                switch text {
                case "true": return true as? T
                case "false": return false as? T
                default: throw mismatch("true or false")
                }
            }
            if let integer = T.self as? any FixedWidthInteger.Type {
                guard let value = integer.init(text, radix: 10) else { throw mismatch("an integer") }
                return value as? T
            }
            if T.self == Double.self {
                guard let value = Double(text), value.isFinite else { throw mismatch("a number") }
                return value as? T
            }
            if T.self == Date.self {
                if let date = Timestamp.date(from: text) { return date as? T }
                if text.count == 10, let day = Timestamp.date(from: text + "T00:00:00.000Z") { return day as? T }
                throw mismatch("a date (2026-02-16 or 2026-02-16T23:02:12.178Z)")
            }
            return nil
        }

        private func mismatch(_ expected: String) -> DecodingError {
            .typeMismatch(String.self, .init(codingPath: codingPath, debugDescription: expected))
        }

        func decodeNil() -> Bool { false }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            if let value = try primitive(T.self) { return value }
            return try EnumChoices.decoding(T.self, codingPath: codingPath) {
                try T(from: FieldsDecoder(values: [:], codingPath: codingPath, single: [text]))
            }
        }
    }
}

/// A value of an enumeration that is not one of its cases is reported with the cases a caller may send.
package enum EnumChoices {
    package static func decoding<T>(_ type: T.Type, codingPath: [any CodingKey], _ decode: () throws -> T) throws -> T {
        do {
            return try decode()
        } catch let error as DecodingError {
            guard case .dataCorrupted = error, let cases = T.self as? any (CaseIterable & RawRepresentable).Type else { throw error }
            throw DecodingError.typeMismatch(T.self, .init(codingPath: codingPath, debugDescription: "one of: " + choices(cases)))
        }
    }

    private static func choices<E: CaseIterable & RawRepresentable>(_ type: E.Type) -> String {
        E.allCases.map { "\($0.rawValue)" }.joined(separator: ", ")
    }
}
