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
