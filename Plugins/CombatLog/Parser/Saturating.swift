/// Sums of figures read from a log. A log is input from outside: its numbers are bounded where they are read
/// (``LineFields/integer(_:)``), and sums of many of them are held at the type's bounds instead of trapping.
extension FixedWidthInteger {
    /// `self + other`, held at `.max` or `.min` where it would overflow.
    @inline(__always)
    func saturatingAdding(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
