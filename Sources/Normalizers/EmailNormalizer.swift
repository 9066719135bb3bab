import CRMModel

/// An e-mail address as stored, plus the key it is matched by.
public struct NormalizedEmail: Sendable, Hashable {
    /// Trimmed and lower-cased; what is stored. The owner's address, never rewritten further.
    public let address: String
    /// Provider-aware key for matching (``EmailNormalizer/matchKey(for:)``); nil if blocked.
    public let matchKey: String?

    public init(address: String, matchKey: String?) {
        self.address = address
        self.matchKey = matchKey
    }
}

/// E-mail addresses: validation, the stored form, and the dedup match key (docs/contract.md#normalize).
///
/// Policy (what is accepted):
/// - one `@`; the local part is a dot-atom (RFC 5322 atext and single dots, no leading/trailing
///   dot); quoted local parts (`"john doe"@x.com`) are rejected: no CRM user has one and they
///   are a common sign of a pasted display name;
/// - UTF-8 (RFC 6531) characters are allowed in both parts; IDN domains are left as typed;
/// - lengths in octets per RFC 5321: local ≤ 64, domain ≤ 255, whole address ≤ 254;
/// - the domain has at least two labels, each 1–63 octets of letters, digits and inner hyphens,
///   and a TLD that is not all digits; address literals (`user@[10.0.0.1]`) are rejected;
/// - display forms (`John <john@x.com>`) and `mailto:` are rejected, not repaired.
public enum EmailNormalizer {
    /// trim, lower-case, validate (RFC 5321: local ≤ 64, domain ≤ 255, total ≤ 254, one @, sane domain labels). Invalid → .invalidValue.
    ///
    /// A valid address whose key is blocked (``IdentifierBlocklist``) is returned with a nil
    /// `matchKey`; it is stored but never matched. A bare placeholder such as `n/a` is not an
    /// address at all and throws: callers that treat placeholders as absent check
    /// ``IdentifierBlocklist/isBlocked(value:)`` first.
    public static func normalize(_ raw: String, field: String, blocklist: IdentifierBlocklist) throws(EventError) -> NormalizedEmail {
        let address = Text.trim(raw).lowercased()
        try validate(address, field: field)
        let key = matchKey(for: address)
        return NormalizedEmail(address: address, matchKey: blocklist.isBlocked(emailMatchKey: key) ? nil : key)
    }

    /// Gmail/googlemail (googlemail → gmail.com, drop dots and +tag), Outlook family (outlook/hotmail/live/msn, incl. country variants you know) and iCloud/me/mac: drop +tag; custom domains untouched.
    ///
    /// Total: any string gives a key (trimmed and lower-cased first, so the key does not depend
    /// on case or surrounding whitespace). Domains are never merged across a family
    /// (`hotmail.com` and `outlook.com` are different mailboxes; so are `me.com` and
    /// `icloud.com` for accounts created after 2012).
    public static func matchKey(for normalizedAddress: String) -> String {
        let address = Text.trim(normalizedAddress).lowercased()
        guard let at = address.lastIndex(of: "@") else { return address }
        var local = String(address[..<at])
        var domain = String(address[address.index(after: at)...])
        let provider = Provider.of(domain: domain)
        if provider != .other, let plus = local.firstIndex(of: "+"), plus != local.startIndex {
            local = String(local[..<plus])
        }
        if provider == .gmail {
            let undotted = local.filter { $0 != "." }
            if !undotted.isEmpty { local = undotted }
            domain = "gmail.com"
        }
        return local + "@" + domain
    }

    /// Whether a string (already normalized or not) is a valid address under this policy.
    public static func isValid(_ address: String) -> Bool {
        (try? validate(Text.trim(address).lowercased(), field: "")) != nil
    }

    /// Providers whose mailbox aliasing rules the match key knows.
    enum Provider {
        case gmail, plusTagOnly, other

        static func of(domain: String) -> Provider {
            if domain == "gmail.com" || domain == "googlemail.com" { return .gmail }
            if outlookFamily.contains(domain) || appleDomains.contains(domain) { return .plusTagOnly }
            return .other
        }
    }

    /// Microsoft consumer mail domains (all support `+tag` sub-addressing).
    static let outlookFamily: Set<String> = {
        var set: Set<String> = ["outlook.com", "hotmail.com", "live.com", "msn.com", "windowslive.com", "passport.com", "passport.net"]
        let countries = ["at", "be", "ca", "cl", "cz", "de", "dk", "es", "fi", "fr", "gr", "hu", "ie", "in", "it", "jp",
                         "kr", "lv", "lt", "nl", "no", "pl", "pt", "ro", "ru", "se", "sg", "sk", "ch", "my", "ph", "sa", "vn"]
        for cc in countries {
            set.insert("outlook.\(cc)"); set.insert("hotmail.\(cc)"); set.insert("live.\(cc)")
        }
        for sld in ["co.uk", "com.au", "com.br", "com.mx", "co.jp", "co.in", "co.nz", "co.za", "com.ar", "co.id",
                    "co.th", "com.tr", "com.sg", "co.il", "com.my", "com.ph", "com.vn", "com.pe", "com.hk", "com.tw"] {
            set.insert("outlook.\(sld)"); set.insert("hotmail.\(sld)"); set.insert("live.\(sld)")
        }
        return set
    }()

    /// Apple iCloud domains (all support `+tag`).
    static let appleDomains: Set<String> = ["icloud.com", "me.com", "mac.com"]

    private static func validate(_ address: String, field: String) throws(EventError) {
        guard !address.isEmpty else { throw .invalid(field, "empty e-mail address") }
        let octets = address.utf8.count
        guard octets <= 254 else { throw .invalid(field, "e-mail address is \(octets) octets long; the limit is 254") }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw .invalid(field, parts.count == 1
                ? "not an e-mail address (no '@'): \(Text.quote(address))"
                : "e-mail address has more than one '@': \(Text.quote(address))")
        }
        let local = parts[0], domain = parts[1]
        guard !local.isEmpty else { throw .invalid(field, "e-mail address has an empty local part: \(Text.quote(address))") }
        guard local.utf8.count <= 64 else { throw .invalid(field, "e-mail local part exceeds 64 octets") }
        guard !domain.isEmpty else { throw .invalid(field, "e-mail address has an empty domain: \(Text.quote(address))") }
        guard domain.utf8.count <= 255 else { throw .invalid(field, "e-mail domain exceeds 255 octets") }

        // Local part: dot-atom of atext (plus UTF-8 per RFC 6531).
        guard local.first != ".", local.last != ".", !local.contains("..") else {
            throw .invalid(field, "e-mail local part has a leading, trailing or double dot: \(Text.quote(address))")
        }
        for scalar in local.unicodeScalars where !isAtext(scalar) && scalar != "." {
            throw .invalid(field, "e-mail local part contains \(Text.quote(String(scalar))): \(Text.quote(address))")
        }

        // Domain: LDH labels (non-ASCII allowed for IDN as typed), no literal, a real TLD.
        guard !domain.hasPrefix("[") else { throw .invalid(field, "e-mail address literals are not accepted: \(Text.quote(address))") }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { throw .invalid(field, "e-mail domain needs at least two labels: \(Text.quote(address))") }
        for label in labels {
            guard !label.isEmpty else { throw .invalid(field, "e-mail domain has an empty label: \(Text.quote(address))") }
            guard label.utf8.count <= 63 else { throw .invalid(field, "e-mail domain label exceeds 63 octets") }
            guard label.first != "-", label.last != "-" else {
                throw .invalid(field, "e-mail domain label starts or ends with '-': \(Text.quote(address))")
            }
            for scalar in label.unicodeScalars where !isDomainScalar(scalar) {
                throw .invalid(field, "e-mail domain contains \(Text.quote(String(scalar))): \(Text.quote(address))")
            }
        }
        if let tld = labels.last, tld.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw .invalid(field, "e-mail domain has a numeric top-level label: \(Text.quote(address))")
        }
    }

    /// RFC 5322 atext, extended with any non-ASCII scalar that is not whitespace or control.
    static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            if (0x30...0x39).contains(v) || (0x61...0x7A).contains(v) || (0x41...0x5A).contains(v) { return true }
            return "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(scalar)
        }
        return isVisibleNonASCII(scalar)
    }

    static func isDomainScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (0x30...0x39).contains(v) || (0x61...0x7A).contains(v) || (0x41...0x5A).contains(v) || scalar == "-"
        }
        return isVisibleNonASCII(scalar)
    }

    private static func isVisibleNonASCII(_ scalar: Unicode.Scalar) -> Bool {
        let props = scalar.properties
        if props.isWhitespace || props.isNoncharacterCodePoint { return false }
        switch props.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }
}
