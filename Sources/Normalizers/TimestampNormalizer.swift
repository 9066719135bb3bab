import CRMModel

/// Turns the time representations sources send into UTC ``Timestamp``s.
///
/// Policy: only instants with a four-digit year (0001...9999) are accepted, so every result
/// round-trips through ``Timestamp/rfc3339``. Seconds versus milliseconds is never guessed: each
/// adapter knows its vendor's unit (Stripe `created` is seconds; Salesforce `commitTimestamp`
/// is milliseconds) and calls the matching function.
public enum TimestampNormalizer {
    /// RFC 3339 with any offset → UTC.
    ///
    /// Accepts `Z`, `±HH:MM`, and the tolerated ISO 8601 basic offsets `±HHMM` / `±HH`; `T`, `t` or
    /// a space between date and time; a fraction of any length (`,` or `.`), truncated to
    /// milliseconds. A missing offset, an impossible date or anything else is
    /// `EventError(.invalidValue)` naming `field`. See ``Timestamp/init(rfc3339:)`` for details.
    public static func parse(_ text: String, field: String) throws(EventError) -> Timestamp {
        do {
            return try Timestamp(rfc3339: text)
        } catch {
            throw .invalid(field, "not an RFC 3339 timestamp (\(error.reason)): \(Text.quote(text))")
        }
    }

    /// Epoch seconds, as Stripe's `created`. Fractions are kept to the millisecond (floor).
    public static func fromEpochSeconds(_ value: Double, field: String) throws(EventError) -> Timestamp {
        try fromEpoch(value, scale: 1000, unit: "seconds", field: field)
    }

    /// Epoch milliseconds, as Salesforce `commitTimestamp` or JavaScript `Date.now()`.
    /// Sub-millisecond fractions are dropped (floor).
    public static func fromEpochMilliseconds(_ value: Double, field: String) throws(EventError) -> Timestamp {
        try fromEpoch(value, scale: 1, unit: "milliseconds", field: field)
    }

    private static func fromEpoch(_ value: Double, scale: Double, unit: String, field: String) throws(EventError) -> Timestamp {
        guard value.isFinite else { throw .invalid(field, "epoch \(unit) must be a finite number, got \(value)") }
        let scaled = value * scale
        // Decimal fractions such as 1700000000.123 are not exact in binary; snap to the nearest
        // millisecond when within a float's error so the result is 123 ms, not 122.
        let nearest = scaled.rounded()
        let tolerance = max(1e-6, abs(scaled) * 4 * Double.ulpOfOne)
        let millis = abs(scaled - nearest) <= tolerance ? nearest : scaled.rounded(.down)
        let lower = Double(Timestamp.minimumRFC3339.epochMilliseconds)
        let upper = Double(Timestamp.maximumRFC3339.epochMilliseconds)
        guard millis >= lower, millis <= upper else {
            throw .invalid(field, "epoch \(unit) \(value) is outside years 0001-9999 (wrong unit?)")
        }
        return Timestamp(epochMilliseconds: Int64(millis))
    }
}
