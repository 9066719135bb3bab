import CRMModel
import Foundation

/// Why dedup cannot start: a packaging or configuration problem, never an input problem.
public struct DedupError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "dedup: \(message)" }
}

/// Jaro-Winkler similarity (0…1) on Unicode characters; case as given (callers fold first).
public enum JaroWinkler {
    /// Winkler's prefix bonus weight (standard 0.1) over at most 4 leading characters.
    public static func similarity(_ lhs: String, _ rhs: String, prefixScale: Double = 0.1) -> Double {
        let a = Array(lhs), b = Array(rhs)
        if a.isEmpty && b.isEmpty { return 1 }
        if a.isEmpty || b.isEmpty { return 0 }
        if a == b { return 1 }
        let window = max(0, max(a.count, b.count) / 2 - 1)
        var aMatched = [Bool](repeating: false, count: a.count)
        var bMatched = [Bool](repeating: false, count: b.count)
        var matches = 0
        for i in a.indices {
            let lower = max(0, i - window), upper = min(b.count - 1, i + window)
            guard lower <= upper else { continue }
            for j in lower...upper where !bMatched[j] && a[i] == b[j] {
                aMatched[i] = true
                bMatched[j] = true
                matches += 1
                break
            }
        }
        guard matches > 0 else { return 0 }
        var transpositions = 0
        var k = 0
        for i in a.indices where aMatched[i] {
            while !bMatched[k] { k += 1 }
            if a[i] != b[k] { transpositions += 1 }
            k += 1
        }
        let m = Double(matches)
        let jaro = (m / Double(a.count) + m / Double(b.count) + (m - Double(transpositions / 2)) / m) / 3
        var prefix = 0
        while prefix < min(4, a.count, b.count) && a[prefix] == b[prefix] { prefix += 1 }
        return jaro + Double(prefix) * prefixScale * (1 - jaro)
    }
}

/// Given-name equivalences (Bob ~ Robert, Liz ~ Elizabeth) from the committed
/// `Resources/nicknames.csv` (one group per line: canonical name, then its nicknames).
public struct NicknameTable: Sendable {
    /// Group numbers each folded name belongs to.
    private let groups: [String: Set<Int>]

    /// The table from CSV text: `#` comments and blank lines skipped, names lower-cased.
    public init(csv: String) {
        var groups: [String: Set<Int>] = [:]
        var groupNumber = 0
        for line in csv.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            let names = trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            for name in names where !name.isEmpty {
                groups[name, default: []].insert(groupNumber)
            }
            groupNumber += 1
        }
        self.groups = groups
    }

    /// The table shipped in the module's resources.
    public static func bundled() throws(DedupError) -> NicknameTable {
        guard let url = Bundle.module.url(forResource: "nicknames", withExtension: "csv", subdirectory: "Resources")
                ?? Bundle.module.url(forResource: "nicknames", withExtension: "csv")
        else { throw DedupError("nicknames.csv is missing from the Dedup resources") }
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw DedupError("cannot read \(url.path): \(error.localizedDescription)")
        }
        let table = NicknameTable(csv: text)
        guard table.nameCount > 0 else { throw DedupError("\(url.path) holds no names") }
        return table
    }

    /// How many distinct names the table knows.
    public var nameCount: Int { groups.count }

    /// Whether two folded given names are variants of one another (`bob`, `robert`). Distinct
    /// nicknames of one name (`bob`, `rob`) are variants too.
    public func areVariants(_ lhs: String, _ rhs: String) -> Bool {
        guard let left = groups[lhs], let right = groups[rhs] else { return false }
        return !left.isDisjoint(with: right)
    }
}

/// A person's name as dedup compares it: folded first and last name (``NameNormalizer/foldedNamePart(_:blocklist:)``).
public struct PersonName: Sendable, Hashable {
    public var first: String
    public var last: String
    public init(first: String, last: String) {
        self.first = first
        self.last = last
    }

    /// The stored form of ``IdentityKey/Kind`` person names: `"<first>|<last>"`.
    public var key: String { first + "|" + last }

    /// Parses `"<first>|<last>"` or a name-company key `"<first>|<last>|<domain>"`.
    public init?(key: String) {
        let parts = key.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(first: String(parts[0]), last: String(parts[1]))
    }
}

/// Ranks review candidates: nickname table + Jaro-Winkler on names + same company domain.
/// It only ever orders candidates for a person to look at; it never decides a merge.
public struct CandidateScorer: Sendable {
    public let nicknames: NicknameTable
    /// First names at least this similar count as "the same first name" (Salesforce's standard
    /// contact rule uses 85 for first names).
    public var firstNameThreshold: Double = 0.85
    /// Last names at least this similar count as "the same last name" (Salesforce uses 90).
    public var lastNameThreshold: Double = 0.90

    public init(nicknames: NicknameTable) {
        self.nicknames = nicknames
    }

    /// Similarity of two folded first names: exact 1, nickname 0.95, initial 0.8, else Jaro-Winkler.
    public func firstNameSimilarity(_ lhs: String, _ rhs: String) -> Double {
        if lhs == rhs { return 1 }
        if nicknames.areVariants(lhs, rhs) { return 0.95 }
        // "J" vs "John": an initial is consistent, though weak evidence.
        if (lhs.count == 1 && rhs.hasPrefix(lhs)) || (rhs.count == 1 && lhs.hasPrefix(rhs)) { return 0.8 }
        return JaroWinkler.similarity(lhs, rhs)
    }

    /// Whether two folded first names could be one person's (typos, nicknames, initials allowed).
    public func areCompatibleFirstNames(_ lhs: String, _ rhs: String) -> Bool {
        let similarity = firstNameSimilarity(lhs, rhs)
        return similarity >= firstNameThreshold || similarity == 0.8
    }

    /// Whether two names could belong to one person (typos, nicknames, initials allowed).
    public func areCompatible(_ lhs: PersonName, _ rhs: PersonName) -> Bool {
        areCompatibleFirstNames(lhs.first, rhs.first) && JaroWinkler.similarity(lhs.last, rhs.last) >= lastNameThreshold
    }

    /// Score (0…1, 3 decimals) of `candidate` as the person described by `event`, with the reasons.
    public func score(event: CandidateEvidence, candidate: RecordIdentity) -> (score: Double, reasons: [String]) {
        var best = 0.0
        var bestReasons: [String] = []
        let candidateNames = candidate.names
        let candidateDomains = candidate.domains
        let domainScore: Double
        var domainReason: String?
        if let domain = event.companyDomain, !candidateDomains.isEmpty {
            if candidateDomains.contains(domain) {
                domainScore = 1
                domainReason = "same company domain \(domain)"
            } else {
                domainScore = 0
            }
        } else {
            domainScore = 0.5  // unknown on one side: neither for nor against
        }
        for name in candidateNames {
            guard let mine = event.name else { break }
            let first = firstNameSimilarity(mine.first, name.first)
            let last = JaroWinkler.similarity(mine.last, name.last)
            let value = 0.4 * first + 0.4 * last + 0.2 * domainScore
            if value > best {
                best = value
                var reasons: [String] = []
                switch first {
                case 1: reasons.append("same first name")
                case 0.95: reasons.append("nickname \(mine.first)~\(name.first)")
                case 0.8: reasons.append("initial \(mine.first)~\(name.first)")
                default: reasons.append("first name similarity \(Self.rounded(first))")
                }
                reasons.append(last == 1 ? "same last name" : "last name similarity \(Self.rounded(last))")
                bestReasons = reasons
            }
        }
        if candidateNames.isEmpty || event.name == nil { best = 0.2 * domainScore }
        if let domainReason { bestReasons.append(domainReason) }
        // Shared strong identifiers are evidence too (the reason the candidate was found).
        let shared = event.keys.intersection(candidate.keys).filter { $0.kind == .email || $0.kind == .phone }
        for key in shared.sorted(by: { $0.description < $1.description }) {
            best += key.kind == .email ? 0.2 : 0.1
            bestReasons.append("shares \(key.kind.rawValue) \(key.value)")
        }
        return (Self.rounded(min(best, 1)), bestReasons)
    }

    static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

/// What the event says about the person, for scoring candidates.
public struct CandidateEvidence: Sendable, Hashable {
    public var name: PersonName?
    public var companyDomain: String?
    public var keys: Set<IdentityKey>
    public init(name: PersonName?, companyDomain: String?, keys: Set<IdentityKey>) {
        self.name = name
        self.companyDomain = companyDomain
        self.keys = keys
    }
}

extension RecordIdentity {
    /// Person names known for the record (from its person-name and name-company identifiers).
    public var names: Set<PersonName> {
        var names = Set<PersonName>()
        for key in keys where key.kind == .personName || key.kind == .nameCompany {
            if let name = PersonName(key: key.value) { names.insert(name) }
        }
        return names
    }

    /// Company domains known for the record (from name-company keys and account domains).
    public var domains: Set<String> {
        var domains = Set<String>()
        for key in keys {
            switch key {
            case .nameCompany(let value), .lastNameCompany(let value):
                if let domain = value.split(separator: "|", omittingEmptySubsequences: false).last, !domain.isEmpty {
                    domains.insert(String(domain))
                }
            case .companyDomain(let value):
                domains.insert(value)
            default:
                break
            }
        }
        return domains
    }
}
