import Foundation

/// Reads the JSON Schema of a `Decodable` type by decoding it from a decoder that records what is asked for:
/// each key with its type, whether it is optional (`decodeIfPresent`), nested types, arrays, string enums (through
/// `CaseIterable`) and dates. Keys are reported in snake_case, as the contract's coders write them.
package enum SchemaProbe {
    /// The schema of `type`; `{}` (anything) for ``JSONValue`` or a type the probe cannot read.
    package static func schema<T: Decodable>(of type: T.Type) -> JSONValue {
        if T.self == None.self { return ["type": "object", "properties": [:]] }
        let recorder = Recorder()
        _ = try? recorder.value(T.self, at: [])
        return recorder.schema
    }

    /// The schema of a response type: read from its `Decodable` side when it has one, else any JSON value.
    package static func schema<T: Encodable>(ofEncodable type: T.Type) -> JSONValue {
        guard let decodable = T.self as? any Decodable.Type else { return [:] }
        return schema(of: decodable)
    }

    /// The shape of every error answer.
    package static func errorSchema(codes: [String]) -> JSONValue {
        var code: [String: JSONValue] = ["type": "string"]
        if !codes.isEmpty { code["enum"] = .array(codes.map(JSONValue.string)) }
        return [
            "type": "object", "required": ["error", "message"],
            "properties": ["error": .object(code), "message": ["type": "string"]],
        ]
    }
}

/// Builds one schema node while a type decodes itself from it.
private final class Recorder: @unchecked Sendable {
    // Used by one probe on one thread, start to end.
    var schema: JSONValue = [:]
    private var properties: [String: JSONValue] = [:]
    private var required: [String] = []
    private var isObject = false
    /// Types being probed on the way down, so a recursive type ends instead of looping.
    private var stack: Set<ObjectIdentifier>

    init(stack: Set<ObjectIdentifier> = []) { self.stack = stack }

    /// Probes `type` into this recorder and answers a stand-in value of it.
    func value<T: Decodable>(_ type: T.Type, at path: [any CodingKey]) throws -> T {
        if let (schema, value) = Self.primitive(T.self) {
            self.schema = schema
            return value
        }
        if let cases = T.self as? any (CaseIterable & RawRepresentable).Type, let (schema, value) = Self.enumeration(cases) {
            self.schema = schema
            return value as! T
        }
        guard !stack.contains(ObjectIdentifier(T.self)) else {
            schema = ["type": "object"]
            throw Stop()
        }
        stack.insert(ObjectIdentifier(T.self))
        defer { stack.remove(ObjectIdentifier(T.self)) }
        defer { finish() }
        return try T(from: ProbeDecoder(recorder: self, codingPath: path))
    }

    func child() -> Recorder { Recorder(stack: stack) }

    func property(_ name: String, _ schema: JSONValue, optional: Bool) {
        isObject = true
        properties[SnakeCase.key(name)] = schema
        if !optional { required.append(SnakeCase.key(name)) }
    }

    func markObject() { isObject = true }

    private func finish() {
        guard isObject else { return }
        var object: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { object["required"] = .array(required.sorted().map(JSONValue.string)) }
        schema = .object(object)
    }

    struct Stop: Error {}

    static func primitive<T>(_ type: T.Type) -> (JSONValue, T)? {
        switch T.self {
        case is String.Type: return (["type": "string"], "" as! T)
        case is Bool.Type: return (["type": "boolean"], false as! T)
        case is Double.Type: return (["type": "number"], 0.0 as! T)
        case is Float.Type: return (["type": "number"], Float(0) as! T)
        case is Date.Type: return (["type": "string", "format": "date-time"], Date(timeIntervalSince1970: 0) as! T)
        case is URL.Type: return (["type": "string", "format": "uri"], URL(string: "http://localhost")! as! T)
        case is JSONValue.Type: return ([:], JSONValue.null as! T)
        default: break
        }
        if let integer = T.self as? any FixedWidthInteger.Type {
            return (["type": "integer", "format": integer.bitWidth <= 32 ? "int32" : "int64"], integer.init(0) as! T)
        }
        return nil
    }

    static func enumeration<E: CaseIterable & RawRepresentable>(_ type: E.Type) -> (JSONValue, E)? {
        guard let first = E.allCases.first else { return nil }
        let raws = E.allCases.map { "\($0.rawValue)" }
        let isString = first.rawValue is String
        return (["type": isString ? "string" : "integer", "enum": .array(raws.map(JSONValue.string))], first)
    }
}

private struct ProbeDecoder: Decoder {
    let recorder: Recorder
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        recorder.markObject()
        return KeyedDecodingContainer(ProbeKeyed<Key>(recorder: recorder, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        ProbeUnkeyed(recorder: recorder, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        ProbeSingle(recorder: recorder, codingPath: codingPath)
    }
}

private struct ProbeKeyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let recorder: Recorder
    let codingPath: [any CodingKey]
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { true }
    func decodeNil(forKey key: Key) throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try probe(T.self, key, optional: false)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try probe(T.self, key, optional: true)
    }

    private func probe<T: Decodable>(_ type: T.Type, _ key: Key, optional: Bool) throws -> T {
        let child = recorder.child()
        defer { recorder.property(key.stringValue, child.schema, optional: optional) }
        return try child.value(T.self, at: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        recorder.property(key.stringValue, ["type": "object"], optional: false)
        return KeyedDecodingContainer(ProbeKeyed<NestedKey>(recorder: recorder.child(), codingPath: codingPath + [key]))
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        recorder.property(key.stringValue, ["type": "array"], optional: false)
        return ProbeUnkeyed(recorder: recorder.child(), codingPath: codingPath + [key])
    }
    func superDecoder() throws -> any Decoder { ProbeDecoder(recorder: recorder, codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { ProbeDecoder(recorder: recorder.child(), codingPath: codingPath + [key]) }
}

/// An array: one element is probed for the items' schema, then the array ends.
private struct ProbeUnkeyed: UnkeyedDecodingContainer {
    let recorder: Recorder
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { 1 }
    var isAtEnd: Bool { currentIndex >= 1 }

    init(recorder: Recorder, codingPath: [any CodingKey]) {
        self.recorder = recorder
        self.codingPath = codingPath
        recorder.schema = ["type": "array"]
    }

    mutating func decodeNil() throws -> Bool { false }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        currentIndex += 1
        let child = recorder.child()
        defer { recorder.schema = ["type": "array", "items": child.schema] }
        return try child.value(T.self, at: codingPath)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        currentIndex += 1
        return KeyedDecodingContainer(ProbeKeyed<NestedKey>(recorder: recorder.child(), codingPath: codingPath))
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        currentIndex += 1
        return ProbeUnkeyed(recorder: recorder.child(), codingPath: codingPath)
    }
    mutating func superDecoder() throws -> any Decoder { ProbeDecoder(recorder: recorder.child(), codingPath: codingPath) }
}

private struct ProbeSingle: SingleValueDecodingContainer {
    let recorder: Recorder
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { false }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try recorder.value(T.self, at: codingPath) }
}
