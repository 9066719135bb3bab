import CRMModel

/// Company domains, the key accounts are matched by (docs/contract.md#entities-and-actions: an
/// account is a company, matched by its normalized domain). Always the registrable domain: `shop.acme.co.uk` → `acme.co.uk`.
public enum DomainNormalizer {
    /// Company domain from an email address: nil for free-mail providers (gmail, yahoo, outlook, hotmail, aol, icloud, gmx, web.de, yandex, proton, ... a committed list).
    ///
    /// Also nil for anything that is not an address with a valid domain, and for reserved or
    /// placeholder domains of ``IdentifierBlocklist/default`` (`example.com`, `*.test`): none of
    /// those names a company.
    public static func companyDomain(fromEmail normalizedAddress: String) -> String? {
        let address = Text.trim(normalizedAddress).lowercased()
        guard let at = address.lastIndex(of: "@") else { return nil }
        let host = String(address[address.index(after: at)...])
        guard validateHost(host) == nil, let registrable = registrableDomain(host) else { return nil }
        if isFreeMail(domain: host) || isFreeMail(domain: registrable) { return nil }
        if IdentifierBlocklist.default.isBlocked(emailMatchKey: "company@" + registrable) { return nil }
        return registrable
    }

    /// From a website: strip scheme, credentials, port, path, query, `www.`; lower-case; IDN left as is. Reduce to the registrable domain using a committed public-suffix subset (co.uk, com.au, co.jp, com.br, com.mx, co.in, ... plus generic TLDs), so "https://shop.acme.co.uk/x" → "acme.co.uk". Garbage → .invalidValue.
    ///
    /// nil (no company domain, not an error) for an empty or placeholder value (`n/a`) and for a
    /// profile page on a social or hosting platform (`linkedin.com/company/acme`): that domain is
    /// the platform's, not the company's. Free-mail domains given as a website are kept: the
    /// website field is explicit, unlike an employee's personal address.
    /// Garbage (spaces inside the host, IP addresses, a single label, a bare public suffix such as
    /// `co.uk`, bad characters) is `EventError(.invalidValue)` naming `field`.
    public static func companyDomain(fromWebsite raw: String, field: String) throws(EventError) -> String? {
        let text = Text.trim(raw)
        if text.isEmpty || IdentifierBlocklist.default.isBlocked(value: text) { return nil }
        var rest = Substring(text.lowercased())
        // Scheme: "https://", or protocol-relative "//".
        if let range = rest.range(of: "://") {
            let scheme = rest[..<range.lowerBound]
            guard let first = scheme.first, first.isASCII, first.isLetter,
                  scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) })
            else { throw .invalid(field, "website has a malformed scheme: \(Text.quote(text))") }
            rest = rest[range.upperBound...]
        } else if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
        }
        // Authority ends at the path, query or fragment.
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0 == "\\" }) ?? rest.endIndex
        let hasPath = rest[authorityEnd...].contains(where: { $0 != "/" })
        var host = rest[..<authorityEnd]
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        if host.hasPrefix("[") { throw .invalid(field, "website is an IP address, not a domain: \(Text.quote(text))") }
        if let colon = host.firstIndex(of: ":") {
            let port = host[host.index(after: colon)...]
            guard port.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw .invalid(field, "website has a malformed port: \(Text.quote(text))")
            }
            host = host[..<colon]
        }
        while host.hasSuffix(".") { host = host.dropLast() }
        var hostName = String(host)
        if let problem = validateHost(hostName) {
            throw .invalid(field, "website has no valid domain (\(problem)): \(Text.quote(text))")
        }
        if let www = hostName.firstRange(of: "."), isWWWLabel(hostName[..<www.lowerBound]) {
            hostName = String(hostName[www.upperBound...])
        }
        guard let registrable = registrableDomain(hostName) else {
            throw .invalid(field, "website is a public suffix, not a company domain: \(Text.quote(text))")
        }
        if hasPath, profilePlatforms.contains(registrable) { return nil }
        return registrable
    }

    /// Whether a domain (or its registrable part) is a consumer mail provider.
    public static func isFreeMail(domain: String) -> Bool {
        let host = Text.trim(domain).lowercased()
        if freeMailDomains.contains(host) || EmailNormalizer.outlookFamily.contains(host) { return true }
        if let registrable = registrableDomain(host), registrable != host {
            return freeMailDomains.contains(registrable) || EmailNormalizer.outlookFamily.contains(registrable)
        }
        return false
    }

    /// The registrable domain ("eTLD+1") of a lower-case host under the committed suffix list:
    /// the longest listed multi-label suffix, else the TLD, plus one label. nil if the host is
    /// itself a public suffix or has a single label.
    public static func registrableDomain(_ host: String) -> String? {
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, !labels.contains(where: \.isEmpty) else { return nil }
        var suffixLength = 1
        for length in stride(from: min(3, labels.count), through: 2, by: -1) {
            if multiLabelSuffixes.contains(labels.suffix(length).joined(separator: ".")) {
                suffixLength = length
                break
            }
        }
        guard labels.count > suffixLength else { return nil }
        return labels.suffix(suffixLength + 1).joined(separator: ".")
    }

    private static func isWWWLabel(_ label: Substring) -> Bool {
        // "www", "www2", "ww3": web-server labels, not part of the company's name.
        guard label.hasPrefix("ww") else { return false }
        let tail = label.drop(while: { $0 == "w" })
        return label.count - tail.count <= 3 && tail.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// nil if the host is a plausible DNS name; otherwise what is wrong with it.
    static func validateHost(_ host: String) -> String? {
        guard !host.isEmpty else { return "empty host" }
        guard host.utf8.count <= 253 else { return "host longer than 253 octets" }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return "a single label" }
        for label in labels {
            guard !label.isEmpty else { return "an empty label" }
            guard label.utf8.count <= 63 else { return "a label longer than 63 octets" }
            guard label.first != "-", label.last != "-" else { return "a label starting or ending with '-'" }
            guard label.unicodeScalars.allSatisfy({ EmailNormalizer.isDomainScalar($0) || $0 == "_" }) else {
                return "characters not allowed in a domain"
            }
        }
        if let tld = labels.last, tld.allSatisfy({ $0.isASCII && $0.isNumber }) { return "an IP address" }
        return nil
    }

    /// Multi-label public suffixes (ICANN second-level registries and the hosting platforms whose
    /// subdomains belong to different owners). Single-label TLDs need no entry: every TLD is a suffix.
    static let multiLabelSuffixes: Set<String> = {
        var set = Set<String>()
        let registries: [String: [String]] = [
            "uk": ["co", "org", "me", "ltd", "plc", "net", "sch", "ac", "gov", "nhs", "police"],
            "au": ["com", "net", "org", "edu", "gov", "asn", "id"],
            "jp": ["co", "ne", "or", "ac", "go", "gr", "ad", "ed", "lg"],
            "br": ["com", "net", "org", "gov", "edu", "art", "ind", "eng", "adv", "blog", "tv", "app"],
            "mx": ["com", "net", "org", "gob", "edu"],
            "in": ["co", "net", "org", "firm", "gen", "ind", "ac", "edu", "gov", "res"],
            "nz": ["co", "net", "org", "govt", "ac", "school"],
            "za": ["co", "org", "net", "gov", "ac", "edu"],
            "cn": ["com", "net", "org", "gov", "edu", "ac"],
            "hk": ["com", "net", "org", "gov", "edu"],
            "tw": ["com", "net", "org", "gov", "edu"],
            "sg": ["com", "net", "org", "gov", "edu"],
            "my": ["com", "net", "org", "gov", "edu"],
            "ph": ["com", "net", "org", "gov", "edu"],
            "id": ["co", "or", "ac", "go", "web"],
            "th": ["co", "or", "ac", "go", "in"],
            "vn": ["com", "net", "org", "gov", "edu"],
            "kr": ["co", "or", "ne", "ac", "go", "re"],
            "il": ["co", "org", "net", "ac", "gov"],
            "tr": ["com", "net", "org", "gov", "edu", "gen"],
            "ar": ["com", "net", "org", "gob", "edu"],
            "co": ["com", "net", "org", "gov", "edu"],
            "pe": ["com", "net", "org", "gob", "edu"],
            "ve": ["com", "net", "org", "gob"],
            "ec": ["com", "net", "org", "gob"],
            "uy": ["com", "net", "org", "gub"],
            "ng": ["com", "net", "org", "gov", "edu"],
            "ke": ["co", "or", "ne", "ac", "go"],
            "eg": ["com", "net", "org", "gov", "edu"],
            "sa": ["com", "net", "org", "gov", "edu"],
            "ae": ["co", "net", "org", "gov", "ac"],
            "pk": ["com", "net", "org", "gov", "edu"],
            "bd": ["com", "net", "org", "gov", "edu"],
            "ua": ["com", "net", "org", "gov", "edu"],
            "pl": ["com", "net", "org", "gov", "edu", "biz", "info"],
            "at": ["co", "or", "gv", "ac"],
            "es": ["com", "nom", "org", "gob", "edu"],
            "fr": ["gouv", "asso", "nom", "presse", "com"],
            "it": ["gov", "edu"],
            "be": ["ac"],
            "gr": ["com", "net", "org", "gov", "edu"],
            "ru": ["com", "net", "org"],
            "cy": ["com", "net", "org", "gov", "ac"],
            "mt": ["com", "net", "org", "gov", "edu"],
        ]
        for (tld, seconds) in registries {
            for second in seconds { set.insert("\(second).\(tld)") }
        }
        set.formUnion([
            // Platforms whose customers each own a subdomain.
            "github.io", "gitlab.io", "herokuapp.com", "netlify.app", "vercel.app", "pages.dev", "workers.dev",
            "blogspot.com", "wordpress.com", "wixsite.com", "myshopify.com", "squarespace.com", "webflow.io",
            "azurewebsites.net", "cloudfront.net", "appspot.com", "web.app", "firebaseapp.com", "fly.dev",
            "onrender.com", "carrd.co", "notion.site", "framer.website", "hubspotpagebuilder.com",
        ])
        return set
    }()

    /// Hosts whose paths are other people's pages: a website there names no company domain.
    static let profilePlatforms: Set<String> = [
        "linkedin.com", "facebook.com", "fb.com", "twitter.com", "x.com", "instagram.com", "youtube.com",
        "youtu.be", "tiktok.com", "github.com", "gitlab.com", "medium.com", "crunchbase.com", "angel.co",
        "wellfound.com", "google.com", "goo.gl", "bit.ly", "linktr.ee", "yelp.com", "xing.com", "pinterest.com",
    ]

    /// Consumer (free) mail providers: an address there says nothing about the person's employer.
    /// Microsoft's consumer domains come from ``EmailNormalizer/outlookFamily``.
    static let freeMailDomains: Set<String> = {
        var set: Set<String> = [
            "gmail.com", "googlemail.com",
            "yahoo.com", "ymail.com", "rocketmail.com", "aol.com", "aim.com", "aol.co.uk", "aol.de", "aol.fr",
            "icloud.com", "me.com", "mac.com",
            "gmx.de", "gmx.net", "gmx.com", "gmx.at", "gmx.ch", "gmx.fr", "gmx.co.uk", "web.de", "t-online.de",
            "freenet.de", "arcor.de", "posteo.de", "mailbox.org",
            "yandex.ru", "yandex.com", "yandex.ua", "yandex.by", "yandex.kz", "ya.ru", "mail.ru", "bk.ru",
            "inbox.ru", "list.ru", "rambler.ru",
            "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "tutanota.com", "tutanota.de", "tuta.io",
            "tutamail.com", "zoho.com", "zohomail.com", "mail.com", "email.com", "usa.com", "fastmail.com",
            "fastmail.fm", "hey.com", "hushmail.com", "gmx.us", "inbox.com", "lycos.com",
            "qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com",
            "naver.com", "daum.net", "hanmail.net", "nate.com",
            "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr", "neuf.fr", "bbox.fr",
            "libero.it", "virgilio.it", "tiscali.it", "alice.it", "tim.it", "tin.it",
            "btinternet.com", "sky.com", "virginmedia.com", "talktalk.net", "ntlworld.com", "blueyonder.co.uk",
            "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net", "charter.net",
            "earthlink.net", "optonline.net", "juno.com", "frontier.com", "windstream.net",
            "shaw.ca", "rogers.com", "sympatico.ca", "videotron.ca",
            "bigpond.com", "bigpond.net.au", "optusnet.com.au", "iinet.net.au",
            "uol.com.br", "bol.com.br", "terra.com.br", "ig.com.br",
            "prodigy.net.mx", "rediffmail.com", "sify.com",
            "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl",
            "ziggo.nl", "kpnmail.nl", "planet.nl", "hetnet.nl", "home.nl", "telenet.be", "skynet.be",
            "bluewin.ch", "hispeed.ch", "terra.es", "telefonica.net",
            "docomo.ne.jp", "ezweb.ne.jp", "softbank.ne.jp", "i.softbank.jp",
            // Disposable inboxes.
            "mailinator.com", "guerrillamail.com", "10minutemail.com", "temp-mail.org", "yopmail.com",
            "trashmail.com", "sharklasers.com", "getnada.com",
        ]
        for suffix in ["co.uk", "fr", "de", "es", "it", "co.jp", "com.br", "com.mx", "co.in", "in", "com.au", "ca",
                       "com.ar", "co.id", "com.sg", "com.ph", "com.tw", "com.hk", "gr", "ie", "se", "dk", "no",
                       "fi", "nl", "be", "pl", "co.nz", "co.za", "com.vn", "com.my", "co.th", "cl", "com.co", "com.pe"] {
            set.insert("yahoo.\(suffix)")
        }
        return set
    }()
}
