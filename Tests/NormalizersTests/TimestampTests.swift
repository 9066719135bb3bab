import CRMModel
import Foundation
import Normalizers
import PropertyBased
import Testing

@Suite struct TimestampTests {
    @Test func sameInstantInThreeZones() throws {
        let utc = try TimestampNormalizer.parse("2026-03-01T17:30:00Z", field: "occurred_at")
        let berlin = try TimestampNormalizer.parse("2026-03-01T18:30:00+01:00", field: "occurred_at")
        let sanFrancisco = try TimestampNormalizer.parse("2026-03-01T09:30:00-08:00", field: "occurred_at")
        let kolkata = try TimestampNormalizer.parse("2026-03-01T23:00:00+05:30", field: "occurred_at")
        #expect(utc == berlin)
        #expect(utc == sanFrancisco)
        #expect(utc == kolkata)
        #expect(utc.rfc3339 == "2026-03-01T17:30:00.000Z")
        #expect(utc.epochMilliseconds == 1_772_386_200_000)
    }

    @Test func crossesDayAndYearBoundaries() throws {
        let t = try TimestampNormalizer.parse("2026-01-01T01:00:00+02:00", field: "f")
        #expect(t.rfc3339 == "2025-12-31T23:00:00.000Z")
        let leap = try TimestampNormalizer.parse("2024-02-29T23:59:59.999-00:30", field: "f")
        #expect(leap.rfc3339 == "2024-03-01T00:29:59.999Z")
    }

    @Test(arguments: [
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02t03:04:05z", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02 03:04:05Z", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02T03:04:05.6Z", "2026-01-02T03:04:05.600Z"),
        ("2026-01-02T03:04:05.678Z", "2026-01-02T03:04:05.678Z"),
        ("2026-01-02T03:04:05.678999999Z", "2026-01-02T03:04:05.678Z"),   // truncated, not rounded
        ("2026-01-02T03:04:05,5Z", "2026-01-02T03:04:05.500Z"),
        ("2026-01-02T05:04:05+0200", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02T05:04:05+02", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02T03:04:05-00:00", "2026-01-02T03:04:05.000Z"),
        ("  2026-01-02T03:04:05Z\n", "2026-01-02T03:04:05.000Z"),
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
        ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
        ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
    ])
    func acceptedForms(input: String, expected: String) throws {
        #expect(try TimestampNormalizer.parse(input, field: "occurred_at").rfc3339 == expected)
    }

    @Test(arguments: [
        "", "2026-01-02", "2026-01-02T03:04:05", "2026-01-02T03:04Z", "2026-13-02T03:04:05Z",
        "2026-02-29T03:04:05Z", "2026-04-31T00:00:00Z", "2026-01-02T24:00:00Z", "2026-01-02T23:60:00Z",
        "2026-01-02T23:58:60Z", "2026-01-02T03:04:05+24:00", "2026-01-02T03:04:05+01:60", "2026-01-02T03:04:05.Z",
        "2026-01-02T03:04:05Z trailing", "26-01-02T03:04:05Z", "0000-01-01T00:00:00Z", "yesterday",
        "1700000000", "2026-01-02T03:04:05 PST", "２０２６-01-02T03:04:05Z", "Mon, 02 Jan 2026 03:04:05 GMT",
    ])
    func rejectedForms(input: String) {
        let error = expectEventError(.invalidValue, field: "fields.last_seen_at") {
            () throws(EventError) in try TimestampNormalizer.parse(input, field: "fields.last_seen_at")
        }
        #expect(error?.message.contains("RFC 3339") == true)
    }

    @Test func epochSecondsAndMilliseconds() throws {
        let created = try TimestampNormalizer.fromEpochSeconds(1_700_000_000, field: "created")
        #expect(created.rfc3339 == "2023-11-14T22:13:20.000Z")
        let precise = try TimestampNormalizer.fromEpochSeconds(1_700_000_000.123, field: "created")
        #expect(precise.epochMilliseconds == 1_700_000_000_123)
        let commit = try TimestampNormalizer.fromEpochMilliseconds(1_700_000_000_123, field: "commitTimestamp")
        #expect(commit == precise)
        let fractionalMillis = try TimestampNormalizer.fromEpochMilliseconds(1_700_000_000_123.9, field: "t")
        #expect(fractionalMillis.epochMilliseconds == 1_700_000_000_123)
        let beforeEpoch = try TimestampNormalizer.fromEpochSeconds(-1.5, field: "t")
        #expect(beforeEpoch.rfc3339 == "1969-12-31T23:59:58.500Z")
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity, 1.7e15, -1e15])
    func epochSecondsOutOfRange(value: Double) {
        expectEventError(.invalidValue, field: "created") { () throws(EventError) in
            try TimestampNormalizer.fromEpochSeconds(value, field: "created")
        }
    }

    @Test func millisecondsMistakenlyPassedAsSecondsAreRejected() {
        // 1.7e12 "seconds" is year ~55,800: an adapter using the wrong unit fails loudly.
        expectEventError(.invalidValue, field: "created") { () throws(EventError) in
            try TimestampNormalizer.fromEpochSeconds(1_700_000_000_123, field: "created")
        }
    }

    @Test func codableUsesRFC3339() throws {
        let t = Timestamp(epochMilliseconds: 1_767_323_045_678)
        let data = try JSONEncoder().encode([t])
        #expect(String(decoding: data, as: UTF8.self) == #"["2026-01-02T03:04:05.678Z"]"#)
        let decoded = try JSONDecoder().decode([Timestamp].self, from: Data(#"["2026-01-02T05:04:05.678+02:00"]"#.utf8))
        #expect(decoded == [t])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([Timestamp].self, from: Data(#"["2026-01-02"]"#.utf8))
        }
    }

    @Test func orderingAndDescription() {
        let a = Timestamp(epochMilliseconds: -1), b = Timestamp(epochMilliseconds: 0)
        #expect(a < b)
        #expect(a.description == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.maximumRFC3339.rfc3339 == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp.minimumRFC3339.rfc3339 == "0001-01-01T00:00:00.000Z")
    }

    // MARK: Properties

    static let instants = Gen.int64(in: Timestamp.minimumRFC3339.epochMilliseconds...Timestamp.maximumRFC3339.epochMilliseconds)

    @Test func parseOfFormatIsIdentity() async {
        await propertyCheck(count: 500, input: Self.instants) { millis throws in
            let t = Timestamp(epochMilliseconds: millis)
            #expect(try TimestampNormalizer.parse(t.rfc3339, field: "f") == t)
        }
    }

    @Test func offsetsDoNotChangeTheInstant() async {
        // Render the same instant in a random zone by hand, parse it back.
        let recent = Gen.int64(in: 0...4_102_444_800_000)
        await propertyCheck(count: 300, input: recent, Gen.int(in: -(14 * 60)...(14 * 60))) { millis, offsetMinutes throws in
            let t = Timestamp(epochMilliseconds: millis)
            let local = Timestamp(epochMilliseconds: millis + Int64(offsetMinutes) * 60_000).rfc3339.dropLast() // drop "Z"
            let sign = offsetMinutes < 0 ? "-" : "+"
            let magnitude = abs(offsetMinutes)
            let offset = sign + String(format: "%02d:%02d", magnitude / 60, magnitude % 60)
            #expect(try TimestampNormalizer.parse(local + offset, field: "f") == t)
        }
    }

    @Test func epochMillisecondsRoundTrip() async {
        await propertyCheck(count: 300, input: Self.instants) { millis throws in
            #expect(try TimestampNormalizer.fromEpochMilliseconds(Double(millis), field: "f").epochMilliseconds == millis)
        }
    }

    @Test func epochSecondsWithMillisecondFractionsRoundTrip() async {
        await propertyCheck(count: 300, input: Gen.int64(in: 0...4_102_444_800_000)) { millis throws in
            let seconds = Double(millis) / 1000
            #expect(try TimestampNormalizer.fromEpochSeconds(seconds, field: "f").epochMilliseconds == millis)
        }
    }
}
