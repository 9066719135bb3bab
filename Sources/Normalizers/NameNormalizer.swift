import Foundation

/// Person names: tidy whitespace, never re-case (docs/contract.md#normalize: "McDonald", "van der Berg", "O'Neil"
/// and "DJ" stay as typed).
public enum NameNormalizer {
    /// Trim, collapse inner whitespace (incl. tabs, NBSP, newlines) to one space, keep casing as typed. nil when empty.
    ///
    /// Also drops zero-width spaces and BOMs, and composes to Unicode NFC so that an "é" typed as
    /// `e` + combining accent is stored like a precomposed one (same bytes, same hash downstream).
    public static func normalize(_ raw: String) -> String? {
        let collapsed = Text.collapseWhitespace(raw).precomposedStringWithCanonicalMapping
        return collapsed.isEmpty ? nil : collapsed
    }

    /// Key for tier-4 matching: first+last (case-folded, diacritics folded) + company domain; nil when any part missing/blocked.
    ///
    /// Uses ``IdentifierBlocklist/default`` for placeholders (`Unknown`, `N/A`, `test`).
    public static func nameCompanyKey(firstName: String?, lastName: String?, companyDomain: String?) -> String? {
        nameCompanyKey(firstName: firstName, lastName: lastName, companyDomain: companyDomain, blocklist: .default)
    }

    /// Tier-4 key with an explicit blocklist: `"<first>|<last>|<domain>"`.
    ///
    /// Folding: case (full case folding, so "ß" ~ "ss"), diacritics ("José" ~ "Jose"), width;
    /// apostrophes and periods dropped ("O’Brien" ~ "OBrien", "J.R." ~ "JR"), hyphens read as spaces
    /// ("Mary-Jane" ~ "Mary Jane"). Tier 4 only ever raises a review request, so a slightly loose
    /// key costs a person a click, never a wrong merge. A free-mail or empty domain gives nil.
    public static func nameCompanyKey(firstName: String?, lastName: String?, companyDomain: String?,
                                      blocklist: IdentifierBlocklist) -> String? {
        guard let first = foldedNamePart(firstName, blocklist: blocklist),
              let last = foldedNamePart(lastName, blocklist: blocklist),
              let rawDomain = companyDomain
        else { return nil }
        let domain = Text.trim(rawDomain).lowercased()
        guard !domain.isEmpty, domain.contains("."), !DomainNormalizer.isFreeMail(domain: domain),
              !blocklist.isBlocked(value: domain)
        else { return nil }
        return first + "|" + last + "|" + domain
    }

    /// The folded form of one name part used by ``nameCompanyKey(firstName:lastName:companyDomain:)``.
    public static func foldedNamePart(_ raw: String?, blocklist: IdentifierBlocklist = .default) -> String? {
        guard let raw, let name = normalize(raw), !blocklist.isBlocked(value: name) else { return nil }
        let folded = name.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        var kept = ""
        for character in folded {
            switch character {
            case "'", "’", "‘", "`", "´", "ʼ", ".", "|": continue
            case "-", "‐", "‑", "–", "—", "_": kept.append(" ")
            default: kept.append(character)
            }
        }
        let result = Text.collapseWhitespace(kept).lowercased()
        return result.isEmpty ? nil : result
    }
}
