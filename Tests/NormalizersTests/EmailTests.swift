import CRMModel
import Normalizers
import PropertyBased
import Testing

@Suite struct EmailTests {
    let blocklist = IdentifierBlocklist.default

    @Test func storedFormIsTrimmedLowerCasedOwnerAddress() throws {
        let email = try EmailNormalizer.normalize("  John.Doe+news@GMAIL.com\t", field: "fields.email", blocklist: blocklist)
        #expect(email.address == "john.doe+news@gmail.com")   // never rewritten beyond case/space
        #expect(email.matchKey == "johndoe@gmail.com")
    }

    @Test func gmailVariantsShareOneKey() throws {
        let spellings = ["John.Doe+news@GMAIL.com", "johndoe@gmail.com", "j.o.h.n.d.o.e@googlemail.com",
                         "JohnDoe+crm+2026@googlemail.com", " johndoe@Gmail.Com "]
        let keys = try Set(spellings.map { try EmailNormalizer.normalize($0, field: "email", blocklist: blocklist).matchKey })
        #expect(keys == ["johndoe@gmail.com"])
    }

    @Test(arguments: [
        ("jane+promo@outlook.com", "jane@outlook.com"),
        ("Jane.Doe+x@Hotmail.com", "jane.doe@hotmail.com"),     // dots are significant at Microsoft
        ("jane+x@live.co.uk", "jane@live.co.uk"),
        ("jane+x@hotmail.fr", "jane@hotmail.fr"),
        ("jane+x@msn.com", "jane@msn.com"),
        ("jane+tag@icloud.com", "jane@icloud.com"),
        ("jane+tag@me.com", "jane@me.com"),                     // not folded into icloud.com
        ("jane.doe+tag@mac.com", "jane.doe@mac.com"),
        ("jane.doe+tag@acme.com", "jane.doe+tag@acme.com"),     // custom domain: untouched
        ("jane.doe+tag@yahoo.com", "jane.doe+tag@yahoo.com"),   // not in the docs/contract.md#normalize list
        ("+tag@gmail.com", "+tag@gmail.com"),                   // nothing before the tag: keep
        ("x.y.z@gmail.com", "xyz@gmail.com"),
    ])
    func providerRules(address: String, key: String) {
        #expect(EmailNormalizer.matchKey(for: address) == key)
    }

    @Test func microsoftFamilyDomainsAreNotMergedAcrossEachOther() {
        #expect(EmailNormalizer.matchKey(for: "jane@hotmail.com") != EmailNormalizer.matchKey(for: "jane@outlook.com"))
    }

    @Test(arguments: [
        "", "   ", "john", "john@", "@acme.com", "john@@acme.com", "john@acme@com", "john doe@acme.com",
        "john@acme", "john@acme..com", "john@.acme.com", "john@acme.com.", "john@-acme.com", "john@acme-.com",
        ".john@acme.com", "john.@acme.com", "jo..hn@acme.com", "\"john doe\"@acme.com", "John <john@acme.com>",
        "mailto:john@acme.com", "john@[10.0.0.1]", "john@10.0.0.1", "john@acme.c_m", "john(comment)@acme.com",
        "n/a", "null", "john@acme.com\u{0}",
    ])
    func invalidAddresses(raw: String) {
        expectEventError(.invalidValue, field: "fields.email") { () throws(EventError) in
            try EmailNormalizer.normalize(raw, field: "fields.email", blocklist: blocklist)
        }
    }

    @Test func rfc5321Lengths() throws {
        let local64 = String(repeating: "a", count: 64)
        #expect(try EmailNormalizer.normalize("\(local64)@acme.com", field: "e", blocklist: blocklist).address.count == 73)
        expectEventError(.invalidValue, field: "e") { () throws(EventError) in
            try EmailNormalizer.normalize("a\(local64)@acme.com", field: "e", blocklist: blocklist)
        }
        let label63 = String(repeating: "b", count: 63)
        #expect(EmailNormalizer.isValid("x@\(label63).com"))
        #expect(!EmailNormalizer.isValid("x@\(label63)b.com"))
        // 254 octets in total is the most a path allows.
        let domain = [String](repeating: String(repeating: "c", count: 60), count: 4).joined(separator: ".") + ".com"
        let local = String(repeating: "d", count: 254 - 1 - domain.count)
        #expect(EmailNormalizer.isValid("\(local)@\(domain)"))
        #expect(!EmailNormalizer.isValid("\(local)d@\(domain)"))
    }

    @Test func internationalizedAddressesAreAccepted() throws {
        let email = try EmailNormalizer.normalize("José.Müller@Bücher.de", field: "e", blocklist: blocklist)
        #expect(email.address == "josé.müller@bücher.de")
        #expect(email.matchKey == "josé.müller@bücher.de")
        #expect(EmailNormalizer.isValid("o'brien@acme.ie"))
        #expect(EmailNormalizer.isValid("first_last-1@sub.acme.co.uk"))
    }

    @Test(arguments: [
        "test@test.com", "TEST@Test.com", "test+1@test.com", "noemail@acme.com", "no-reply@acme.com",
        "anyone@example.com", "someone@mail.example.org", "x@foo.test", "bob@mailinator.com", "n.o.e.m.a.i.l@gmail.com",
    ])
    func blockedAddressesHaveNoMatchKey(raw: String) throws {
        let email = try EmailNormalizer.normalize(raw, field: "e", blocklist: blocklist)
        #expect(email.matchKey == nil)
        #expect(email.address == raw.lowercased())
    }

    @Test func configurableBlocklist() throws {
        let custom = blocklist.adding(emails: ["info@acme.com"], values: [])
        #expect(try EmailNormalizer.normalize("Info+x@ACME.com", field: "e", blocklist: blocklist).matchKey == "info+x@acme.com")
        #expect(try EmailNormalizer.normalize("info@acme.com", field: "e", blocklist: custom).matchKey == nil)
        let domains = blocklist.adding(emailDomains: ["acme.invalid"])
        #expect(domains.isBlocked(emailMatchKey: "x@eu.acme.invalid"))
        #expect(!domains.isBlocked(emailMatchKey: "x@notacme.invalid.com"))
    }

    // MARK: Properties

    static let localParts = Gen.element(of: ["John.Doe", "jane", "A.B.C", "x_y-z", "mary.o'neil", "ünï", "j.d+news", "bob+a+b"])
        .compactMap { $0 }
    static let domains = Gen.element(of: ["gmail.com", "GoogleMail.com", "outlook.com", "hotmail.co.uk", "icloud.com",
                                          "acme.com", "Sub.Acme.co.uk", "yahoo.com", "bücher.de"]).compactMap { $0 }
    static let padding = Gen.element(of: ["", " ", "\t", "\u{00A0}", "\n ", "  \r\n"]).compactMap { $0 }
    static let addresses = zip(localParts, domains).map { "\($0)@\($1)" }

    @Test func normalizeIsIdempotent() async {
        await propertyCheck(count: 300, input: Self.addresses) { raw throws in
            let once = try EmailNormalizer.normalize(raw, field: "e", blocklist: .default)
            let twice = try EmailNormalizer.normalize(once.address, field: "e", blocklist: .default)
            #expect(once == twice)
            #expect(EmailNormalizer.matchKey(for: once.matchKey ?? once.address) == once.matchKey ?? once.address)
        }
    }

    @Test func matchKeyIgnoresCaseAndSurroundingWhitespace() async {
        await propertyCheck(count: 300, input: Self.addresses, Self.padding, Self.padding, Gen.bool) { raw, before, after, upper throws in
            let variant = before + (upper ? raw.uppercased() : raw.lowercased()) + after
            let a = try EmailNormalizer.normalize(raw, field: "e", blocklist: .default)
            let b = try EmailNormalizer.normalize(variant, field: "e", blocklist: .default)
            #expect(a.matchKey == b.matchKey)
            #expect(EmailNormalizer.matchKey(for: variant) == EmailNormalizer.matchKey(for: raw))
        }
    }

    @Test func blockedValuesNeverProduceAMatchKey() async {
        let blockedLocal = Gen.element(of: ["test", "noemail", "no-reply", "donotreply", "unknown", "null"]).compactMap { $0 }
        let tags = Gen.element(of: ["", "+x", "+2026"]).compactMap { $0 }
        await propertyCheck(count: 200, input: blockedLocal, tags, Self.domains) { local, tag, domain throws in
            let email = try EmailNormalizer.normalize("\(local)\(tag)@\(domain)", field: "e", blocklist: .default)
            #expect(email.matchKey == nil)
        }
    }
}
