/// The id of a Discord channel, role, user or guild: a 64-bit "snowflake", kept as text because it exceeds the
/// integers JavaScript can hold exactly. It decodes from a string of digits, an integer, or `null` (no id), and
/// encodes as a string (`""` for no id), so clients may send either form and always read a string back.
public struct SnowflakeID: Codable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The digits, or `""` for no id.
    public let rawValue: String

    /// An id from its digits; `""` is no id.
    public init(stringLiteral rawValue: String) { self.rawValue = rawValue }

    /// An id from a number.
    public init(_ value: Int64) { rawValue = String(value) }

    /// Whether there is no id.
    public var isEmpty: Bool { rawValue.isEmpty }

    /// The digits.
    public var description: String { rawValue }

    /// Reads a string of digits, an integer or `null`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            rawValue = ""
        } else if let number = try? container.decode(Int64.self) {
            guard number >= 0 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a Discord id is not negative")
            }
            rawValue = String(number)
        } else {
            let text = try container.decode(String.self)
            guard text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), text.utf8.count <= 20 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a Discord id is digits only")
            }
            rawValue = text
        }
    }

    /// Writes the digits as a string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
