import CRMModel
import Normalizers
import PropertyBased
import Testing

@Suite struct NameTests {
    @Test(arguments: [
        ("  Mary   McDonald ", "Mary McDonald"),
        ("mary\tmcdonald", "mary mcdonald"),                 // casing kept as typed, even lower-case
        ("Jean-Luc\u{00A0}\u{00A0}Picard", "Jean-Luc Picard"),
        ("Ludwig\nvan\r\nBeethoven", "Ludwig van Beethoven"),
        ("O'Neil", "O'Neil"),
        ("DJ  Khaled", "DJ Khaled"),
        ("\u{200B}Zoë\u{FEFF}", "Zoë"),
        ("Jose\u{0301}", "Jos\u{00E9}"),                     // NFC: one stored form
        ("山田　太郎", "山田 太郎"),                              // ideographic space
    ])
    func normalize(raw: String, expected: String) {
        let name = NameNormalizer.normalize(raw)
        #expect(name == expected)
        #expect(name.map { Array($0.unicodeScalars) } == Array(expected.unicodeScalars))
    }

    @Test(arguments: ["", "   ", "\t\n", "\u{00A0}", "\u{200B}"])
    func emptyIsNil(raw: String) {
        #expect(NameNormalizer.normalize(raw) == nil)
    }

    @Test func nameCompanyKeyFoldsCaseAndDiacritics() {
        let a = NameNormalizer.nameCompanyKey(firstName: "José", lastName: "Müller-Lüdenscheidt", companyDomain: "acme.de")
        let b = NameNormalizer.nameCompanyKey(firstName: " JOSE ", lastName: "muller ludenscheidt", companyDomain: "ACME.de")
        #expect(a == "jose|muller ludenscheidt|acme.de")
        #expect(a == b)
        #expect(NameNormalizer.nameCompanyKey(firstName: "Sean", lastName: "O’Brien", companyDomain: "acme.ie")
            == NameNormalizer.nameCompanyKey(firstName: "sean", lastName: "OBrien", companyDomain: "acme.ie"))
    }

    @Test func nameCompanyKeyNeedsEveryPart() {
        #expect(NameNormalizer.nameCompanyKey(firstName: nil, lastName: "Doe", companyDomain: "acme.com") == nil)
        #expect(NameNormalizer.nameCompanyKey(firstName: "Jane", lastName: "  ", companyDomain: "acme.com") == nil)
        #expect(NameNormalizer.nameCompanyKey(firstName: "Jane", lastName: "Doe", companyDomain: nil) == nil)
        #expect(NameNormalizer.nameCompanyKey(firstName: "Jane", lastName: "Doe", companyDomain: "gmail.com") == nil)
        #expect(NameNormalizer.nameCompanyKey(firstName: "Unknown", lastName: "Doe", companyDomain: "acme.com") == nil)
        #expect(NameNormalizer.nameCompanyKey(firstName: "Jane", lastName: "N/A", companyDomain: "acme.com") == nil)
        #expect(NameNormalizer.nameCompanyKey(firstName: "Test", lastName: "Test", companyDomain: "acme.com") == nil)
        #expect(NameNormalizer.nameCompanyKey(firstName: "Jane", lastName: "Doe", companyDomain: "acme.com") != nil)
        #expect(NameNormalizer.nameCompanyKey(firstName: "Jin", lastName: "Na", companyDomain: "acme.kr") == "jin|na|acme.kr")
    }

    static let nameParts = Gen.element(of: ["Mary", "McDonald", "van der Berg", "José", "ZOË", "o'neil", "李", "Anne-Marie"])
        .compactMap { $0 }
    static let gaps = Gen.element(of: [" ", "  ", "\t", "\u{00A0}", "\n", " \u{2003} "]).compactMap { $0 }

    @Test func normalizeIsIdempotentAndKeepsCase() async {
        await propertyCheck(count: 300, input: Self.nameParts, Self.gaps, Self.nameParts, Self.gaps) { first, gap, last, pad throws in
            let raw = pad + first + gap + last + pad
            let once = try #require(NameNormalizer.normalize(raw))
            #expect(NameNormalizer.normalize(once) == once)
            #expect(once == first + " " + last)
        }
    }

    @Test func blockedNamePartsNeverProduceAKey() async {
        let placeholders = Gen.element(of: ["unknown", "N/A", "null", "test", "-", "?", "none", "TBD"]).compactMap { $0 }
        await propertyCheck(count: 200, input: placeholders, Self.nameParts, Self.gaps, Gen.bool) { placeholder, name, pad, first throws in
            let blocked = pad + (first ? placeholder.uppercased() : placeholder) + pad
            #expect(NameNormalizer.nameCompanyKey(firstName: first ? blocked : name, lastName: first ? name : blocked,
                                                  companyDomain: "acme.com") == nil)
        }
    }

    @Test func nameCompanyKeyIgnoresCaseAndWhitespace() async {
        await propertyCheck(count: 200, input: Self.nameParts, Self.nameParts, Self.gaps, Gen.bool) { first, last, pad, upper throws in
            let f = upper ? first.uppercased() : first.lowercased()
            let a = NameNormalizer.nameCompanyKey(firstName: first, lastName: last, companyDomain: "acme.com")
            let b = NameNormalizer.nameCompanyKey(firstName: pad + f + pad, lastName: last + pad, companyDomain: " ACME.com ")
            #expect(a != nil)
            #expect(a == b)
        }
    }
}

@Suite struct DomainTests {
    @Test(arguments: [
        ("https://www.Acme.co.uk/about", "acme.co.uk"),
        ("https://shop.acme.co.uk/x", "acme.co.uk"),
        ("acme.com", "acme.com"),
        ("www.acme.com", "acme.com"),
        ("http://user:pw@www2.Acme.com:8080/path?q=1#top", "acme.com"),
        ("//cdn.acme.io/lib.js", "acme.io"),
        ("HTTPS://ACME.COM.", "acme.com"),
        ("https://blog.acme.com.au", "acme.com.au"),
        ("acme.co.jp/ja/", "acme.co.jp"),
        ("https://www.acme.com.br", "acme.com.br"),
        ("acme.com.mx", "acme.com.mx"),
        ("https://acme.co.in", "acme.co.in"),
        ("https://acme.github.io/docs", "acme.github.io"),
        ("bücher.de", "bücher.de"),                          // IDN left as typed
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("https://linkedin.com", "linkedin.com"),            // LinkedIn's own website
        ("  acme.com  ", "acme.com"),
    ])
    func fromWebsite(raw: String, expected: String) throws {
        #expect(try DomainNormalizer.companyDomain(fromWebsite: raw, field: "fields.website") == expected)
    }

    @Test(arguments: ["", "  ", "n/a", "N/A", "null", "https://www.linkedin.com/company/acme", "facebook.com/acme"])
    func noCompanyDomain(raw: String) throws {
        #expect(try DomainNormalizer.companyDomain(fromWebsite: raw, field: "fields.website") == nil)
    }

    @Test(arguments: ["acme", "localhost", "http://", "https://192.168.0.1/", "http://[::1]/", "acme dot com",
                      "www.acme com", "co.uk", "https://co.uk/", "acme..com", "-acme.com", "acme.com:http",
                      "ht!tp://acme.com", "acme.com@", "\u{0}acme.com"])
    func garbageIsInvalid(raw: String) {
        expectEventError(.invalidValue, field: "fields.website") { () throws(EventError) in
            try DomainNormalizer.companyDomain(fromWebsite: raw, field: "fields.website")
        }
    }

    @Test(arguments: [
        ("jane@acme.com", "acme.com"), ("jane@eu.mail.acme.co.uk", "acme.co.uk"), ("JANE@Acme.COM", "acme.com"),
    ])
    func fromEmail(address: String, expected: String) {
        #expect(DomainNormalizer.companyDomain(fromEmail: address) == expected)
    }

    @Test(arguments: ["jane@gmail.com", "jane@googlemail.com", "jane@yahoo.co.uk", "jane@outlook.com", "jane@hotmail.fr",
                      "jane@aol.com", "jane@icloud.com", "jane@me.com", "jane@gmx.de", "jane@web.de", "jane@yandex.ru",
                      "jane@proton.me", "jane@protonmail.com", "jane@example.com", "not-an-email", "jane@localhost"])
    func freeMailAndJunkHaveNoCompanyDomain(address: String) {
        #expect(DomainNormalizer.companyDomain(fromEmail: address) == nil)
    }

    @Test func freeMailList() {
        #expect(DomainNormalizer.isFreeMail(domain: "gmail.com"))
        #expect(DomainNormalizer.isFreeMail(domain: "Hotmail.co.uk"))
        #expect(DomainNormalizer.isFreeMail(domain: "yahoo.com.br"))
        #expect(!DomainNormalizer.isFreeMail(domain: "acme.com"))
        #expect(!DomainNormalizer.isFreeMail(domain: "google.com"))
    }

    static let hosts = Gen.element(of: ["acme.com", "Shop.Acme.co.uk", "www.acme.com.au", "a.b.acme.io", "bücher.de",
                                        "acme.github.io", "WWW.ACME.CO.JP"]).compactMap { $0 }
    static let decorations = Gen.element(of: [("", ""), ("https://", "/"), ("http://www.", "/about?x=1"),
                                              ("  HTTPS://", ":443/path#f  "), ("//", "")]).compactMap { $0 }

    @Test func websiteNormalizationIsIdempotent() async {
        await propertyCheck(count: 300, input: Self.hosts, Self.decorations) { host, decoration throws in
            let once = try #require(try DomainNormalizer.companyDomain(fromWebsite: decoration.0 + host + decoration.1, field: "w"))
            #expect(try DomainNormalizer.companyDomain(fromWebsite: once, field: "w") == once)
            #expect(once == once.lowercased())
            #expect(try DomainNormalizer.companyDomain(fromWebsite: host, field: "w") == once)
        }
    }

    @Test func emailDomainAgreesWithWebsiteDomain() async {
        await propertyCheck(count: 200, input: Self.hosts) { host throws in
            let fromWebsite = try DomainNormalizer.companyDomain(fromWebsite: host, field: "w")
            #expect(DomainNormalizer.companyDomain(fromEmail: "someone@" + host) == fromWebsite)
        }
    }
}

@Suite struct MultiSelectTests {
    @Test(arguments: [
        ("a;b; c", ["a", "b", "c"]),
        ("c;b;a;b", ["a", "b", "c"]),
        (";;  ; ", []),
        ("", []),
        ("Product A ; Product  B;Product A", ["Product A", "Product B"]),
        ("single", ["single"]),
    ])
    func parse(raw: String, expected: [String]) {
        #expect(MultiSelect.parse(raw) == expected)
    }

    @Test func orderAndDuplicatesDoNotMatter() async {
        let values = Gen.element(of: ["alpha", "beta", "gamma", " delta ", "Beta"]).compactMap { $0 }.array(of: 0...8)
        await propertyCheck(count: 200, input: values) { list throws in
            let parsed = MultiSelect.parse(list.joined(separator: ";"))
            #expect(parsed == MultiSelect.parse(list.reversed().joined(separator: ";")))
            #expect(parsed == MultiSelect.parse(MultiSelect.format(parsed)))
            #expect(parsed == parsed.sorted())
            #expect(Set(parsed).count == parsed.count)
        }
    }
}
