import CRMModel
import Normalizers
import PropertyBased
import Testing

/// Whatever bytes arrive, a normalizer returns a value or a typed `invalid-value` error naming the
/// field: never a crash, never another class, and every success is a fixed point.
@Suite struct RobustnessTests {
    /// Strings mixing the characters that break naive parsers: separators, signs, digits, letters,
    /// '@', '.', ':', '/', control and non-ASCII characters.
    static let nasty: [Character] = Array("0123456789+-().@:/ \t\nxXeE#;,_%'\"<>[]\u{0}\u{7F}\u{A0}\u{200B}éß０１二👍Zz")

    @Test func emailNeverCrashes() async {
        await propertyCheck(count: 500, input: Gen.element(of: Self.nasty).compactMap { $0 }.string(of: 0...40)) { raw throws in
            do {
                let email = try EmailNormalizer.normalize(raw, field: "fields.email", blocklist: .default)
                #expect(try EmailNormalizer.normalize(email.address, field: "fields.email", blocklist: .default) == email)
            } catch let error as EventError {
                #expect(error.errorClass == .invalidValue)
                #expect(error.fieldPath == "fields.email")
            }
        }
    }

    @Test func phoneNeverCrashes() async throws {
        let normalizers = try ["US", "GB", "DE", "JP", "BR", "IT"].map { try PhoneNormalizer(defaultRegion: $0) }
        await propertyCheck(count: 500, input: Gen.element(of: Self.nasty).compactMap { $0 }.string(of: 0...30),
                            Gen.int(in: 0...5)) { raw, which throws in
            let normalizer = normalizers[which]
            do {
                let phone = try normalizer.normalize(raw, field: "fields.phone", blocklist: .default)
                #expect(phone.e164.hasPrefix("+"))
                #expect(phone.e164.dropFirst().allSatisfy { $0.isASCII && $0.isNumber })
                #expect((8...16).contains(phone.e164.count))
                #expect(try normalizer.normalize(phone.e164, field: "fields.phone", blocklist: .default).e164 == phone.e164)
            } catch let error as EventError {
                #expect(error.errorClass == .invalidValue)
                #expect(error.fieldPath == "fields.phone")
            }
        }
    }

    @Test func websiteNeverCrashes() async {
        await propertyCheck(count: 500, input: Gen.element(of: Self.nasty).compactMap { $0 }.string(of: 0...40)) { raw throws in
            do {
                if let domain = try DomainNormalizer.companyDomain(fromWebsite: raw, field: "fields.website") {
                    #expect(try DomainNormalizer.companyDomain(fromWebsite: domain, field: "fields.website") == domain)
                }
            } catch let error as EventError {
                #expect(error.errorClass == .invalidValue)
                #expect(error.fieldPath == "fields.website")
            }
            _ = DomainNormalizer.companyDomain(fromEmail: raw)
        }
    }

    @Test func timestampNeverCrashes() async {
        let chars = Array("0123456789-T:.+Z z") as [Character]
        await propertyCheck(count: 500, input: Gen.element(of: chars).compactMap { $0 }.string(of: 0...30)) { raw throws in
            do {
                let t = try TimestampNormalizer.parse(raw, field: "occurred_at")
                #expect(try TimestampNormalizer.parse(t.rfc3339, field: "occurred_at") == t)
            } catch let error as EventError {
                #expect(error.errorClass == .invalidValue)
                #expect(error.fieldPath == "occurred_at")
            }
        }
    }

    @Test func namesAndMultiSelectAreTotal() async {
        await propertyCheck(count: 300, input: Gen.element(of: Self.nasty).compactMap { $0 }.string(of: 0...40)) { raw throws in
            if let name = NameNormalizer.normalize(raw) {
                #expect(NameNormalizer.normalize(name) == name)
                #expect(!name.hasPrefix(" ") && !name.hasSuffix(" ") && !name.contains("  "))
            }
            let values = MultiSelect.parse(raw)
            #expect(MultiSelect.parse(values.joined(separator: ";")) == values)
        }
    }

    @Test func hugeInputsAreRejectedQuickly() {
        let huge = String(repeating: "1", count: 1_000_000)
        expectEventError(.invalidValue, field: "p") { () throws(EventError) in
            try PhoneNormalizer(defaultRegion: "US").normalize(huge, field: "p", blocklist: .default)
        }
        expectEventError(.invalidValue, field: "e") { () throws(EventError) in
            try EmailNormalizer.normalize(huge + "@acme.com", field: "e", blocklist: .default)
        }
        let error = expectEventError(.invalidValue, field: "t") { () throws(EventError) in
            try TimestampNormalizer.parse(huge, field: "t")
        }
        // Messages quote at most 64 characters of the input, so a DLQ header stays small.
        #expect((error?.message.count ?? .max) < 200)
    }
}
