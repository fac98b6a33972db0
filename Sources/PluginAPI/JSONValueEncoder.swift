import Foundation

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
