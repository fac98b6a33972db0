import Foundation

extension JSONValue {
    /// The JSON value of `value`, with its keys in snake_case (`maxOpenPerUser` becomes `max_open_per_user`; keys a
    /// `CodingKeys` enum spells out, and dictionary keys, stay as written). Dates become ISO 8601 strings with
    /// milliseconds; optional properties that are nil become `null`.
    public init(encoding value: some Encodable) throws {
        self = try JSONValueEncoder(keys: .snakeCase).encode(value)
    }

    /// The value decoded as `type`. A key is looked up as written, then in snake_case (`maxOpenPerUser` reads
    /// `max_open_per_user`). Throws `DecodingError` with the path of a mismatch.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONValueDecoder().decode(T.self, from: self)
    }
}

/// Encodes any `Encodable` into a ``JSONValue``. Unlike `JSONEncoder` it keeps optional keys whose value is nil
/// (as `.null`), so the encoding of a config's defaults lists every key the type declares. Dates become ISO 8601
/// strings with milliseconds.
package struct JSONValueEncoder: Sendable {
    /// How property names become keys.
    package enum Keys: Sendable {
        /// As the coding keys spell them.
        case asDeclared
        /// In snake_case (idempotent: keys already in snake_case stay as they are).
        case snakeCase
    }
    let keys: Keys

    package init(keys: Keys = .asDeclared) { self.keys = keys }

    /// The JSON value of `value`.
    package func encode(_ value: some Encodable) throws -> JSONValue {
        try ValueEncoder.encode(value, snakeCase: keys == .snakeCase)
    }
}

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

/// Property names to snake_case: `userID` → `user_id`, `apiBaseURL` → `api_base_url`; idempotent.
///
/// Every key of every encoded value passes here, so it works on ASCII bytes and answers the name itself, unchanged
/// and without copying, when it has no capital letter (every key already in snake_case).
package enum SnakeCase {
    package static func key(_ name: String) -> String {
        guard name.utf8.contains(where: isUpper) else { return name }
        let bytes = Array(name.utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + 4)
        for (index, byte) in bytes.enumerated() {
            if isUpper(byte), index > 0 {
                let previous = bytes[index - 1]
                let nextIsLower = index + 1 < bytes.count && isLower(bytes[index + 1])
                if previous != UInt8(ascii: "_") && (isLower(previous) || isDigit(previous) || (isUpper(previous) && nextIsLower)) {
                    result.append(UInt8(ascii: "_"))
                }
            }
            result.append(isUpper(byte) ? byte | 0x20 : byte)
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static func isUpper(_ byte: UInt8) -> Bool { byte >= 65 && byte <= 90 }
    private static func isLower(_ byte: UInt8) -> Bool { byte >= 97 && byte <= 122 }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
}

/// ISO 8601 with milliseconds in UTC (`2026-11-22T13:05:53.934Z`): the one date format of Guildhall's storage and
/// APIs. Formatting and parsing are exact to the millisecond, so a stored date reads back equal.
public enum Timestamp {
    /// Formats `date` (its milliseconds, rounded down).
    public static func string(from date: Date) -> String {
        // Clamped to years 0001...9999: a date from outside (an expiry a caller chose) must not trap the conversion.
        let raw = (date.timeIntervalSince1970 * 1000).rounded(.down)
        let milliseconds = raw.isNaN ? 0 : Int64(Swift.min(Swift.max(raw, -62_135_596_800_000), 253_402_300_799_999))
        let (days, dayMilliseconds) = floorDivide(milliseconds, 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        let seconds = dayMilliseconds / 1000
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):"
            + "\(pad(seconds % 60, 2)).\(pad(dayMilliseconds % 1000, 3))Z"
    }

    /// Parses the format above exactly; other ISO 8601 forms (offsets, no fraction) through Foundation.
    public static func date(from string: String) -> Date? {
        let bytes = Array(string.utf8)
        if bytes.count == 24, bytes[23] == UInt8(ascii: "Z"), bytes[19] == UInt8(ascii: ".") {
            func number(_ range: Range<Int>) -> Int64? {
                var value: Int64 = 0
                for byte in bytes[range] {
                    guard byte >= 48, byte <= 57 else { return nil }
                    value = value * 10 + Int64(byte - 48)
                }
                return value
            }
            if let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
                let minute = number(14..<16), let second = number(17..<19), let millisecond = number(20..<23),
                (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
            {
                let days = daysFromCivil(year: year, month: month, day: day)
                let milliseconds = ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millisecond
                return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            }
        }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(string) { return date }
        return try? Date.ISO8601FormatStyle().parse(string)
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor - (value % divisor < 0 ? 1 : 0)
        return (quotient, value - quotient * divisor)
    }

    // Howard Hinnant's days-from-civil algorithms (proleptic Gregorian calendar).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

// MARK: - Encoder

/// A node of the value being encoded; containers hold references so nested containers write through.
private final class Node {
    enum Kind {
        case value(JSONValue)
        case object([String: Node])
        case array([Node])
    }
    var kind: Kind = .value(.null)

    var resolved: JSONValue {
        switch kind {
        case .value(let value): value
        case .object(let members): .object(members.mapValues(\.resolved))
        case .array(let items): .array(items.map(\.resolved))
        }
    }

    func member(_ key: String) -> Node {
        let child = Node()
        if case .object(var members) = kind {
            members[key] = child
            kind = .object(members)
        }
        return child
    }

    func appended() -> Node {
        let child = Node()
        if case .array(var items) = kind {
            items.append(child)
            kind = .array(items)
        }
        return child
    }
}

private struct ValueEncoder: Encoder {
    let node: Node
    let codingPath: [any CodingKey]
    let snakeCase: Bool
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    static func encode(_ value: some Encodable, snakeCase: Bool) throws -> JSONValue {
        let node = Node()
        try ValueEncoder(node: node, codingPath: [], snakeCase: snakeCase).encodeValue(value)
        return node.resolved
    }

    func encodeValue(_ value: some Encodable) throws {
        switch value {
        case let value as JSONValue: node.kind = .value(value)
        case let members as [String: any Encodable] where snakeCase:
            // Dictionary keys are data, not property names: they keep their spelling.
            node.kind = .object([:])
            for (key, member) in members {
                try ValueEncoder(node: node.member(key), codingPath: codingPath, snakeCase: true).encodeValue(member)
            }
        case let value as Bool: node.kind = .value(.bool(value))
        case let value as String: node.kind = .value(.string(value))
        case let value as any BinaryInteger: node.kind = .value(.int(Int64(value)))
        case let value as any BinaryFloatingPoint: node.kind = .value(.double(Double(value)))
        case let value as Date: node.kind = .value(.string(Timestamp.string(from: value)))
        case let value as Data: node.kind = .value(.string(value.base64EncodedString()))
        case let value as URL: node.kind = .value(.string(value.absoluteString))
        default: try value.encode(to: self)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.kind {} else { node.kind = .object([:]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath, snakeCase: snakeCase))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.kind {} else { node.kind = .array([]) }
        return UnkeyedContainer(node: node, codingPath: codingPath, snakeCase: snakeCase)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(node: node, codingPath: codingPath, snakeCase: snakeCase)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    let codingPath: [any CodingKey]
    let snakeCase: Bool

    private func name(_ key: Key) -> String { snakeCase ? SnakeCase.key(key.stringValue) : key.stringValue }

    mutating func encodeNil(forKey key: Key) throws { node.member(name(key)).kind = .value(.null) }
    // Concrete overloads spare the common types the dynamic casts of the generic path.
    mutating func encode(_ value: String, forKey key: Key) throws { node.member(name(key)).kind = .value(.string(value)) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { node.member(name(key)).kind = .value(.bool(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { node.member(name(key)).kind = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { node.member(name(key)).kind = .value(.int(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { node.member(name(key)).kind = .value(.double(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try ValueEncoder(node: node.member(name(key)), codingPath: codingPath + [key], snakeCase: snakeCase).encodeValue(value)
    }
    // Optionals keep their key (as null), so that a type's encoding lists every key it declares.
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encodeIfPresent(value.map { $0 } as String??, key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encodeIfPresent(value.map { $0 } as Int??, key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try encodeIfPresent(value.map { $0 } as Int64??, key) }
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encodeIfPresent(value.map { $0 } as Bool??, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encodeIfPresent(value.map { $0 } as Double??, key) }

    private mutating func encodeIfPresent<T: Encodable>(_ value: T??, _ key: Key) throws {
        if let value = value ?? nil { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        ValueEncoder(node: node.member(name(key)), codingPath: codingPath + [key], snakeCase: snakeCase).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(node: node.member(name(key)), codingPath: codingPath + [key], snakeCase: snakeCase).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { ValueEncoder(node: node.member("super"), codingPath: codingPath, snakeCase: snakeCase) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(node: node.member(name(key)), codingPath: codingPath + [key], snakeCase: snakeCase)
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]
    let snakeCase: Bool
    var count: Int {
        if case .array(let items) = node.kind { return items.count }
        return 0
    }

    mutating func encodeNil() throws { node.appended().kind = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try ValueEncoder(node: node.appended(), codingPath: codingPath, snakeCase: snakeCase).encodeValue(value)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(node: node.appended(), codingPath: codingPath, snakeCase: snakeCase).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        ValueEncoder(node: node.appended(), codingPath: codingPath, snakeCase: snakeCase).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { ValueEncoder(node: node.appended(), codingPath: codingPath, snakeCase: snakeCase) }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]
    let snakeCase: Bool

    mutating func encodeNil() throws { node.kind = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.kind = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.kind = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { node.kind = .value(.double(value)) }
    mutating func encode(_ value: Float) throws { node.kind = .value(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { node.kind = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { node.kind = .value(.int(value)) }
    mutating func encode(_ value: Int32) throws { node.kind = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt) throws { node.kind = .value(.int(Int64(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { try ValueEncoder(node: node, codingPath: codingPath, snakeCase: snakeCase).encodeValue(value) }
}

// MARK: - Decoder

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
