import Audit
import CRMModel
import Foundation
import Store
import Testing

/// A large batch is normalized on several threads before its transaction; what it writes must
/// be exactly what applying its messages one by one writes.
@Suite struct BatchNormalizeTests {
    static func messages() -> [String] {
        (0..<80).map { index in
            if index % 9 == 4 { return #"{"event_id":"broken-\#(index)","source":"crm""# }  // poison: truncated JSON
            if index % 13 == 6 { return canonical("bad-\(index)", source: "crm", system: "salesforce", type: "contact.upserted",
                                                  at: "2026-11-01T09:00:00Z", externalID: "003B\(index)", fields: #"{"email":"not an email"}"#) }
            let person = index % 7
            return canonical("sf-\(index)", source: "crm", system: "salesforce", type: "contact.upserted",
                             at: "2026-11-01T09:\(String(format: "%02d", index % 60)):00Z", externalID: "003A\(person)",
                             fields: #"{"email":"p\#(person)@acme.io","job_title":"Title \#(index)","phone":"+1 415 555 01\#(String(format: "%02d", index))"}"#)
        }
    }

    @Test func aBatchNormalizedInParallelWritesWhatOneByOneWrites() throws {
        let together = try Harness()
        let oneByOne = try Harness()
        let messages = Self.messages()
        let result = try together.send("crm.events.v1", messages)
        var outcomes: [String: Int] = [:]
        for message in messages {
            for (outcome, count) in try oneByOne.send("crm.events.v1", [message]).outcomes { outcomes[outcome, default: 0] += count }
        }
        #expect(result.outcomes == outcomes)
        #expect(result.outcomes["dead_lettered", default: 0] > 0)
        for person in 0..<7 {
            let a = try #require(try together.record("salesforce", "003A\(person)"))
            let b = try #require(try oneByOne.record("salesforce", "003A\(person)"))
            #expect(a.fields == b.fields)
            #expect(a.provenance == b.provenance)
            #expect(try together.audit(a.id).map(\.hash) == oneByOne.audit(b.id).map(\.hash))
        }
        let letters = { (harness: Harness) in
            try harness.store.read { try $0.unsentOutbox(limit: 1_000) }.filter { $0.message.topic == "dlq.events.v1" }.map(\.message.value)
        }
        #expect(try letters(together) == letters(oneByOne))
    }
}
