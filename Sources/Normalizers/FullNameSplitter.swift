/// Splits a full name (Stripe's customer `name`, Segment's reserved `name` trait) into a first
/// and a last name, keeping the casing as typed.
///
/// The rule, in order:
/// - `Last, First` (one comma): the part before the comma is the last name.
/// - Otherwise the last word is the last name, together with the lower-case particles just before
///   it (`van der Berg`, `de la Cruz`, `bin Said`) and with a generational suffix after it
///   (`King Jr.`, `Gates III`); every word before that is the first name (`Mary Jane`).
/// - A name that cannot be split is kept whole as the **last name** with no first name: one word
///   (`Cher`), or a name in a script written family name first (Han, Kana, Hangul: `山田 太郎`,
///   where word order does not say which part is which). CRMs require a last name (Salesforce's
///   `LastName`), so that is where such a name goes, and no part is guessed.
public enum FullNameSplitter {
    /// First and last name; `first` is nil when the name cannot be split (see the type's rule).
    public struct Parts: Sendable, Hashable {
        public var first: String?
        public var last: String

        public init(first: String?, last: String) {
            self.first = first
            self.last = last
        }
    }

    static let particles: Set<String> = [
        "van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "la", "le", "bin", "ibn", "al", "ter", "ten", "zu", "y",
    ]
    static let suffixes: Set<String> = ["jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "ph.d.", "md", "m.d."]

    /// The parts of `raw`, nil when it is blank.
    public static func split(_ raw: String) -> Parts? {
        guard let name = NameNormalizer.normalize(raw) else { return nil }
        if name.unicodeScalars.contains(where: isFamilyNameFirstScript) { return Parts(first: nil, last: name) }
        let commaParts = name.split(separator: ",", omittingEmptySubsequences: false)
            .map { NameNormalizer.normalize(String($0)) }
        if commaParts.count == 2, let last = commaParts[0], let first = commaParts[1], !suffixes.contains(first.lowercased()) {
            return Parts(first: first, last: last)
        }
        var words = name.split(separator: " ").map(String.init)
        guard words.count > 1 else { return Parts(first: nil, last: name) }
        var lastWords: [String] = []
        if let final = words.last, suffixes.contains(final.lowercased().trimmingSuffix(",")), words.count > 2 {
            lastWords.insert(words.removeLast(), at: 0)
        }
        lastWords.insert(words.removeLast(), at: 0)
        // Particles are written in lower case when they belong to the surname ("van Gogh").
        while words.count > 1, let word = words.last, word == word.lowercased(), particles.contains(word) {
            lastWords.insert(words.removeLast(), at: 0)
        }
        let first = words.joined(separator: " ").trimmingSuffix(",")
        let last = lastWords.joined(separator: " ")
        guard !first.isEmpty else { return Parts(first: nil, last: name) }
        return Parts(first: first, last: last)
    }
}

/// Han ideographs, Hiragana, Katakana, Hangul (and their compatibility / extension blocks).
private func isFamilyNameFirstScript(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x3040...0x30FF, 0x31F0...0x31FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7AF, 0x1100...0x11FF,
         0x3130...0x318F, 0xF900...0xFAFF, 0xFF66...0xFF9F, 0x20000...0x2FA1F:
        return true
    default:
        return false
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
