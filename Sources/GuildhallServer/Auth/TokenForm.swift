import Foundation

/// The one spelling of a token the host accepts. A JWT decoder ignores padding and the spare bits of a segment's last
/// character, so `token=` or a token whose last character is swapped for an equivalent one decodes to the same
/// claims and signature: such a copy of a signed-out token would pass a check by the token's text. Only the form the
/// host issues is accepted — three base64url segments without padding, each exactly as re-encoding its bytes spells
/// it — and only a header naming HS256, the one algorithm the host signs with.
enum TokenForm {
    /// Whether `token` is a canonical JWS whose header names HS256.
    static func isCanonicalHS256(_ token: String) -> Bool {
        let segments = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3, segments.allSatisfy({ !$0.isEmpty && isCanonical(Array($0)) }),
            let header = decode(Array(segments[0])),
            let fields = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any],
            fields["alg"] as? String == "HS256"
        else { return false }
        return (fields["typ"] == nil || fields["typ"] as? String == "JWT") && fields["crit"] == nil
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    /// Whether `segment` is unpadded base64url whose unused low bits are zero (what encoding its bytes gives).
    private static func isCanonical(_ segment: [UInt8]) -> Bool {
        guard segment.count % 4 != 1, segment.allSatisfy({ values[Int($0)] >= 0 }) else { return false }
        guard let last = segment.last else { return true }
        let spareBits: Int8 = switch segment.count % 4 {
        case 2: 0b1111  // 12 bits carry one byte
        case 3: 0b11  // 18 bits carry two
        default: 0
        }
        return values[Int(last)] & spareBits == 0
    }

    /// The bytes of a canonical segment.
    private static func decode(_ segment: [UInt8]) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer = 0
        var bits = 0
        for character in segment {
            buffer = buffer << 6 | Int(values[Int(character)])
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8((buffer >> bits) & 0xFF))
            }
        }
        return bytes
    }
}
