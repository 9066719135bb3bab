import Foundation

/// Person names: tidy whitespace, never re-case (docs/contract.md#normalize: "McDonald", "van der Berg", "O'Neil"
/// and "DJ" stay as typed).
public enum NameNormalizer {
    /// Trim, collapse inner whitespace (incl. tabs, NBSP, newlines) to one space, keep casing as typed. nil when empty.
    ///
    /// Also drops zero-width spaces and BOMs, and composes to Unicode NFC so that an "é" typed as
    /// `e` + combining accent is stored like a precomposed one (same bytes, same hash downstream).
    public static func normalize(_ raw: String) -> String? {
        let collapsed = Text.collapseWhitespace(raw)
        // Foundation's NFC costs a bridge and a copy; most names are already NFC by their range.
        let composed = Text.isTriviallyNFC(collapsed) ? collapsed : collapsed.precomposedStringWithCanonicalMapping
        return composed.isEmpty ? nil : composed
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
        let result = foldedASCII(name) ?? foldedByCharacter(name)
        return result.isEmpty ? nil : result
    }

    /// The fold of a normalized name, character by character (any script).
    static func foldedByCharacter(_ name: String) -> String {
        let folded = name.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        var kept = ""
        for character in folded {
            switch character {
            case "'", "’", "‘", "`", "´", "ʼ", ".", "|": continue
            case "-", "‐", "‑", "–", "—", "_": kept.append(" ")
            default: kept.append(character)
            }
        }
        return Text.collapseWhitespace(kept).lowercased()
    }

    /// ``foldedByCharacter(_:)`` of an all-ASCII name in one pass over its bytes (folding ASCII
    /// only lower-cases it); nil for any non-ASCII byte.
    static func foldedASCII(_ name: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.utf8.count)
        var pendingSpace = false
        for byte in name.utf8 {
            switch byte {
            case 0x80...: return nil
            case UInt8(ascii: "'"), UInt8(ascii: "`"), UInt8(ascii: "."), UInt8(ascii: "|"):
                continue
            case UInt8(ascii: "-"), UInt8(ascii: "_"):
                pendingSpace = !bytes.isEmpty
            case _ where Text.isASCIISpace(byte):
                pendingSpace = !bytes.isEmpty
            default:
                if pendingSpace { bytes.append(0x20) }
                pendingSpace = false
                let isUpper = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
                bytes.append(isUpper ? byte + 0x20 : byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
