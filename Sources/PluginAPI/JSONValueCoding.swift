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
