/// A UTC instant with millisecond precision; the canonical time type of every event and field.
///
/// Milliseconds are the finest unit any supported source sends (Salesforce, Segment, HubSpot),
/// and an integer count keeps equality and ordering exact, which the ownership policies rely on
/// (`occurred_at` ties must be real ties, not floating-point accidents).
///
/// `Codable` uses the RFC 3339 string of ``rfc3339``; decoding accepts any RFC 3339 offset
/// (see ``init(rfc3339:)``) and converts it to UTC.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z, leap seconds not counted (POSIX time).
    public let epochMilliseconds: Int64

    /// The earliest instant with a four-digit year: 0001-01-01T00:00:00.000Z.
    public static let minimumRFC3339 = Timestamp(epochMilliseconds: -62_135_596_800_000)
    /// The latest instant with a four-digit year: 9999-12-31T23:59:59.999Z.
    public static let maximumRFC3339 = Timestamp(epochMilliseconds: 253_402_300_799_999)

    public init(epochMilliseconds: Int64) {
        self.epochMilliseconds = epochMilliseconds
    }

    /// RFC 3339 in UTC, always with milliseconds: "2026-01-02T03:04:05.678Z". Codable encodes/decodes as this string.
    ///
    /// Instants outside ``minimumRFC3339``...``maximumRFC3339`` cannot be written with a four-digit
    /// year; they are written ISO 8601 "expanded" style (`-0044-03-15…`, `+10000-01-01…`), which the
    /// parser does not read back. The normalizers never produce such instants.
    public var rfc3339: String {
        let msPerDay: Int64 = 86_400_000
        let (days, msOfDay) = Self.floorDivMod(epochMilliseconds, msPerDay)
        let (year, month, day) = Self.civil(fromDays: days)
        let hour = msOfDay / 3_600_000
        let minute = msOfDay / 60_000 % 60
        let second = msOfDay / 1000 % 60
        let millis = msOfDay % 1000
        guard (0...9999).contains(year) else {
            let yearText = (year < 0 ? "-" : "+") + Self.pad(year.magnitude, 4)
            return yearText + "-" + Self.pad(month, 2) + "-" + Self.pad(day, 2) + "T" + Self.pad(hour, 2) + ":"
                + Self.pad(minute, 2) + ":" + Self.pad(second, 2) + "." + Self.pad(millis, 3) + "Z"
        }
        // Written digit by digit: timestamps are in every document the write path produces.
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int64, _ width: Int, at offset: Int) {
                var value = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(month, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(day, 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put(hour, 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(minute, 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(second, 2, at: 17)
            buffer[19] = UInt8(ascii: ".")
            put(millis, 3, at: 20)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    public var description: String { rfc3339 }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.epochMilliseconds < rhs.epochMilliseconds
    }

    // MARK: Codable

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try Timestamp(rfc3339: text)
        } catch {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not an RFC 3339 timestamp: \(error.reason)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }

    // MARK: Parsing

    /// Why a string is not an RFC 3339 date-time.
    public struct FormatError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong, e.g. "month 13 out of range 01-12". Never contains the input itself.
        public let reason: String
        public init(reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    /// Parses an RFC 3339 date-time with any UTC offset and converts it to UTC.
    ///
    /// Accepted (policy, documented because sources differ):
    /// - `YYYY-MM-DD`, then `T`, `t` or a single space (RFC 3339 §5.6 note), then `HH:MM:SS`;
    /// - optional fraction `.` + one or more digits, **truncated** (not rounded) to milliseconds,
    ///   so that parsing never moves an instant into the next second/minute/day;
    /// - offset `Z`/`z`, `±HH:MM`, and, tolerated because JavaScript/Java/PostgreSQL emit them,
    ///   the ISO 8601 basic forms `±HHMM` and `±HH`. `-00:00` ("offset unknown") is UTC.
    /// - a leap second `:60` is accepted when it ends a UTC minute (RFC 3339 §5.7) and is read as
    ///   `:59.999` of that minute: POSIX time has no slot for it, and this keeps the order.
    /// - surrounding whitespace is ignored.
    ///
    /// Rejected: a missing offset (a local time is ambiguous: we never guess a zone), dates that
    /// do not exist (`2026-02-30`), non-ASCII digits, anything else around the value.
    public init(rfc3339 text: String) throws(FormatError) {
        var scanner = TimestampScanner(text)
        scanner.skipWhitespace()
        let year = try scanner.digits(4, "year")
        try scanner.expect(UInt8(ascii: "-"), "'-' after the year")
        let month = try scanner.digits(2, "month")
        try scanner.expect(UInt8(ascii: "-"), "'-' after the month")
        let day = try scanner.digits(2, "day")
        guard let separator = scanner.next(),
              separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == UInt8(ascii: " ")
        else {
            throw FormatError(reason: "expected 'T' and a time of day after the date (a date alone is not an instant)")
        }
        let hour = try scanner.digits(2, "hour")
        try scanner.expect(UInt8(ascii: ":"), "':' after the hour")
        let minute = try scanner.digits(2, "minute")
        try scanner.expect(UInt8(ascii: ":"), "':' after the minute (seconds are required)")
        var second = try scanner.digits(2, "second")
        var millis: Int64 = 0
        if scanner.peek() == UInt8(ascii: ".") || scanner.peek() == UInt8(ascii: ",") {
            _ = scanner.next()
            var count = 0
            while let byte = scanner.peek(), TimestampScanner.isDigit(byte) {
                _ = scanner.next()
                if count < 3 { millis = millis * 10 + Int64(byte - UInt8(ascii: "0")) }
                count += 1
            }
            guard count > 0 else { throw FormatError(reason: "expected digits after the decimal point") }
            for _ in count..<max(count, 3) { millis *= 10 }
        }
        // Offset, in minutes east of UTC.
        let offsetMinutes: Int64
        switch scanner.next() {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            offsetMinutes = 0
        case let sign? where sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"):
            let offsetHours = try scanner.digits(2, "offset hours")
            var offsetMins: Int64 = 0
            if scanner.peek() == UInt8(ascii: ":") {
                _ = scanner.next()
                offsetMins = try scanner.digits(2, "offset minutes")
            } else if let byte = scanner.peek(), TimestampScanner.isDigit(byte) {
                offsetMins = try scanner.digits(2, "offset minutes")
            }
            guard offsetHours <= 23 else { throw FormatError(reason: "offset hours \(offsetHours) out of range 00-23") }
            guard offsetMins <= 59 else { throw FormatError(reason: "offset minutes \(offsetMins) out of range 00-59") }
            let magnitude = offsetHours * 60 + offsetMins
            offsetMinutes = sign == UInt8(ascii: "+") ? magnitude : -magnitude
        case nil:
            throw FormatError(reason: "missing UTC offset ('Z' or ±HH:MM); a local time is ambiguous")
        default:
            throw FormatError(reason: "expected 'Z' or a ±HH:MM offset after the time")
        }
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw FormatError(reason: "unexpected characters after the offset") }

        guard year >= 1 else { throw FormatError(reason: "year 0000 is not supported") }
        guard (1...12).contains(month) else { throw FormatError(reason: "month \(month) out of range 01-12") }
        let monthLength = Self.daysIn(month: month, year: year)
        guard (1...monthLength).contains(day) else {
            throw FormatError(reason: "day \(day) does not exist in \(Self.pad(year, 4))-\(Self.pad(month, 2))")
        }
        guard hour <= 23 else { throw FormatError(reason: "hour \(hour) out of range 00-23") }
        guard minute <= 59 else { throw FormatError(reason: "minute \(minute) out of range 00-59") }
        if second == 60 {
            // RFC 3339 allows a leap second only at the end of a UTC minute 59; POSIX time has
            // no slot for it, so it becomes the last millisecond of that minute.
            let utcMinute = ((minute - offsetMinutes) % 60 + 60) % 60
            guard utcMinute == 59 else {
                throw FormatError(reason: "leap second :60 outside minute 59")
            }
            second = 59
            millis = 999
        }
        guard second <= 59 else { throw FormatError(reason: "second \(second) out of range 00-60") }

        let days = Self.days(fromCivilYear: year, month: month, day: day)
        let localMillis = ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis
        self.init(epochMilliseconds: localMillis - offsetMinutes * 60_000)
    }

    // MARK: Calendar arithmetic (proleptic Gregorian, integer-only, no Foundation)

    /// Days since 1970-01-01 for a civil date; valid for any Int64-representable year we use.
    static func days(fromCivilYear year: Int64, month: Int64, day: Int64) -> Int64 {
        // Shift the year to start in March so the leap day is the last day of the year.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthFromMarch = (month + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a day count since 1970-01-01 (inverse of ``days(fromCivilYear:month:day:)``).
    static func civil(fromDays count: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = count + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b
        let r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    static func pad<T: BinaryInteger>(_ value: T, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

/// A byte cursor over the UTF-8 of a timestamp; ASCII-only grammar, so bytes suffice.
private struct TimestampScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    var isAtEnd: Bool { index == bytes.count }

    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    mutating func digits(_ count: Int, _ what: String) throws(Timestamp.FormatError) -> Int64 {
        var value: Int64 = 0
        for _ in 0..<count {
            guard let byte = peek(), Self.isDigit(byte) else {
                throw Timestamp.FormatError(reason: "expected \(count) digits for the \(what)")
            }
            index += 1
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(Timestamp.FormatError) {
        guard next() == byte else { throw Timestamp.FormatError(reason: "expected \(what)") }
    }
}
