import CRMModel
import Dedup
import Foundation
import GRDB
import Store
import Testing

/// Issue 14 item 2: a review queue worth a person's time. Many people drawn from a few first and
/// last names at a few companies (far more collisions than real data), plus colleagues sharing
/// a switchboard number: at most one open review per pair of records, a real score on every
/// candidate, conflicts below the threshold noted and counted instead of queued, the queue
/// ordered by score.
@Suite struct ReviewQueueTests {
    static let firstNames = ["Anna", "Ben", "Carla", "Dev"]
    static let lastNames = ["Ito", "Jones", "Khan", "Lopez"]
    static let domains = ["acme-robotics.io", "globex-corp.com"]

    /// Person `index`: a collision-heavy name and company, an address of their own; every
    /// tenth shares the switchboard of the one before with a different name.
    static func person(_ index: Int, update: Bool = false) -> String {
        let first = firstNames[index % firstNames.count], last = lastNames[(index / 4) % lastNames.count]
        let domain = domains[(index / 16) % domains.count]
        var fields = #""email":"p\#(index).\#(last.lowercased())@\#(domain)","first_name":"\#(first)","last_name":"\#(last)""#
        if index % 10 == 1 { fields += #","phone":"+1 415 555 \#(String(format: "%04d", 100 + index - 1))""# }
        if index % 10 == 0 { fields += #","phone":"+1 415 555 \#(String(format: "%04d", 100 + index))""# }
        if update { fields += #","job_title":"Buyer""# }
        return canonical(update ? "crm-u\(index)" : "crm-\(index)", source: "crm", system: "salesforce", type: "contact.upserted",
                         at: update ? "2026-11-02T10:00:00Z" : "2026-11-01T10:00:00Z", externalID: "003P\(index)", fields: "{\(fields)}")
    }

    func openIdentityReviews(_ harness: Harness) throws -> [ReviewRequest] {
        try harness.store.read { try $0.reviewRequests(status: .open, limit: 100_000) }.filter { $0.kind == .identity }
    }

    @Test func onePerPairRealScoresThresholdAndOrder() throws {
        let harness = try Harness()
        let people = 0..<120
        try harness.send("crm.events.v1", people.map { Self.person($0) })
        // Every person changes again: a second event about the same pairs opens nothing new.
        try harness.send("crm.events.v1", people.map { Self.person($0, update: true) })

        let reviews = try openIdentityReviews(harness)
        #expect(!reviews.isEmpty, "namesakes at one company are worth a look")
        var pairs = Set<[String]>()
        for review in reviews {
            for candidate in review.candidates {
                #expect(candidate.score > 0, "\(review.id) has a candidate scored 0")
                #expect(candidate.score >= IdentityPolicy().conflictReviewThreshold || review.reason != "conflict")
                if let subject = review.goldenID {
                    #expect(pairs.insert([subject, candidate.goldenID].sorted()).inserted, "a second open review about one pair")
                }
            }
        }
        #expect(reviews.map(\.score) == reviews.map(\.score).sorted(by: >), "the queue is ordered by score")

        let noted = try harness.store.read { try $0.nearMatchCount() }
        #expect(noted > 0, "colleagues sharing a switchboard with other names are noted, not queued")
        let someRecord = try #require(try harness.store.readRaw { db in try String.fetchOne(db, sql: "SELECT other_id FROM near_matches LIMIT 1") })
        let matches = try harness.store.read { try $0.nearMatches(of: someRecord) }
        #expect(!matches.isEmpty && matches.allSatisfy { $0.score < IdentityPolicy().conflictReviewThreshold && $0.score > 0 })
    }

    @Test func theThresholdDecidesWhatIsQueued() throws {
        var queueAll = IdentityPolicy()
        queueAll.conflictReviewThreshold = 0
        let eager = try Harness(identity: queueAll)
        var queueNone = IdentityPolicy()
        queueNone.conflictReviewThreshold = 1.0
        queueNone.conflictReviewThreshold = nextUp(queueNone.conflictReviewThreshold)
        let quiet = try Harness(identity: queueNone)
        let documents = (0..<40).map { Self.person($0) }
        try eager.send("crm.events.v1", documents)
        try quiet.send("crm.events.v1", documents)
        let eagerConflicts = try openIdentityReviews(eager).filter { $0.reason == "conflict" }
        #expect(try eager.store.read { try $0.nearMatchCount() } == 0)
        #expect(try openIdentityReviews(quiet).filter { $0.reason == "conflict" }.isEmpty)
        #expect(try quiet.store.read { try $0.nearMatchCount() } == eagerConflicts.count,
                "every conflict is either one review or one note per pair")
    }

    private func nextUp(_ value: Double) -> Double { value.nextUp }
}
