import CRMModel
import Foundation
import Normalizers
import PropertyBased
import Testing

@Suite struct PhoneTests {
    let us: PhoneNormalizer
    let blocklist = IdentifierBlocklist.default

    init() throws {
        us = try PhoneNormalizer(defaultRegion: "US")
    }

    func e164(_ raw: String, _ region: String = "US") throws -> String {
        try PhoneNormalizer(defaultRegion: region).normalize(raw, field: "fields.phone", blocklist: blocklist).e164
    }

    @Test func usSpellingsAgree() throws {
        for raw in ["(415) 555-0101", "415.555.0101", "415-555-0101", "+1 415 555 0101", "1 (415) 555-0101",
                    "+1-415-555-0101", "4155550101", "14155550101", "011 1 415 555 0101", "tel:+1-415-555-0101",
                    " +1 (415) 555\u{00A0}0101 "] {
            #expect(try e164(raw) == "+14155550101", "\(raw)")
        }
        #expect(try e164("001 415 555 0101", "GB") == "+14155550101")
    }

    @Test func ukSpellingsAgree() throws {
        #expect(try e164("020 7946 0958", "GB") == "+442079460958")
        #expect(try e164("+44 (0)20 7946 0958", "US") == "+442079460958")
        #expect(try e164("0044 20 7946 0958", "DE") == "+442079460958")
        #expect(try e164("011 44 20 7946 0958", "US") == "+442079460958")
        #expect(try e164("44 20 7946 0958", "GB") == "+442079460958")
    }

    @Test func trunkPrefixPolicyPerCountry() throws {
        #expect(try e164("06 1234 5678", "IT") == "+390612345678")          // Italy keeps the 0
        #expect(try e164("+39 06 1234 5678", "US") == "+390612345678")
        #expect(try e164("912 345 678", "ES") == "+34912345678")           // Spain: no trunk prefix
        #expect(try e164("030 123456", "DE") == "+4930123456")
        #expect(try e164("+49 (0)30 123456", "US") == "+4930123456")
        #expect(try e164("01 23 45 67 89", "FR") == "+33123456789")
        #expect(try e164("03-1234-5678", "JP") == "+81312345678")
        #expect(try e164("010 1 415 555 0101", "JP") == "+14155550101")    // Japan dials out with 010
        #expect(try e164("0011 44 20 7946 0958", "AU") == "+442079460958") // Australia with 0011
        #expect(try e164("0 21 11 91234 5678", "BR") == "+5511912345678")  // Brazil carrier code 21
        #expect(try e164("55 1234 5678", "MX") == "+525512345678")
        #expect(try e164("098765 43210", "IN") == "+919876543210")
        #expect(try e164("06-12345678", "NL") == "+31612345678")
        #expect(try e164("(02) 9876 5432", "AU") == "+61298765432")
        #expect(try e164("(604) 555-0123", "CA") == "+16045550123")
        #expect(try e164("０３－１２３４－５６７８", "JP") == "+81312345678")  // full-width digits
    }

    @Test func regionHintReadsNationalNumbersOfTheRecordsCountry() throws {
        let hinted = try us.normalize("020 7946 0958", field: "p", blocklist: blocklist, regionHint: "gb")
        #expect(hinted.e164 == "+442079460958")
        // Unsupported or absent hints fall back to the default region; international forms ignore hints.
        #expect(try us.normalize("(415) 555-0101", field: "p", blocklist: blocklist, regionHint: "ZZ").e164 == "+14155550101")
        #expect(try us.normalize("+33 6 12 34 56 78", field: "p", blocklist: blocklist, regionHint: "GB").e164 == "+33612345678")
        expectEventError(.invalidValue, field: "p") { () throws(EventError) in
            try us.normalize("020 7946 0958", field: "p", blocklist: blocklist, regionHint: nil)
        }
    }

    @Test func extensionsAreSplitOff() throws {
        for (raw, ext) in [("415-555-0101 x123", "123"), ("415 555 0101 ext. 123", "123"), ("415 555 0101 Ext 9", "9"),
                           ("415 555 0101 extension 77", "77"), ("415 555 0101#123", "123"),
                           ("tel:+1-415-555-0101;ext=42", "42")] {
            let phone = try us.normalize(raw, field: "phone", blocklist: blocklist)
            #expect(phone.e164 == "+14155550101", "\(raw)")
            #expect(phone.extension == ext, "\(raw)")
            #expect(phone.matchKey == "+14155550101")
        }
        #expect(try us.normalize("415 555 0101", field: "phone", blocklist: blocklist).extension == nil)
    }

    @Test(arguments: ["", "  ", "+", "n/a", "1-800-FLOWERS", "(415) 555-01O1", "+1 415 555 010", "415 555 01011",
                      "+1 415 555 0101 +1", "0044 20 7946 0958", "+0 20 7946 0958", "12", "call 415 555 0101",
                      "+44 20 7946 095", "415*555*0101", "12345678901234567890"])
    func invalidNumbers(raw: String) {
        expectEventError(.invalidValue, field: "fields.phone") { () throws(EventError) in
            try us.normalize(raw, field: "fields.phone", blocklist: blocklist)
        }
    }

    @Test func unknownDefaultRegionNamesTheRegion() {
        let error = expectEventError(.invalidValue, field: "phone.default_region") { () throws(EventError) in
            try PhoneNormalizer(defaultRegion: "ZZ")
        }
        #expect(error?.message.contains("\"ZZ\"") == true)
        let uk = expectEventError(.invalidValue, field: "phone.default_region") { () throws(EventError) in
            try PhoneNormalizer(defaultRegion: "UK")
        }
        #expect(uk?.message.contains("GB") == true)
        #expect(PhoneNormalizer.supportedRegions.count == 13)
        #expect((try? PhoneNormalizer(defaultRegion: "gb")) != nil)
    }

    @Test func countriesOutsideTheTableAreAcceptedUnchecked() throws {
        let china = try us.normalize("+86 10 1234 5678", field: "phone", blocklist: blocklist)
        #expect(china.e164 == "+861012345678")
        #expect(china.isCheckedAgainstPlan == false)
        #expect(china.matchKey == "+861012345678")
        expectEventError(.invalidValue, field: "phone") { () throws(EventError) in
            try us.normalize("+86 1234567890123456", field: "phone", blocklist: blocklist)
        }
    }

    @Test(arguments: [("+1 222 222 2222", "US"), ("0000000000", "GB"), ("07777 777777", "GB"), ("+33 6 66 66 66 66", "FR"),
                      ("+44 1234 567890", "US"), ("+1 (888) 888-8888 x1", "US")])
    func dummyNumbersHaveNoMatchKey(raw: String, region: String) throws {
        let normalizer = try PhoneNormalizer(defaultRegion: region)
        if let phone = try? normalizer.normalize(raw, field: "phone", blocklist: blocklist) {
            #expect(phone.matchKey == nil, "\(raw) → \(phone.e164)")
        } else {
            // Rejected outright is fine too: it is never a key either way.
            #expect(throws: EventError.self) { try normalizer.normalize(raw, field: "phone", blocklist: blocklist) }
        }
    }

    @Test func configurableNumberBlocklist() throws {
        let custom = blocklist.adding(phoneNumbers: ["+1 (415) 555-0101"])
        #expect(try us.normalize("415 555 0101", field: "p", blocklist: custom).matchKey == nil)
        #expect(try us.normalize("415 555 0102", field: "p", blocklist: custom).matchKey == "+14155550102")
    }

    // MARK: Oracle vectors

    struct VectorFile: Decodable {
        let oracle: String
        let count: Int
        let vectors: [Vector]
    }

    struct Vector: Decodable, Sendable, CustomStringConvertible {
        let input: String
        let region: String
        let kind: String
        let oracle: String
        let expected: String
        let reason: String?
        var description: String { "\(kind) \(region) \"\(input)\"" }
    }

    static func loadVectors() throws -> VectorFile {
        let url = try #require(Bundle.module.url(forResource: "phone-vectors", withExtension: "json", subdirectory: "Vectors"))
        return try JSONDecoder().decode(VectorFile.self, from: Data(contentsOf: url))
    }

    @Test func everyOracleVectorAgrees() throws {
        let file = try Self.loadVectors()
        #expect(file.vectors.count == file.count)
        #expect(file.vectors.count >= 300)
        var regions = Set<String>()
        var failures: [String] = []
        for vector in file.vectors {
            regions.insert(vector.region)
            // A deliberate difference must say why; otherwise we must agree with the oracle.
            if vector.expected != vector.oracle {
                #expect(vector.reason?.isEmpty == false, "\(vector) differs from the oracle without a reason")
            }
            let actual: String
            do {
                actual = try PhoneNormalizer(defaultRegion: vector.region)
                    .normalize(vector.input, field: "phone", blocklist: .default).e164
            } catch {
                #expect(error.errorClass == .invalidValue)
                actual = "invalid"
            }
            if actual != vector.expected { failures.append("\(vector): expected \(vector.expected), got \(actual)") }
        }
        #expect(failures.isEmpty, Comment(rawValue: "\(failures.count) vectors disagree:\n" + failures.prefix(60).joined(separator: "\n")))
        #expect(regions.isSuperset(of: ["US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "JP", "AU", "BR", "MX"]))
    }

    @Test func validOracleNumbersAreFixedPointsOfNormalize() throws {
        // E.164 round trip over every valid number the oracle produced.
        var checked = 0
        for vector in try Self.loadVectors().vectors where vector.expected.hasPrefix("+") {
            let again = try us.normalize(vector.expected, field: "p", blocklist: .default)
            #expect(again.e164 == vector.expected)
            checked += 1
        }
        #expect(checked > 200)
    }

    // MARK: Properties

    @Test func e164RoundTrip() async {
        // Random numbers built from our own plan shapes, in every supported country.
        let generated = zip(
        Gen.element(of: [
            ("US", "1", "415"), ("CA", "1", "604"), ("GB", "44", "20"), ("GB", "44", "7700"), ("DE", "49", "30"),
            ("DE", "49", "151"), ("FR", "33", "6"), ("ES", "34", "91"), ("IT", "39", "06"), ("IT", "39", "33"),
            ("NL", "31", "20"), ("IN", "91", "98"), ("JP", "81", "3"), ("JP", "81", "90"), ("AU", "61", "4"),
            ("BR", "55", "119"), ("MX", "52", "55"),
        ]).compactMap { $0 },
        Gen.number.string(of: 7)
    ).map { (country: (String, String, String), tail: String) -> (String, String) in
        let (region, code, lead) = country
        let nsnLength: Int = switch region {
        case "US", "CA", "IN", "MX", "IT": 10
        case "GB", "BR": lead == "119" ? 11 : 10
        case "DE": lead == "151" ? 11 : 9
        case "JP": lead == "90" ? 10 : 9
        default: 9
        }
        var rest = String(tail.prefix(nsnLength - lead.count))
            .padding(toLength: nsnLength - lead.count, withPad: "3", startingAt: 0)
        // NANP exchange codes start with 2-9.
        if code == "1", let first = rest.first, first < "2" { rest = "7" + rest.dropFirst() }
        let nsn = lead + rest
        return (region, "+" + code + nsn)
    }
        await propertyCheck(count: 400, input: generated) { pair throws in
            let (region, number) = pair
            let normalizer = try PhoneNormalizer(defaultRegion: region)
            let once = try normalizer.normalize(number, field: "p", blocklist: .default)
            #expect(once.e164 == number)
            #expect(try normalizer.normalize(once.e164, field: "p", blocklist: .default) == once)
            // Any region reads an E.164 number the same way.
            #expect(try us.normalize(once.e164, field: "p", blocklist: .default).e164 == number)
        }
    }

    @Test func blockedNumbersNeverProduceAMatchKey() async {
        let digits = Gen.number
        await propertyCheck(count: 200, input: digits, Gen.element(of: ["+1 %@%@%@ %@%@%@ %@%@%@%@", "0%@%@%@%@ %@%@%@%@%@%@"]).compactMap { $0 }) { digit, template throws in
            let raw = template.replacingOccurrences(of: "%@", with: String(digit))
            let normalizer = try PhoneNormalizer(defaultRegion: "GB")
            let phone = try? normalizer.normalize(raw, field: "p", blocklist: .default)
            #expect(phone?.matchKey == nil, "\(raw)")
        }
    }
}
