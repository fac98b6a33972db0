enum PathPrefix {
    /// Whether `path` is `prefix` itself or lies below it, segment-wise (`/api/tickets/1`, not `/api/ticketsx`).
    /// A `*` segment of the prefix matches any one segment (`/api/v1/admin/guilds/*/activity`).
    ///
    /// Every request that reaches the host asks this of each cog prefix, so it compares UTF-8 bytes and allocates
    /// nothing (Foundation's `contains` and `split` here once cost an eighth of the server's CPU).
    static func path(_ path: some StringProtocol, isUnder prefix: String) -> Bool {
        let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*")
        let bytes = path.utf8, wanted = prefix.utf8
        var index = bytes.startIndex, want = wanted.startIndex
        var previous: UInt8 = 0
        while want != wanted.endIndex {
            let expected = wanted[want]
            if expected == star, previous == slash {
                // Any one non-empty segment.
                guard index != bytes.endIndex, bytes[index] != slash else { return false }
                while index != bytes.endIndex, bytes[index] != slash { bytes.formIndex(after: &index) }
            } else {
                guard index != bytes.endIndex, bytes[index] == expected else { return false }
                bytes.formIndex(after: &index)
            }
            previous = expected
            wanted.formIndex(after: &want)
        }
        return index == bytes.endIndex || previous == slash || bytes[index] == slash
    }
}
