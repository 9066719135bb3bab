import Kafka
import SeededRandom

/// The source topics a workload publishes to.
public struct WorkloadTopics: Sendable, Hashable {
    public var crm: String
    public var map: String
    public var billing: String
    public var product: String

    public init(crm: String, map: String, billing: String, product: String) {
        self.crm = crm
        self.map = map
        self.billing = billing
        self.product = product
    }
}

/// One generated source message and what the pipeline should make of it.
public struct WorkloadMessage: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The first event about a person (or company, or deal).
        case create
        /// A change to someone already known.
        case update
        /// A second sign-up of a known person under another id (dedup merges it).
        case duplicateSignup = "duplicate_signup"
        /// The same bytes again: counted as a duplicate.
        case redelivery
        /// Malformed input: dead-lettered.
        case poison
    }

    public var message: ProducerMessage
    public var kind: Kind
    /// The ids the normalized events of this message carry (their audit events name them);
    /// empty for poison and redeliveries.
    public var eventIDs: [String]
}

/// A deterministic, realistic mix of source events: all four sources, native vendor shapes
/// (Salesforce CDC, HubSpot webhooks, Stripe events, Segment calls) and canonical envelopes,
/// ~30% updates to known people, duplicate sign-ups, ~2% redeliveries and ~1% poison.
///
/// The same seed gives the same messages, so runs are comparable.
public struct Workload: Sendable {
    public let topics: WorkloadTopics
    private var random: SplitMix64
    private var shapes: WorkloadShapes
    /// People `0..<known` exist (seeded or already created by this workload).
    private var known: Int
    /// Recent messages, for redeliveries.
    private var recent: [ProducerMessage] = []
    private var recentNext = 0
    /// Which systems have already seen each person (bit per system), for native shapes that
    /// carry only the changed fields once a system knows the person.
    private var seenBy: [UInt8] = []

    /// Messages generated so far.
    public private(set) var count = 0

    /// - Parameters:
    ///   - existingPeople: people already in the store (``seedMessage(person:)`` created them).
    ///   - startMilliseconds: event time of the first message; later ones are a second apart.
    public init(seed: UInt64, topics: WorkloadTopics, existingPeople: Int = 0, startMilliseconds: Int64 = 1_780_000_000_000) {
        self.topics = topics
        random = SplitMix64(seed: seed)
        shapes = WorkloadShapes(startMilliseconds: startMilliseconds)
        known = existingPeople
        seenBy = []
    }

    /// The next message of the mix.
    public mutating func next() -> WorkloadMessage {
        count += 1
        shapes.tick()
        let roll = Double.random(in: 0..<1, using: &random)
        if roll < 0.01 {
            return WorkloadMessage(message: shapes.poison(variant: count, topics: topics), kind: .poison, eventIDs: [])
        }
        if roll < 0.03, !recent.isEmpty {
            let again = recent[Int.random(in: 0..<recent.count, using: &random)]
            return WorkloadMessage(message: again, kind: .redelivery, eventIDs: [])
        }
        let generated: WorkloadMessage
        if roll < 0.33, known > 0 {
            generated = update(person: Int.random(in: 0..<known, using: &random))
        } else if roll < 0.36, known > 0 {
            let person = Int.random(in: 0..<known, using: &random)
            generated = WorkloadMessage(message: shapes.duplicateSignup(person: person, topics: topics), kind: .duplicateSignup,
                                        eventIDs: [shapes.lastEventID])
        } else {
            generated = create(person: known)
            known += 1
        }
        remember(generated.message)
        return generated
    }

    /// A canonical CRM create for `person`, used to fill a store before a run (scaling).
    public static func seedMessage(person: Int, topic: String) -> ProducerMessage {
        var shapes = WorkloadShapes(startMilliseconds: 1_700_000_000_000 + Int64(person) * 10)
        return shapes.canonicalContact(person: person, source: "crm", system: "salesforce", topic: topic, creating: true)
    }

    private mutating func create(person: Int) -> WorkloadMessage {
        let source = pickSource()
        let native = Bool.random(using: &random)
        let message = shapes.contact(person: person, source: source, native: native, creating: true, topics: topics)
        markSeen(person, by: source)
        return WorkloadMessage(message: message, kind: .create, eventIDs: shapes.lastEventIDs)
    }

    private mutating func update(person: Int) -> WorkloadMessage {
        let source = pickSource()
        if source == .crm, Int.random(in: 0..<10, using: &random) == 0 {
            // Deals and accounts ride along with CRM traffic.
            let message = Bool.random(using: &random) ? shapes.deal(company: person / 7, topic: topics.crm) : shapes.account(company: person / 7, topic: topics.crm)
            return WorkloadMessage(message: message, kind: .update, eventIDs: shapes.lastEventIDs)
        }
        let native = Bool.random(using: &random)
        let firstContact = !hasSeen(person, by: source)
        let message = shapes.contact(person: person, source: source, native: native, creating: firstContact, topics: topics)
        markSeen(person, by: source)
        return WorkloadMessage(message: message, kind: .update, eventIDs: shapes.lastEventIDs)
    }

    /// Sources weighted like a typical install: CRM 35%, MAP 30%, billing 15%, product 20%.
    private mutating func pickSource() -> WorkloadShapes.Source {
        switch Int.random(in: 0..<20, using: &random) {
        case 0..<7: return .crm
        case 7..<13: return .map
        case 13..<16: return .billing
        default: return .product
        }
    }

    private mutating func remember(_ message: ProducerMessage) {
        if recent.count < 1_000 {
            recent.append(message)
        } else {
            recent[recentNext] = message
            recentNext = (recentNext + 1) % recent.count
        }
    }

    private func hasSeen(_ person: Int, by source: WorkloadShapes.Source) -> Bool {
        person < seenBy.count && seenBy[person] & source.bit != 0
    }

    private mutating func markSeen(_ person: Int, by source: WorkloadShapes.Source) {
        if person >= seenBy.count { seenBy.append(contentsOf: repeatElement(0, count: person - seenBy.count + 1)) }
        seenBy[person] |= source.bit
    }
}
