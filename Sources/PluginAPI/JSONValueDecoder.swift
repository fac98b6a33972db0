import Foundation

/// Decodes a ``JSONValue`` into any `Decodable`, looking each key up as written and then in snake_case.
///
/// Lenient by default, where storage formats differ: integers 0/1 decode as booleans, epoch seconds as dates, and
/// strings holding JSON as nested values. `strict` (what callers send) refuses all three.
package struct JSONValueDecoder: Sendable {
    let strict: Bool

    package init(strict: Bool = false) { self.strict = strict }

    /// `value` decoded as `type`; throws `DecodingError` with the path of a mismatch.
    package func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try ValueDecoder(value: value, codingPath: [], strict: strict).decodeValue(T.self)
    }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    let strict: Bool
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        if T.self == Bool.self { return try decodeBool() as! T }
        if T.self == String.self { return try decodeString() as! T }
        if let integer = T.self as? any FixedWidthInteger.Type { return try decodeInteger(integer) as! T }
        if let float = T.self as? any BinaryFloatingPoint.Type { return float.init(try decodeDouble()) as! T }
        if T.self == Date.self { return try decodeDate() as! T }
        if T.self == Data.self {
            guard case .string(let text) = value, let data = Data(base64Encoded: text) else { throw mismatch(T.self) }
            return data as! T
        }
        if T.self == URL.self {
            guard case .string(let text) = value, let url = URL(string: text) else { throw mismatch(T.self) }
            return url as! T
        }
        return try EnumChoices.decoding(T.self, codingPath: codingPath) { try T(from: self) }
    }

    private func decodeDate() throws -> Date {
        switch value {
        case .string(let text):
            guard let date = Timestamp.date(from: text) else { throw mismatch(Date.self) }
            return date
        case .int(let seconds) where !strict: return Date(timeIntervalSince1970: TimeInterval(seconds))
        case .double(let seconds) where !strict: return Date(timeIntervalSince1970: seconds)
        default: throw mismatch(Date.self)
        }
    }

    func mismatch(_ type: Any.Type) -> DecodingError {
        .typeMismatch(type, .init(codingPath: codingPath, debugDescription: value.kindDescription))
    }

    /// Objects and arrays may arrive as JSON text (a TEXT column); open them up transparently.
    private var structured: JSONValue {
        if !strict, case .string(let text) = value, let first = text.first, first == "{" || first == "[",
            let parsed = try? JSONValue.parse(Data(text.utf8))
        {
            return parsed
        }
        return value
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = structured else {
            throw DecodingError.typeMismatch(
                [String: Any].self, .init(codingPath: codingPath, debugDescription: value.kindDescription))
        }
        return KeyedDecodingContainer(KeyedDecoding<Key>(members: members, codingPath: codingPath, strict: strict))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = structured else {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: value.kindDescription))
        }
        return UnkeyedDecoding(items: items, codingPath: codingPath, strict: strict)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleDecoding(decoder: self) }

    func decodeBool() throws -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .int(let number) where !strict && (number == 0 || number == 1): return number == 1
        default: throw mismatch(Bool.self)
        }
    }

    func decodeInteger<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        switch value {
        case .int(let number):
            guard let result = I(exactly: number) else { throw mismatch(I.self) }
            return result
        case .double(let number):
            guard let result = I(exactly: number) else { throw mismatch(I.self) }
            return result
        default: throw mismatch(I.self)
        }
    }

    func decodeDouble() throws -> Double {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: throw mismatch(Double.self)
        }
    }

    func decodeString() throws -> String {
        guard case .string(let text) = value else { throw mismatch(String.self) }
        return text
    }
}

private struct KeyedDecoding<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [any CodingKey]
    let strict: Bool
    var allKeys: [Key] { members.keys.compactMap(Key.init(stringValue:)) }

    /// The member for `key`: as written, else in snake_case.
    private func member(_ key: Key) -> JSONValue? { members[key.stringValue] ?? members[SnakeCase.key(key.stringValue)] }

    func contains(_ key: Key) -> Bool { member(key) != nil }

    private func decoder(for key: Key) throws -> ValueDecoder {
        guard let value = member(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return ValueDecoder(value: value, codingPath: codingPath + [key], strict: strict)
    }

    func decodeNil(forKey key: Key) throws -> Bool { (member(key) ?? .null) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder(for: key).decodeBool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decoder(for: key).decodeString() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder(for: key).decodeDouble() }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decoder(for: key).decodeInteger(Int.self) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decoder(for: key).decodeInteger(Int64.self) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decoder(for: key).decodeValue(T.self) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try decoder(for: key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(for: key).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(members), codingPath: codingPath, strict: strict) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try decoder(for: key) }
}

private struct UnkeyedDecoding: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [any CodingKey]
    let strict: Bool
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [JSONValue], codingPath: [any CodingKey], strict: Bool) {
        self.items = items
        self.codingPath = codingPath
        self.strict = strict
    }

    private struct Index: CodingKey {
        var intValue: Int?
        var stringValue: String { "\(intValue ?? 0)" }
        init(_ index: Int) { intValue = index }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    private mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "end of array"))
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: items[currentIndex], codingPath: codingPath + [Index(currentIndex)], strict: strict)
    }

    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, items[currentIndex] == .null {
            currentIndex += 1
            return true
        }
        return false
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(T.self) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct SingleDecoding: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.decodeBool() }
    func decode(_ type: String.Type) throws -> String { try decoder.decodeString() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.decodeDouble() }
    func decode(_ type: Float.Type) throws -> Float { Float(try decoder.decodeDouble()) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.decodeInteger(Int.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.decodeInteger(Int64.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.decodeInteger(Int32.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.decodeInteger(UInt.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(T.self) }
}
