/// Reads the two timestamp forms of the log into UTC milliseconds since 1970:
/// `M/D HH:MM:SS.mmm` (no year: the reader's year is used, stepping on when the month wraps from December to
/// January) and `M/D/YYYY HH:MM:SS.mmm±Z`, where the fraction is always three digits and what follows it is the
/// recording machine's UTC offset in hours (`-4`, and east of Greenwich digits without a sign: `.4690` is +0).
struct CombatTimestamp {
    /// The year assumed for year-less stamps.
    private(set) var year: Int
    private var lastMonth = 0
    /// The last date seen and its day number, since most lines share it.
    private var cachedDate: (year: Int, month: Int, day: Int, days: Int64) = (0, 0, 0, 0)

    init(year: Int) {
        self.year = year
    }

    /// The UTC time of the stamp in `bytes[0..<end]`, or nil if it is not a stamp.
    mutating func read(_ bytes: UnsafeBufferPointer<UInt8>, end: Int) -> Int64? {
        var position = 0
        @inline(__always) func number(maxDigits: Int) -> Int? {
            var value = 0
            var digits = 0
            while position < end, digits < maxDigits {
                let digit = bytes[position] &- 48
                if digit > 9 { break }
                value = value * 10 + Int(digit)
                digits += 1
                position += 1
            }
            return digits == 0 ? nil : value
        }
        @inline(__always) func expect(_ byte: UInt8) -> Bool {
            guard position < end, bytes[position] == byte else { return false }
            position += 1
            return true
        }
        guard let month = number(maxDigits: 2), (1...12).contains(month), expect(UInt8(ascii: "/")),
            let day = number(maxDigits: 2), (1...31).contains(day)
        else { return nil }
        var stampYear: Int?
        if expect(UInt8(ascii: "/")) {
            guard let written = number(maxDigits: 4), written >= 1970 else { return nil }
            stampYear = written
        }
        guard expect(UInt8(ascii: " ")), let hour = number(maxDigits: 2), hour < 24, expect(UInt8(ascii: ":")),
            let minute = number(maxDigits: 2), minute < 60, expect(UInt8(ascii: ":")),
            let second = number(maxDigits: 2), second < 61, expect(UInt8(ascii: ".")),
            let millisecond = number(maxDigits: 3)
        else { return nil }
        // Digits past the three of the fraction, or a signed number, are the UTC offset in hours.
        var offset = 0
        if position < end {
            let negative = bytes[position] == UInt8(ascii: "-")
            if negative || bytes[position] == UInt8(ascii: "+") { position += 1 }
            guard let hours = number(maxDigits: 2), hours <= 14, position == end else { return nil }
            offset = negative ? -hours : hours
        }
        let resolvedYear: Int
        if let stampYear {
            resolvedYear = stampYear
        } else {
            if lastMonth == 12 && month == 1 && year < 9999 { year += 1 }
            lastMonth = month
            resolvedYear = year
        }
        let days: Int64
        if cachedDate.year == resolvedYear && cachedDate.month == month && cachedDate.day == day {
            days = cachedDate.days
        } else {
            days = Self.daysFromCivil(year: resolvedYear, month: month, day: day)
            cachedDate = (resolvedYear, month, day, days)
        }
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset * 3600)
        return seconds * 1000 + Int64(millisecond)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthIndex + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
