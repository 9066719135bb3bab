/// Identifier values that must never serve as match keys (docs/contract.md#normalize): placeholders people type
/// into required CRM fields (`test@test.com`, `null`, `n/a`, `unknown`), reserved test domains,
/// and dummy phone numbers (all zeros, all the same digit).
///
/// A blocked value is still stored as typed; it only never joins two records. Matching is case-
/// and whitespace-insensitive everywhere. The shipped ``default`` list can be extended from config
/// (`config/blocked-identifiers.yml`) with ``adding(emails:values:)`` and
/// ``adding(emailLocalParts:emailDomains:phoneNumbers:)``.
public struct IdentifierBlocklist: Sendable, Hashable {
    /// Whole e-mail addresses (compared with the match key, so `Test+x@Test.com` hits `test@test.com`).
    public private(set) var emails: Set<String>
    /// Placeholder values for any identifier field (`null`, `n/a`, `unknown`, `-`, …).
    public private(set) var values: Set<String>
    /// Local parts blocked at every domain (`noemail@acme.com`, `donotreply@…`).
    public private(set) var emailLocalParts: Set<String>
    /// Domains whose every address is blocked, including their subdomains (`example.com`, `test`).
    public private(set) var emailDomains: Set<String>
    /// Phone numbers in E.164 (`+15555555555`) that are known dummies.
    public private(set) var phoneNumbers: Set<String>

    /// The shipped list. Conservative: only values that are never a real person's identifier.
    public static let `default` = IdentifierBlocklist(
        emails: [
            "test@test.com", "test@example.com", "noemail@noemail.com", "no@email.com", "none@none.com",
            "email@email.com", "a@a.com", "asdf@asdf.com", "abc@abc.com", "na@na.com", "xxx@xxx.com",
            "user@domain.com", "name@domain.com", "email@domain.com", "test@gmail.com", "noreply@gmail.com",
            "nobody@nowhere.com", "unknown@unknown.com", "null@null.com", "none@gmail.com",
        ],
        values: [
            "null", "nil", "none", "n/a", "n.a.", "n.a", "#n/a", "-", "--", "---", ".", "?", "??", "???", "0",
            "unknown", "not known", "not provided", "not available", "not applicable", "no email", "noemail",
            "no phone", "nophone", "tbd", "tba", "test", "testing", "xxx", "asdf", "undefined", "blank", "empty",
            "declined", "refused", "do not use", "dnc",
        ],
        emailLocalParts: [
            "noemail", "no-email", "no.email", "no_email", "nomail", "no-mail", "none", "null", "unknown", "na",
            "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply", "dontreply",
            "test", "testing", "dummy", "fake", "asdf", "xxx", "invalid", "nobody",
        ],
        emailDomains: [
            // RFC 2606 / RFC 6761 reserved names: never a real mailbox.
            "example.com", "example.net", "example.org", "example", "test", "invalid", "localhost",
            // Placeholder domains seen in CRM imports.
            "noemail.com", "nomail.com", "none.com", "email.invalid", "domain.com", "test.com", "fake.com",
            "mailinator.com",
        ],
        phoneNumbers: [
            // NANP fictional directory-assistance and popular dummies.
            "+15555555555", "+11234567890", "+10123456789", "+19999999999", "+18005555555",
            "+441234567890", "+491234567890", "+331234567890",
        ])

    /// A list of whole e-mail addresses and placeholder values (case- and whitespace-insensitive).
    public init(emails: Set<String>, values: Set<String>) {
        self.init(emails: emails, values: values, emailLocalParts: [], emailDomains: [], phoneNumbers: [])
    }

    /// The full form: also local parts blocked at any domain, whole domains, and E.164 numbers.
    public init(emails: Set<String>, values: Set<String>, emailLocalParts: Set<String>,
                emailDomains: Set<String>, phoneNumbers: Set<String>) {
        self.emails = Set(emails.map { EmailNormalizer.matchKey(for: $0) })
        self.values = Set(values.map(Self.valueKey))
        self.emailLocalParts = Set(emailLocalParts.map(Self.valueKey))
        self.emailDomains = Set(emailDomains.map { Self.valueKey($0).trimmingDots })
        self.phoneNumbers = Set(phoneNumbers.map(Self.phoneKey))
    }

    /// This list plus more whole addresses and placeholder values.
    public func adding(emails: some Sequence<String>, values: some Sequence<String>) -> IdentifierBlocklist {
        var copy = self
        copy.emails.formUnion(emails.map { EmailNormalizer.matchKey(for: $0) })
        copy.values.formUnion(values.map(Self.valueKey))
        return copy
    }

    /// This list plus more local parts, domains and phone numbers.
    public func adding(emailLocalParts: some Sequence<String> = [String](), emailDomains: some Sequence<String> = [String](),
                       phoneNumbers: some Sequence<String> = [String]()) -> IdentifierBlocklist {
        var copy = self
        copy.emailLocalParts.formUnion(emailLocalParts.map(Self.valueKey))
        copy.emailDomains.formUnion(emailDomains.map { Self.valueKey($0).trimmingDots })
        copy.phoneNumbers.formUnion(phoneNumbers.map(Self.phoneKey))
        return copy
    }

    /// Whether an e-mail match key (or any address: it is keyed again first) is blocked: a listed
    /// address, a placeholder value, a blocked local part (before any `+tag`), or a blocked domain
    /// or one of its subdomains.
    public func isBlocked(emailMatchKey: String) -> Bool {
        let key = EmailNormalizer.matchKey(for: emailMatchKey)
        if emails.contains(key) || values.contains(Self.valueKey(emailMatchKey)) { return true }
        guard let at = key.lastIndex(of: "@") else { return false }
        let local = String(key[..<at])
        let baseLocal = local.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? local
        if emailLocalParts.contains(local) || emailLocalParts.contains(baseLocal) { return true }
        var domain = Substring(key[key.index(after: at)...])
        while true {
            if emailDomains.contains(String(domain)) { return true }
            guard let dot = domain.firstIndex(of: ".") else { return false }
            domain = domain[domain.index(after: dot)...]
        }
    }

    /// Whether a raw identifier value is a placeholder (`null`, ` N/A `, `Unknown`, …).
    /// Callers may treat such a value as absent rather than as an invalid identifier.
    public func isBlocked(value: String) -> Bool {
        values.contains(Self.valueKey(value))
    }

    /// Whether an E.164 number is blocked: listed, or a dummy whose national digits are all the
    /// same digit (`+1 000 000 0000`, `+44 7777 777777`), or a placeholder value.
    public func isBlocked(phoneE164 e164: String, nationalNumber: String? = nil) -> Bool {
        if phoneNumbers.contains(Self.phoneKey(e164)) || values.contains(Self.valueKey(e164)) { return true }
        if let national = nationalNumber, let first = national.first, national.allSatisfy({ $0 == first }) {
            return true
        }
        return false
    }

    /// Lower-cased, whitespace-collapsed: the form placeholder values are compared in.
    static func valueKey(_ raw: String) -> String {
        Text.collapseWhitespace(raw).lowercased()
    }

    /// `+` and digits only, so "+1 (555) 555-5555" and "+15555555555" compare equal.
    static func phoneKey(_ raw: String) -> String {
        "+" + raw.filter { $0.isASCII && $0.isNumber }
    }
}

extension String {
    fileprivate var trimmingDots: String {
        var text = Substring(self)
        while text.hasPrefix(".") { text = text.dropFirst() }
        while text.hasSuffix(".") { text = text.dropLast() }
        return String(text)
    }
}
