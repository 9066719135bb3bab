import CRMModel
import Kafka

/// The JSON of each source shape the workload sends, with the event ids the normalize stage
/// derives from them (see the adapters in `Sources/Normalize`).
///
/// People are numbered; everything about person `i` (names, email, phone, ids in each system)
/// is a function of `i`, so an update finds the record a create made.
struct WorkloadShapes: Sendable {
    enum Source: Sendable {
        case crm, map, billing, product
        var bit: UInt8 {
            switch self {
            case .crm: 1
            case .map: 2
            case .billing: 4
            case .product: 8
            }
        }
    }

    private var milliseconds: Int64
    private var sequence = 0
    private(set) var lastEventIDs: [String] = []
    var lastEventID: String { lastEventIDs.first ?? "" }

    init(startMilliseconds: Int64) {
        milliseconds = startMilliseconds
    }

    /// Moves event time on by a second.
    mutating func tick() {
        milliseconds += 1_000
        sequence += 1
    }

    mutating func contact(person: Int, source: Source, native: Bool, creating: Bool, topics: WorkloadTopics) -> ProducerMessage {
        switch (source, native) {
        case (.crm, false): return canonicalContact(person: person, source: "crm", system: "salesforce", topic: topics.crm, creating: creating)
        case (.crm, true): return salesforceContact(person: person, creating: creating, topic: topics.crm)
        case (.map, false): return canonicalContact(person: person, source: "map", system: "hubspot", topic: topics.map, creating: creating)
        case (.map, true): return hubspotContact(person: person, creating: creating, topic: topics.map)
        case (.billing, false): return canonicalContact(person: person, source: "billing", system: "stripe", topic: topics.billing, creating: creating)
        case (.billing, true): return stripeCustomer(person: person, creating: creating, topic: topics.billing)
        case (.product, false): return canonicalContact(person: person, source: "product", system: "segment", topic: topics.product, creating: creating)
        case (.product, true): return segmentCall(person: person, creating: creating, topic: topics.product)
        }
    }

    // MARK: - Canonical envelopes

    mutating func canonicalContact(person: Int, source: String, system: String, topic: String, creating: Bool) -> ProducerMessage {
        let p = Person(person)
        let id = "bench-\(source)-\(sequence)-\(person)"
        var fields: [String] = []
        if creating || sequence % 3 == 0 { fields.append(#""email":"\#(p.email)""#) }
        switch source {
        case "crm":
            fields += [#""first_name":"\#(p.first)""#, #""last_name":"\#(p.last)""#, #""job_title":"\#(p.title(sequence))""#,
                       #""lifecycle_stage":"\#(sequence % 2 == 0 ? "sql" : "opportunity")""#]
            if creating { fields += [#""phone":"\#(p.phone)""#, #""lead_source":"Web""#, #""company_domain":"\#(p.domain)""#] }
        case "map":
            fields += [#""lead_score":\#(sequence % 100)"#, #""engagement_score":\#(sequence % 37)"#]
        case "billing":
            fields += [#""plan":"\#(["starter", "pro", "enterprise"][sequence % 3])""#, #""mrr":\#(49 * (1 + sequence % 20))"#,
                       #""billing_status":"active""#]
        default:
            fields += [#""last_seen_at":"\#(Self.rfc3339(milliseconds))""#, #""usage.reports":\#(sequence % 500)"#]
        }
        let type = source == "product" && !creating ? "contact.tracked" : "contact.upserted"
        let json = #"{"event_id":"\#(id)","source":"\#(source)","system":"\#(system)","type":"\#(type)","occurred_at":"\#(Self.rfc3339(milliseconds))","entity":"contact","external_id":"\#(p.externalID(system))","fields":{\#(fields.joined(separator: ","))}}"#
        lastEventIDs = [id]
        return message(topic, key: p.externalID(system), json, format: "canonical")
    }

    mutating func deal(company: Int, topic: String) -> ProducerMessage {
        let id = "bench-deal-\(sequence)"
        let external = "006B\(String(company, radix: 36))"
        let json = #"{"event_id":"\#(id)","source":"crm","system":"salesforce","type":"deal.upserted","occurred_at":"\#(Self.rfc3339(milliseconds))","entity":"deal","external_id":"\#(external)","fields":{"name":"Renewal \#(company)","amount":\#(1_000 * (1 + company % 90)),"currency":"USD","stage":"negotiation"}}"#
        lastEventIDs = [id]
        return message(topic, key: external, json, format: "canonical")
    }

    mutating func account(company: Int, topic: String) -> ProducerMessage {
        let id = "bench-account-\(sequence)"
        let external = "001B\(String(company, radix: 36))"
        let json = #"{"event_id":"\#(id)","source":"crm","system":"salesforce","type":"account.upserted","occurred_at":"\#(Self.rfc3339(milliseconds))","entity":"account","external_id":"\#(external)","fields":{"company_name":"Company \#(company)","company_domain":"\#(Person.domain(ofCompany: company))","industry":"Technology"}}"#
        lastEventIDs = [id]
        return message(topic, key: external, json, format: "canonical")
    }

    // MARK: - Native vendor shapes

    mutating func salesforceContact(person: Int, creating: Bool, topic: String) -> ProducerMessage {
        let p = Person(person)
        let recordID = p.externalID("salesforce")
        let transaction = "bench-tx-\(sequence)"
        let body = creating
            ? #""Name":{"FirstName":"\#(p.first)","LastName":"\#(p.last)"},"Email":"\#(p.email)","Phone":"\#(p.phone)","Title":"\#(p.title(sequence))","LeadSource":"Web""#
            : #""Title":"\#(p.title(sequence))""#
        let changed = creating ? "[]" : #"["Title"]"#
        let json = #"{"schema":"bench","payload":{"ChangeEventHeader":{"entityName":"Contact","recordIds":["\#(recordID)"],"changeType":"\#(creating ? "CREATE" : "UPDATE")","transactionKey":"\#(transaction)","sequenceNumber":1,"commitTimestamp":\#(milliseconds),"commitUser":"005B000000000001","changedFields":\#(changed),"nulledFields":[]},\#(body)},"event":{"replayId":\#(sequence)}}"#
        lastEventIDs = ["salesforce:\(transaction):1:\(recordID)"]
        return message(topic, key: recordID, json, format: nil)
    }

    mutating func hubspotContact(person: Int, creating: Bool, topic: String) -> ProducerMessage {
        let p = Person(person)
        let objectID = 100_000 + person
        var properties: [(String, String)] = [("hubspotscore", "\(sequence % 100)")]
        if creating { properties = [("email", p.email), ("firstname", p.first), ("lastname", p.last)] + properties }
        if sequence % 4 == 0 { properties.append(("lifecyclestage", "marketingqualifiedlead")) }
        var elements: [String] = []
        lastEventIDs = []
        for (offset, (name, value)) in properties.enumerated() {
            let eventID = 10_000_000 + sequence * 8 + offset
            elements.append(#"{"eventId":\#(eventID),"subscriptionId":1,"portalId":62515,"occurredAt":\#(milliseconds + Int64(offset)),"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":\#(objectID),"changeSource":"INTEGRATION","propertyName":"\#(name)","propertyValue":"\#(value)"}"#)
            lastEventIDs.append("hubspot:62515:1:\(eventID):\(objectID)")
        }
        return message(topic, key: "\(objectID)", "[" + elements.joined(separator: ",") + "]", format: "hubspot-webhook")
    }

    mutating func stripeCustomer(person: Int, creating: Bool, topic: String) -> ProducerMessage {
        let p = Person(person)
        let id = "evt_bench\(sequence)"
        let json = #"{"id":"\#(id)","object":"event","type":"customer.\#(creating ? "created" : "updated")","created":\#(milliseconds / 1_000),"data":{"object":{"id":"\#(p.externalID("stripe"))","object":"customer","email":"\#(p.email)","name":"\#(p.first) \#(p.last)","phone":"\#(p.phone)","address":{"country":"US"}}}}"#
        lastEventIDs = ["stripe:\(id)"]
        return message(topic, key: p.externalID("stripe"), json, format: nil)
    }

    mutating func segmentCall(person: Int, creating: Bool, topic: String) -> ProducerMessage {
        let p = Person(person)
        let id = "bench-seg-\(sequence)"
        let json = creating || sequence % 2 == 0
            ? #"{"type":"identify","messageId":"\#(id)","userId":"\#(p.externalID("segment"))","timestamp":"\#(Self.rfc3339(milliseconds))","traits":{"email":"\#(p.email)","firstName":"\#(p.first)","lastName":"\#(p.last)","plan":"pro"}}"#
            : #"{"type":"track","messageId":"\#(id)","userId":"\#(p.externalID("segment"))","event":"Report Exported","timestamp":"\#(Self.rfc3339(milliseconds))","properties":{"format":"csv","rows":\#(sequence % 2_000)}}"#
        lastEventIDs = ["segment:\(id)"]
        return message(topic, key: p.externalID("segment"), json, format: nil)
    }

    /// A HubSpot sign-up of a known person under a new object id, with a Gmail-style variant of
    /// their email (same match key): the write stage finds the person and links the new id.
    mutating func duplicateSignup(person: Int, topics: WorkloadTopics) -> ProducerMessage {
        let p = Person(person)
        let objectID = 900_000_000 + sequence
        let eventID = 10_000_000 + sequence * 8
        let json = #"[{"eventId":\#(eventID),"subscriptionId":1,"portalId":62515,"occurredAt":\#(milliseconds),"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":\#(objectID),"changeSource":"FORM","propertyName":"email","propertyValue":"\#(p.emailVariant)"}]"#
        lastEventIDs = ["hubspot:62515:1:\(eventID):\(objectID)"]
        return message(topics.map, key: "\(objectID)", json, format: "hubspot-webhook")
    }

    /// Malformed input of several kinds, each of which the pipeline must dead-letter.
    func poison(variant: Int, topics: WorkloadTopics) -> ProducerMessage {
        let time = Self.rfc3339(milliseconds)
        switch variant % 5 {
        case 0: return message(topics.crm, key: "poison", #"{"event_id":"bench-poison-\#(sequence)","source":"crm","system":"salesforce","type":"contact.upserted","occurred_at":"20"#, format: nil)
        case 1: return ProducerMessage(topic: topics.map, key: Array("poison".utf8), value: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D], headers: [], timestampMilliseconds: milliseconds)
        case 2: return message(topics.crm, key: "poison", #"{"event_id":"bench-poison-\#(sequence)","source":"crm","system":"salesforce","type":"contact.upserted","occurred_at":"\#(time)","entity":"contact","external_id":"x\#(sequence)","fields":{"email":42}}"#, format: "canonical")
        case 3: return message(topics.product, key: "poison", #"{"event_id":"bench-poison-\#(sequence)","source":"product","system":"segment","type":"widget.upserted","occurred_at":"\#(time)","entity":"widget","external_id":"w\#(sequence)","fields":{}}"#, format: "canonical")
        default: return message(topics.billing, key: "poison", #"{"source":"billing","system":"stripe","type":"contact.upserted","occurred_at":"\#(time)","entity":"contact","external_id":"cus_x","fields":{}}"#, format: "canonical")
        }
    }

    private func message(_ topic: String, key: String, _ json: String, format: String?) -> ProducerMessage {
        ProducerMessage(topic: topic, key: Array(key.utf8), value: Array(json.utf8),
                        headers: format.map { [KafkaHeader(name: "crmsync-format", string: $0)] } ?? [],
                        timestampMilliseconds: milliseconds)
    }

    /// RFC 3339 in UTC, as crmsync itself writes it.
    static func rfc3339(_ milliseconds: Int64) -> String {
        Timestamp(epochMilliseconds: milliseconds).rfc3339
    }
}
