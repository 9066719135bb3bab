import CRMModel
import Dedup
import Foundation
import SeededRandom
import Normalizers
import Store
import Testing

/// A labelled synthetic population: several thousand people, each in 1–4 systems with the noise
/// real CRM data has, run through the real normalizers, the resolver and a real SQLite store.
@Suite("Synthetic population")
struct PopulationTests {
    static let firstNames = [
        "Robert", "William", "Elizabeth", "Margaret", "Katherine", "James", "John", "Michael", "Richard", "Thomas",
        "Jennifer", "Patricia", "Christopher", "Daniel", "Matthew", "Anthony", "Joseph", "Charles", "Susan", "Rebecca",
        "Alexander", "Nicholas", "Jonathan", "Samantha", "Victoria", "Jessica", "Andrew", "Benjamin", "Edward", "Stephen",
        "Deborah", "Barbara", "Catherine", "Timothy", "Kenneth", "Ronald", "Donald", "Gregory", "Raymond", "Jacob",
        "Priya", "Wei", "Aisha", "Mateo", "Sofia", "Lars", "Ingrid", "Kenji", "Yuki", "Omar", "Fatima", "Diego", "Lucia",
        "Chen", "Ravi", "Anika", "Tomasz", "Olga", "Siobhan", "Niamh", "Emeka", "Chidi", "Hiroshi", "Mei", "Carlos",
        "Zara", "Ahmed", "Elena", "Marco", "Giulia", "Pierre", "Amelie", "Sven", "Astrid", "Rahul", "Deepa", "Kwame",
    ]
    static let lastNames = [
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
        "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson",
        "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Shah", "Kim", "Park", "Chen",
        "Wang", "Li", "Zhang", "Singh", "Kumar", "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Rossi", "Russo",
        "Ferrari", "Dubois", "Laurent", "Novak", "Kowalski", "Nowak", "Silva", "Santos", "Oliveira", "Okafor", "Mensah",
        "O'Brien", "McDonald", "van der Berg", "Haddad", "Yamamoto", "Tanaka", "Sato", "Ivanova", "Petrov", "Larsen",
    ]
    static let systems: [(Source, String)] = [(.crm, "salesforce"), (.map, "hubspot"), (.billing, "stripe"), (.product, "segment")]

    struct Person {
        var first: String
        var last: String
        var company: Int
        var email: String
        var provider: Provider
        var directLine: String?
    }

    enum Provider { case work, gmail, outlook, icloud, yahoo }

    struct Appearance {
        var person: Int
        var reference: ExternalReference
        var event: NormalizedEvent
    }

    /// Builds the population and its events; deterministic for a seed.
    static func generate(people count: Int, seed: UInt64, factory: EventFactory) throws -> (people: [Person], appearances: [Appearance]) {
        var random = SplitMix64(seed: seed)
        let nicknames = try NicknameTable.bundled()
        let nicknameChoices: [String: [String]] = Dictionary(uniqueKeysWithValues: firstNames.map { name in
            let folded = name.lowercased()
            let options = ["bob", "rob", "robbie", "bill", "will", "billy", "liz", "beth", "betty", "lizzie", "maggie", "peggy",
                           "meg", "kate", "katie", "kathy", "jim", "jimmy", "jamie", "jack", "johnny", "mike", "mick", "rick",
                           "dick", "tom", "tommy", "jen", "jenny", "pat", "patty", "trish", "chris", "dan", "danny", "matt",
                           "tony", "joe", "joey", "charlie", "chuck", "sue", "susie", "becky", "becca", "alex", "nick", "jon",
                           "sam", "vicky", "tori", "jess", "andy", "drew", "ben", "benny", "ed", "eddie", "ted", "steve",
                           "debbie", "deb", "barb", "cathy", "tim", "ken", "kenny", "ron", "ronnie", "don", "greg", "ray",
                           "jake"].filter { nicknames.areVariants($0, folded) }
            return (name, options.map { $0.prefix(1).uppercased() + $0.dropFirst() })
        })

        // Companies: a few large, many small; each with a switchboard number.
        let stems = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell", "cyberdyne", "soylent",
                     "vandelay", "pied", "aperture", "black", "blue", "north", "river", "summit", "nimbus", "quantum", "vertex"]
        let tails = ["corp", "labs", "systems", "group", "works", "soft", "data", "cloud", "energy", "health", "foods", "logistics"]
        let tlds = ["com", "io", "co.uk", "de", "net"]
        var domains: [String] = []
        var seen = Set<String>()
        while domains.count < 700 {
            let domain = "\(random.pick(stems))\(random.pick(tails))\(Int.random(in: 1...99, using: &random)).\(random.pick(tlds))"
            if seen.insert(domain).inserted { domains.append(domain) }
        }
        var usedNumbers = Set<String>()
        func freshNumber() -> String {
            while true {
                let area = Int.random(in: 201...989, using: &random)
                let exchange = Int.random(in: 201...989, using: &random)
                let line = Int.random(in: 1000...9999, using: &random)
                // NANP: no N11 or N9X area codes, no 555 area code (the normalizer rejects them).
                guard area % 100 != 11, (area / 10) % 10 != 9, area != 555, exchange % 100 != 11 else { continue }
                let number = "\(area)\(exchange)\(line)"
                if usedNumbers.insert(number).inserted { return number }
            }
        }
        let switchboards = domains.map { _ in freshNumber() }

        var people: [Person] = []
        var emails = Set<String>()
        for index in 0..<count {
            // Skewed company sizes: a quarter of the people work at the 20 largest companies.
            let company = random.chance(0.25) ? Int.random(in: 0..<20, using: &random) : Int.random(in: 0..<domains.count, using: &random)
            var first = random.pick(firstNames)
            var last = random.pick(lastNames)
            // Same-name colleagues: copy the name of someone at the same company.
            if random.chance(0.03), let colleague = people.last(where: { $0.company == company }) {
                first = colleague.first
                last = colleague.last
            }
            let localFirst = first.lowercased().filter(\.isLetter)
            let localLast = last.lowercased().filter(\.isLetter)
            let provider: Provider = random.chance(0.7) ? .work : random.pick([.gmail, .gmail, .gmail, .outlook, .icloud, .yahoo])
            var email = ""
            var attempt = 0
            repeat {
                let suffix = attempt == 0 ? "" : String(attempt + 1)
                switch provider {
                case .work:
                    let pattern = [localFirst + "." + localLast, String(localFirst.prefix(1)) + localLast, localFirst + localLast.prefix(1)]
                    email = pattern[(index + attempt) % pattern.count] + suffix + "@" + domains[company]
                case .gmail: email = localFirst + localLast + suffix + String(Int.random(in: 1...999, using: &random)) + "@gmail.com"
                case .outlook: email = localFirst + "." + localLast + suffix + "@outlook.com"
                case .icloud: email = localFirst + localLast.prefix(2) + suffix + "@icloud.com"
                case .yahoo: email = localLast + "_" + localFirst + suffix + "@yahoo.com"
                }
                attempt += 1
            } while !emails.insert(EmailNormalizer.matchKey(for: email)).inserted
            people.append(Person(first: first, last: last, company: company, email: email, provider: provider,
                                 directLine: random.chance(0.7) ? freshNumber() : nil))
        }

        func noisyEmail(_ person: Person) -> String {
            var email = person.email
            if person.provider == .gmail {
                let parts = email.split(separator: "@")
                var local = String(parts[0])
                if random.chance(0.3), local.count > 3 {
                    let at = local.index(local.startIndex, offsetBy: Int.random(in: 1..<local.count - 1, using: &random))
                    local.insert(".", at: at)
                }
                if random.chance(0.2) { local += "+" + random.pick(["crm", "news", "billing", "x1"]) }
                email = local + "@" + (random.chance(0.15) ? "googlemail.com" : "gmail.com")
            } else if person.provider == .outlook || person.provider == .icloud, random.chance(0.2) {
                let parts = email.split(separator: "@")
                email = parts[0] + "+tag@" + parts[1]
            }
            if random.chance(0.3) { email = email.prefix(1).uppercased() + email.dropFirst() }
            if random.chance(0.1) { email = email.uppercased() }
            if random.chance(0.2) { email = "  " + email + " " }
            return email
        }
        func noisyPhone(_ digits: String) -> String {
            let a = digits.prefix(3), b = digits.dropFirst(3).prefix(3), c = digits.suffix(4)
            return random.pick(["+1 \(a)-\(b)-\(c)", "(\(a)) \(b)-\(c)", "\(a).\(b).\(c)", "1-\(a)-\(b)-\(c)", "+1\(a)\(b)\(c)",
                                "\(a) \(b) \(c)", "+1 (\(a)) \(b) \(c) x\(Int.random(in: 10...99, using: &random))"])
        }
        func noisyName(_ name: String) -> String {
            var text = name
            if random.chance(0.1) { text = text.lowercased() }
            if random.chance(0.05) { text = text.uppercased() }
            if random.chance(0.1) { text = " " + text + "  " }
            return text
        }

        var appearances: [Appearance] = []
        var nextID = 0
        for (index, person) in people.enumerated() {
            let roll = Double.random(in: 0..<1, using: &random)
            let systemCount = roll < 0.3 ? 1 : roll < 0.65 ? 2 : roll < 0.9 ? 3 : 4
            for (source, system) in systems.shuffled(using: &random).prefix(systemCount) {
                nextID += 1
                let domain = domains[person.company]
                var raw = EventFactory.Raw(eventID: "evt-\(nextID)", source: source, system: system,
                                           occurredAt: Timestamp(epochMilliseconds: 1_764_000_000_000 + Int64(nextID) * 1000),
                                           externalID: "\(system)-\(nextID)")
                let hasEmail = person.provider != .work || random.chance(0.92)
                var first = person.first
                if let options = nicknameChoices[first], !options.isEmpty, random.chance(0.15) { first = random.pick(options) }
                raw.firstName = noisyName(first)
                raw.lastName = noisyName(person.last)
                if hasEmail {
                    raw.email = noisyEmail(person)
                    if random.chance(0.65) { raw.phone = noisyPhone(person.directLine ?? switchboards[person.company]) }
                    if random.chance(0.03) { raw.lastName = nil }
                    if random.chance(0.5) { raw.companyDomain = domain }
                } else {
                    // No email: a CRM record still has its account; the phone is the person's own line.
                    raw.phone = person.directLine.map(noisyPhone)
                    raw.companyDomain = domain
                }
                let event = try factory.make(raw)
                appearances.append(Appearance(person: index, reference: ExternalReference(system: system, id: raw.externalID), event: event))
            }
        }
        return (people, appearances)
    }

    @Test("recall of true duplicates ≥ 99.5%, no false merges")
    func population() throws {
        let factory = try EventFactory()
        let (people, appearances) = try Self.generate(people: 4000, seed: 0xC0FFEE, factory: factory)
        let temporary = try TemporaryStore()
        let harness = try Harness(store: temporary.store)

        // Arrival order: shuffled, with 5% redelivered copies; batches as the pipeline commits them.
        var random = SplitMix64(seed: 42)
        var stream = appearances.indices.shuffled(using: &random)
        for index in appearances.indices where random.chance(0.05) {
            stream.insert(index, at: Int.random(in: 0...stream.count, using: &random))
        }
        var heldRequest: [Int: String] = [:]
        var duplicates = 0
        var seen = Set<Int>()
        for start in stride(from: 0, to: stream.count, by: 200) {
            let batch = Array(stream[start..<min(start + 200, stream.count)])
            let outcomes = try harness.process(batch: batch.map { appearances[$0].event })
            for (index, outcome) in zip(batch, outcomes) {
                let firstTime = seen.insert(index).inserted
                switch outcome {
                case .duplicate:
                    #expect(!firstTime, "first delivery of \(appearances[index].reference) was called a duplicate")
                    duplicates += 1
                case .review(let request):
                    heldRequest[index] = request
                case .applied, .notFound:
                    #expect(firstTime, "redelivery of \(appearances[index].reference) was applied again")
                }
            }
        }

        // Where each appearance ended up.
        let (golden, candidates) = try temporary.store.read { reader -> ([Int: GoldenID], [Int: Set<GoldenID>]) in
            var golden: [Int: GoldenID] = [:]
            var candidates: [Int: Set<GoldenID>] = [:]
            for (index, appearance) in appearances.enumerated() {
                if let id = try reader.goldenID(for: appearance.reference, entity: .contact) { golden[index] = id }
                if let request = heldRequest[index], let review = try reader.reviewRequest(request) {
                    candidates[index] = Set(review.candidates.map(\.goldenID))
                }
            }
            return (golden, candidates)
        }
        #expect(golden.count + heldRequest.count == appearances.count)
        let heldReasons = try temporary.store.read { reader in
            try heldRequest.values.reduce(into: [String: Int]()) { counts, id in
                counts[try reader.reviewRequest(id)?.reason ?? "missing", default: 0] += 1
            }
        }

        var byPerson: [Int: [Int]] = [:]
        for (index, appearance) in appearances.enumerated() { byPerson[appearance.person, default: []].append(index) }
        var truePairs = 0, merged = 0, caught = 0, caughtStrict = 0
        for indices in byPerson.values where indices.count > 1 {
            for i in indices.indices {
                for j in indices.indices where j > i {
                    let a = indices[i], b = indices[j]
                    truePairs += 1
                    let same = golden[a] != nil && golden[a] == golden[b]
                    if same { merged += 1 }
                    let held = heldRequest[a] != nil || heldRequest[b] != nil
                    if same || held { caught += 1 }
                    let pointed = (golden[b].map { candidates[a]?.contains($0) ?? false } ?? false)
                        || (golden[a].map { candidates[b]?.contains($0) ?? false } ?? false)
                        || (heldRequest[a] != nil && heldRequest[b] != nil)
                    if same || pointed { caughtStrict += 1 }
                }
            }
        }
        var byRecord: [GoldenID: [Int: Int]] = [:]
        for (index, id) in golden { byRecord[id, default: [:]][appearances[index].person, default: 0] += 1 }
        var falseMergePairs = 0, recordsWithStrangers = 0
        for persons in byRecord.values where persons.count > 1 {
            recordsWithStrangers += 1
            let counts = Array(persons.values)
            for i in counts.indices { for j in counts.indices where j > i { falseMergePairs += counts[i] * counts[j] } }
        }
        let liveRecords = try temporary.store.read { try $0.recordCounts()[.contact] ?? 0 }
        let peopleWithRecords = Set(golden.keys.map { appearances[$0].person }).count
        let recall = Double(caught) / Double(max(truePairs, 1))
        let strictRecall = Double(caughtStrict) / Double(max(truePairs, 1))
        let heldShare = Double(heldRequest.count) / Double(appearances.count)
        print("""
            [dedup population] people=\(people.count) events=\(appearances.count) redelivered=\(duplicates) \
            true-duplicate-pairs=\(truePairs) merged=\(merged) held-for-review-events=\(heldRequest.count) \
            (\(String(format: "%.2f", heldShare * 100))%) by reason \(heldReasons.sorted { $0.key < $1.key })
            [dedup population] recall (merged or held)=\(String(format: "%.3f", recall * 100))% \
            strict recall (merged, or held naming the other record)=\(String(format: "%.3f", strictRecall * 100))% \
            auto-merge recall=\(String(format: "%.3f", Double(merged) / Double(max(truePairs, 1)) * 100))%
            [dedup population] false-merge pairs=\(falseMergePairs) records mixing people=\(recordsWithStrangers) \
            live records=\(liveRecords) for \(peopleWithRecords) people with a record
            """)
        #expect(falseMergePairs == 0)
        #expect(recall >= 0.995)
        #expect(duplicates > 0)
        // Reviews are for the genuinely ambiguous, not a way to buy recall.
        #expect(heldShare < 0.05)
    }
}
