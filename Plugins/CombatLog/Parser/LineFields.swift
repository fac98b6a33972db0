/// The top-level comma-separated fields of one combat log payload, as byte ranges into the line: quoted strings
/// (with `\"` escapes and commas inside) and `(...)`/`[...]` groups (nested) are one field each. Nothing is
/// copied; a field becomes a `String` only when a caller asks for one.
final class LineFields {
    /// Enough for every event but COMBATANT_INFO's groups, which count as single fields.
    static let capacity = 96

    private let starts: UnsafeMutablePointer<Int32>
    private let ends: UnsafeMutablePointer<Int32>
    /// Hashes of this line's fields, kept once computed: a unit's GUID is hashed by several steps of one event.
    private let hashes: UnsafeMutablePointer<UInt64>
    private let hashedLine: UnsafeMutablePointer<UInt32>
    private var lineNumber: UInt32 = 1
    private(set) var count = 0
    /// The line being read; valid until the next ``split(_:from:)``.
    private(set) var line = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

    init() {
        starts = .allocate(capacity: Self.capacity)
        ends = .allocate(capacity: Self.capacity)
        hashes = .allocate(capacity: Self.capacity)
        hashedLine = .allocate(capacity: Self.capacity)
        hashedLine.initialize(repeating: 0, count: Self.capacity)
    }

    deinit {
        starts.deallocate()
        ends.deallocate()
        hashes.deallocate()
        hashedLine.deallocate()
    }

    /// Splits `line[from...]`; answers false for a line whose quotes or brackets do not close (a truncated or
    /// corrupt line) or that has more fields than any event the parser reads.
    func split(_ line: UnsafeBufferPointer<UInt8>, from: Int) -> Bool {
        self.line = line
        lineNumber &+= 1
        if lineNumber == 0 {  // wrapped: forget every kept hash
            hashedLine.update(repeating: 0, count: Self.capacity)
            lineNumber = 1
        }
        count = 0
        guard let base = line.baseAddress else { return false }
        let end = line.count
        var index = from
        var fieldStart = from
        var depth = 0
        while index < end {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                while index < end {
                    let inner = base[index]
                    if inner == UInt8(ascii: "\\") {
                        index += 2
                        continue
                    }
                    if inner == UInt8(ascii: "\"") { break }
                    index += 1
                }
                if index >= end { return false }
            } else if byte == UInt8(ascii: ",") {
                if depth == 0 {
                    guard count < Self.capacity else { return false }
                    starts[count] = Int32(fieldStart)
                    ends[count] = Int32(index)
                    count += 1
                    fieldStart = index + 1
                }
            } else if byte == UInt8(ascii: "(") || byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: ")") || byte == UInt8(ascii: "]") {
                depth -= 1
                if depth < 0 { return false }
            }
            index += 1
        }
        guard depth == 0, count < Self.capacity else { return false }
        starts[count] = Int32(fieldStart)
        ends[count] = Int32(end)
        count += 1
        return true
    }

    /// Field `index`'s bytes, quotes included.
    @inline(__always)
    func raw(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: line[Int(starts[index])..<Int(ends[index])])
    }

    /// The first byte of field `index`, or 0 if it is empty.
    @inline(__always)
    func firstByte(_ index: Int) -> UInt8 {
        starts[index] < ends[index] ? line[Int(starts[index])] : 0
    }

    /// The most digits an integer field may have: 15 digits stay far below 2⁶³, so a single figure can be added to or
    /// subtracted from another without overflow; a longer number is not one a log can mean.
    static let maxDigits = 15

    /// Field `index` as an integer (`nil`, anything else not a decimal integer and numbers of more than
    /// ``maxDigits`` digits answer nil; `1581.32` answers 1581).
    @inline(__always)
    func integer(_ index: Int) -> Int64? {
        var position = Int(starts[index])
        let end = Int(ends[index])
        guard position < end else { return nil }
        var negative = false
        if line[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var value: Int64 = 0
        var digits = 0
        while position < end {
            let digit = line[position] &- 48
            if digit > 9 { break }
            value = value &* 10 &+ Int64(digit)
            digits += 1
            position += 1
        }
        guard digits > 0, digits <= Self.maxDigits, position == end || line[position] == UInt8(ascii: ".") else { return nil }
        return negative ? -value : value
    }

    /// Field `index` read as hexadecimal flags (`0x514`).
    @inline(__always)
    func hex(_ index: Int) -> UInt32 {
        var position = Int(starts[index]) + 2
        let end = Int(ends[index])
        var value: UInt32 = 0
        while position < end {
            let byte = line[position]
            let digit: UInt8
            switch byte {
            case 48...57: digit = byte - 48
            case 97...102: digit = byte - 87
            case 65...70: digit = byte - 55
            default: return value
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// Whether field `index` is exactly `text`.
    @inline(__always)
    func equals(_ index: Int, _ text: StaticString) -> Bool {
        let length = Int(ends[index] - starts[index])
        guard length == text.utf8CodeUnitCount else { return false }
        let field = raw(index)
        let expected = UnsafeBufferPointer(start: text.utf8Start, count: length)
        for offset in 0..<length where field[offset] != expected[offset] { return false }
        return true
    }

    /// Field `index` as text: quotes removed and `\"` unescaped.
    func string(_ index: Int) -> String {
        let field = raw(index)
        guard field.count >= 2, field.first == UInt8(ascii: "\""), field.last == UInt8(ascii: "\"") else {
            return String(decoding: field, as: UTF8.self)
        }
        let inner = UnsafeBufferPointer(rebasing: field[1..<(field.count - 1)])
        guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(inner.count)
        var position = 0
        while position < inner.count {
            if inner[position] == UInt8(ascii: "\\"), position + 1 < inner.count {
                position += 1
            }
            bytes.append(inner[position])
            position += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A 64-bit FNV-1a hash of field `index`'s bytes: how GUIDs are keyed without making strings.
    @inline(__always)
    func hash(_ index: Int) -> UInt64 {
        if hashedLine[index] == lineNumber { return hashes[index] }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in raw(index) {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        hashes[index] = hash
        hashedLine[index] = lineNumber
        return hash
    }

    /// Whether field `index` is a GUID of nobody (`0000000000000000`) or empty.
    @inline(__always)
    func isNobody(_ index: Int) -> Bool {
        firstByte(index) == UInt8(ascii: "0") || starts[index] == ends[index]
    }

    /// Whether field `index` is a player's GUID (`Player-...`).
    @inline(__always)
    func isPlayer(_ index: Int) -> Bool {
        let field = raw(index)
        return field.count > 7 && field[0] == UInt8(ascii: "P") && field[1] == UInt8(ascii: "l") && field[6] == UInt8(ascii: "-")
    }
}
