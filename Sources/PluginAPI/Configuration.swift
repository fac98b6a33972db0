import Foundation

/// A typed configuration section. `init()` gives the defaults; values from config.yaml and the runtime config API
/// are laid over those defaults, so a deployment only writes the keys it changes.
///
/// Decoding is the validation: a value that does not decode is refused with the path of the bad key. Keys that the
/// type does not declare are refused too, so a typo never passes silently.
public protocol CogConfiguration: Codable, Sendable, Equatable {
    /// The defaults of every key.
    init()
    /// Keys whose values are secrets (API keys, tokens). They are masked in every config read the API answers.
    static var secretKeys: Set<String> { get }
    /// Keys every signed-in user may read with `GET /api/config/{section}` (what a form needs: the ticket
    /// categories); everything else of the section is the admins' (contract 1.1).
    static var publicKeys: Set<String> { get }
    /// The values each numeric key accepts, by its snake_case path (`"max_open_per_user"`, or
    /// `"status_dashboard.update_interval_minutes"` inside a nested object); a value outside is refused naming the
    /// key and its range (contract 1.4). A numeric key not listed accepts ``ConfigRanges/fallback``: bound every
    /// key your code does arithmetic with (seconds, counts, sizes) to what makes sense.
    static var ranges: [String: ClosedRange<Double>] { get }
}

extension CogConfiguration {
    /// No secrets by default.
    public static var secretKeys: Set<String> { [] }
    /// Nothing public by default.
    public static var publicKeys: Set<String> { [] }
    /// Every numeric key accepts ``ConfigRanges/fallback`` by default.
    public static var ranges: [String: ClosedRange<Double>] { [:] }
}

/// The bounds numeric config values are checked against.
public enum ConfigRanges {
    /// What a numeric key accepts when its section declares no range for it: ±10¹², wide enough for any count, size
    /// or duration a deployment means, narrow enough that multiplying it by a thousand or a billion cannot overflow.
    public static let fallback: ClosedRange<Double> = -1e12...1e12

    /// Checks every number in `value` (an encoded section) against `ranges`, else ``fallback``; throws
    /// ``ConfigValidationError`` naming the first key out of range and the range, or a key `ranges` names that the
    /// section has no number at (a misspelt range would bound nothing).
    package static func check(_ value: JSONValue, ranges: [String: ClosedRange<Double>]) throws {
        var numeric: Set<String> = []
        try check(value, ranges: ranges, path: "", numeric: &numeric)
        if let stray = ranges.keys.sorted().first(where: { !numeric.contains($0) }) {
            throw ConfigValidationError(path: stray, expected: "a numeric key of the section (its ranges name it)", found: "no such key")
        }
    }

    private static func check(_ value: JSONValue, ranges: [String: ClosedRange<Double>], path: String, numeric: inout Set<String>) throws {
        switch value {
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                try check(member, ranges: ranges, path: path.isEmpty ? key : "\(path).\(key)", numeric: &numeric)
            }
        case .array(let items):
            for (index, item) in items.enumerated() { try check(item, ranges: ranges, path: "\(path)[\(index)]", numeric: &numeric) }
        case .int(let number):
            numeric.insert(path)
            try check(Double(number), ranges: ranges, path: path, found: "\(number)")
        case .double(let number):
            numeric.insert(path)
            try check(number, ranges: ranges, path: path, found: "\(number)")
        default:
            return
        }
    }

    private static func check(_ number: Double, ranges: [String: ClosedRange<Double>], path: String, found: String) throws {
        let range = ranges[path] ?? fallback
        guard !range.contains(number) else { return }
        throw ConfigValidationError(path: path, expected: describe(range), found: found)
    }

    /// `a number from 1 to 600`.
    package static func describe(_ range: ClosedRange<Double>) -> String {
        "a number from \(text(range.lowerBound)) to \(text(range.upperBound))"
    }

    private static func text(_ bound: Double) -> String {
        bound == bound.rounded() && abs(bound) < 1e15 ? String(Int64(bound)) : "\(bound)"
    }
}

/// The configuration of a cog that has no settings.
public struct NoConfiguration: CogConfiguration {
    /// No settings.
    public init() {}
}

/// A named configuration section and the type that validates it; the host builds one for each cog that names a
/// section in its manifest, and for its own sections.
package struct ConfigSection: Sendable {
    /// The section's key in config.yaml and its name in `/api/config/{section}`.
    package let name: String
    /// The defaults, as a JSON object.
    package let defaults: @Sendable () -> JSONValue
    /// Decodes `value` laid over the defaults and answers the complete, normalised section; throws
    /// ``ConfigValidationError`` naming the bad key.
    package let validate: @Sendable (JSONValue) throws -> JSONValue
    /// Keys masked in API output.
    package let secretKeys: Set<String>
    /// Keys any signed-in user may read.
    package let publicKeys: Set<String>

    /// Declares section `name`, validated and completed by `type`.
    package static func section<C: CogConfiguration>(_ name: String, _ type: C.Type) -> ConfigSection {
        ConfigSection(
            name: name,
            defaults: { (try? JSONValueEncoder(keys: .snakeCase).encode(C())) ?? .object([:]) },
            validate: { value in try ConfigSection.checked(C.self, from: value).encoded },
            secretKeys: C.secretKeys, publicKeys: C.publicKeys)
    }

    /// Decodes a section of type `C` from `value` laid over the defaults and checks its numbers against `C.ranges`:
    /// what a value that is about to be stored or used goes through (reads of stored values need only ``decode``).
    package static func decodeChecked<C: CogConfiguration>(_ type: C.Type, from value: JSONValue) throws -> C {
        try checked(C.self, from: value).section
    }

    /// `value` laid over the defaults, decoded as `C` and encoded again (the normalised section), its numbers checked.
    private static func checked<C: CogConfiguration>(_ type: C.Type, from value: JSONValue) throws -> (section: C, encoded: JSONValue) {
        let section = try decode(C.self, from: value)
        let encoded = try JSONValueEncoder(keys: .snakeCase).encode(section)
        try ConfigRanges.check(encoded, ranges: C.ranges)
        return (section, encoded)
    }

    /// Decodes a section of type `C` from `value` laid over the defaults.
    package static func decode<C: CogConfiguration>(_ type: C.Type, from value: JSONValue) throws -> C {
        guard case .object(let given) = value else {
            throw ConfigValidationError(path: "", expected: "an object of settings", found: value.kindDescription)
        }
        guard case .object(var merged) = try JSONValueEncoder(keys: .snakeCase).encode(C()) else {
            throw ConfigValidationError(path: "", expected: "an object of settings", found: "a plain value")
        }
        for (key, item) in given.sorted(by: { $0.key < $1.key }) {
            guard merged[key] != nil else {
                let known = merged.keys.sorted().joined(separator: ", ")
                throw ConfigValidationError(path: key, expected: "one of: \(known)", found: "an unknown key")
            }
            merged[key] = item
        }
        do {
            return try JSONValueDecoder().decode(C.self, from: .object(merged))
        } catch let error as DecodingError {
            throw ConfigValidationError(error)
        }
    }

    /// Declares section `name` whose keys are known only at run time (an external cog's manifest): `defaults` holds
    /// every key, `ranges` bounds numeric ones, and `check` answers what a key should hold when `value` does not fit
    /// it (nil when it fits).
    package static func dynamic(
        name: String, defaults: JSONValue, secretKeys: Set<String>, ranges: [String: ClosedRange<Double>],
        check: @escaping @Sendable (_ key: String, _ value: JSONValue) -> String?
    ) -> ConfigSection {
        ConfigSection(
            name: name, defaults: { defaults },
            validate: { value in
                guard case .object(let given) = value, case .object(var merged) = defaults else {
                    throw ConfigValidationError(path: "", expected: "an object of settings", found: value.kindDescription)
                }
                for (key, item) in given.sorted(by: { $0.key < $1.key }) {
                    if let expected = check(key, item) {
                        throw ConfigValidationError(path: key, expected: expected, found: merged[key] == nil ? "an unknown key" : item.kindDescription)
                    }
                    merged[key] = item
                }
                try ConfigRanges.check(.object(merged), ranges: ranges)
                return .object(merged)
            },
            secretKeys: secretKeys, publicKeys: [])
    }

    private init(
        name: String, defaults: @escaping @Sendable () -> JSONValue,
        validate: @escaping @Sendable (JSONValue) throws -> JSONValue, secretKeys: Set<String>, publicKeys: Set<String>
    ) {
        self.name = name
        self.defaults = defaults
        self.validate = validate
        self.secretKeys = secretKeys
        self.publicKeys = publicKeys
    }
}

/// A configuration value that does not fit its section's type.
public struct ConfigValidationError: Error, Sendable, CustomStringConvertible {
    /// Dotted path of the offending key within its section (`"max_open_per_user"`), empty for the section itself.
    public var path: String
    /// What the key should hold.
    public var expected: String
    /// What it held.
    public var found: String

    /// A problem at `path`.
    public init(path: String, expected: String, found: String) {
        self.path = path
        self.expected = expected
        self.found = found
    }

    /// Translates a decoding failure into the path and expectation a person can act on.
    public init(_ error: DecodingError) {
        func dotted(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? SnakeCase.key($0.stringValue) }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context):
            self.init(path: dotted(context.codingPath), expected: "a value of type \(type)", found: context.debugDescription)
        case .valueNotFound(let type, let context):
            self.init(path: dotted(context.codingPath), expected: "a value of type \(type)", found: "null")
        case .keyNotFound(let key, let context):
            self.init(path: dotted(context.codingPath + [key]), expected: "a value", found: "nothing")
        case .dataCorrupted(let context):
            self.init(path: dotted(context.codingPath), expected: "a valid value", found: context.debugDescription)
        @unknown default:
            self.init(path: "", expected: "a valid value", found: "\(error)")
        }
    }

    /// `key 'path': expected ..., found ...`.
    public var description: String {
        path.isEmpty ? "expected \(expected), found \(found)" : "key '\(path)': expected \(expected), found \(found)"
    }
}
