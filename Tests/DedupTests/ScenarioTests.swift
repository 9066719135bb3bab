import CRMModel
import Dedup
import Foundation
import Store
import Testing

@Suite("Identity resolution scenarios")
struct ScenarioTests {
    let temporary: TemporaryStore
    let harness: Harness
    let factory: EventFactory

    init() throws {
        temporary = try TemporaryStore()
        harness = try Harness(store: temporary.store)
        factory = try EventFactory()
    }

    typealias Raw = EventFactory.Raw

    func liveContacts() throws -> Int {
        try temporary.store.read { try $0.recordCounts()[.contact] ?? -1 }
    }

    @Test("redelivering an event id is a duplicate with no effect")
    func redelivery() throws {
        let event = try factory.make(Raw(eventID: "e1", externalID: "003A", email: "ann@acme.com", firstName: "Ann", lastName: "Lee"))
        let first = try harness.process(event)
        guard case .applied(let id) = first else { Issue.record("expected applied, got \(first)"); return }
        let version = try temporary.store.read { try $0.record(id)?.version }
        #expect(try harness.process(event) == .duplicate)
        // Same id again from a DLQ replay, inside a batch with another copy of itself.
        #expect(try harness.process(batch: [event, event]) == [.duplicate, .duplicate])
        #expect(try liveContacts() == 1)
        #expect(try temporary.store.read { try $0.record(id)?.version } == version)
        let counts = try temporary.store.read { try $0.outcomeCounts() }
        #expect(counts.first { $0.outcome == .duplicate }?.count == 3)
        #expect(counts.first { $0.outcome == .applied }?.count == 1)
    }

    @Test("email variants (case, whitespace, Gmail dots, googlemail, +tags) land on one record")
    func emailVariants() throws {
        let variants = ["John.Smith@gmail.com", "  johnsmith@GMAIL.com ", "john.smith+crm@googlemail.com", "j.o.h.n.smith@gmail.com"]
        var ids = Set<GoldenID>()
        for (index, email) in variants.enumerated() {
            let systems = ["salesforce", "hubspot", "stripe", "segment"]
            let outcome = try harness.process(factory.make(Raw(eventID: "v\(index)", system: systems[index],
                                                               externalID: "x\(index)", email: email)))
            guard case .applied(let id) = outcome else { Issue.record("expected applied, got \(outcome)"); continue }
            ids.insert(id)
        }
        #expect(ids.count == 1)
        #expect(try liveContacts() == 1)
        // `crmsync records get --email` finds it under any spelling of the mailbox.
        let found = try temporary.store.read { try $0.records(with: .email(matching: " JohnSmith+x@GoogleMail.com"), entity: .contact, limit: 5) }
        #expect(found.recordIDs == Array(ids))
    }

    @Test("an event whose external id points at A and email at B merges B into A")
    func crosswalkAndEmailMerge() throws {
        guard case .applied(let a) = try harness.process(factory.make(Raw(eventID: "1", externalID: "003A", email: "ann@acme.com"))),
              case .applied(let b) = try harness.process(factory.make(Raw(eventID: "2", source: .map, system: "hubspot",
                                                                          externalID: "501", email: "ann.lee@acme.com")))
        else { Issue.record("setup failed"); return }
        #expect(a != b)
        let merged = try harness.process(factory.make(Raw(eventID: "3", externalID: "003A", email: "Ann.Lee@acme.com")))
        #expect(merged == .applied(a))
        try temporary.store.read { reader in
            #expect(try reader.record(b)?.mergedInto == a)
            #expect(try reader.liveRecord(b)?.id == a)
            #expect(try reader.goldenID(for: ExternalReference(system: "hubspot", id: "501"), entity: .contact) == a)
            #expect(try reader.records(with: .email("ann.lee@acme.com"), entity: .contact, limit: 5).recordIDs == [a])
            #expect(try reader.records(with: .email("ann.lee@acme.com"), entity: .contact, limit: 5).total == 1)
            let history = try reader.merges(involving: a)
            #expect(history.count == 1)
            #expect(history.first?.absorbedID == b)
            #expect(history.first?.absorbedExternalIDs == ["hubspot": ["501"]])
            #expect(try reader.externalIDs(of: a) == ["hubspot": ["501"], "salesforce": ["003A"]])
            #expect(try reader.recordCounts()[.contact] == 1)
        }
        // A later event for B's old external id lands on A.
        #expect(try harness.process(factory.make(Raw(eventID: "4", source: .map, system: "hubspot", externalID: "501",
                                                     firstName: "Ann"))) == .applied(a))
        // Replaying the merging event changes nothing.
        #expect(try harness.process(factory.make(Raw(eventID: "3", externalID: "003A", email: "Ann.Lee@acme.com"))) == .duplicate)
    }

    @Test("lead to contact conversion re-points the crosswalk; the old lead id keeps landing")
    func conversion() throws {
        guard case .applied(let lead) = try harness.process(factory.make(Raw(eventID: "l1", externalID: "00QL", email: "kim@acme.com")))
        else { Issue.record("setup failed"); return }
        let converted = try harness.process(factory.make(Raw(eventID: "c1", type: EventType(.contact, .converted),
                                                             externalID: "003C", convertedFrom: "00QL")))
        #expect(converted == .applied(lead))
        #expect(try harness.goldenID(of: ExternalReference(system: "salesforce", id: "003C")) == lead)
        #expect(try harness.process(factory.make(Raw(eventID: "l2", externalID: "00QL", firstName: "Kim"))) == .applied(lead))
        #expect(try harness.process(factory.make(Raw(eventID: "c2", externalID: "003C", lastName: "Park"))) == .applied(lead))
        #expect(try liveContacts() == 1)
    }

    @Test("conversion naming a contact that already has its own record merges the lead into it")
    func conversionMergesExistingContact() throws {
        guard case .applied(let lead) = try harness.process(factory.make(Raw(eventID: "l1", externalID: "00QL", email: "kim@acme.com"))),
              case .applied(let contact) = try harness.process(factory.make(Raw(eventID: "k1", externalID: "003C", phone: "+1 415 555 0142")))
        else { Issue.record("setup failed"); return }
        let outcome = try harness.process(factory.make(Raw(eventID: "c1", type: EventType(.contact, .converted),
                                                           externalID: "003C", convertedFrom: "00QL")))
        #expect(outcome == .applied(contact))
        #expect(try temporary.store.read { try $0.record(lead)?.mergedInto } == contact)
        #expect(try harness.goldenID(of: ExternalReference(system: "salesforce", id: "00QL")) == contact)
        #expect(try temporary.store.read { try $0.merges(involving: contact).first?.reason } == MergeReason.conversion.rawValue)
    }

    @Test("an explicit CRM merge event merges the named records")
    func explicitMerge() throws {
        guard case .applied(let keep) = try harness.process(factory.make(Raw(eventID: "h1", source: .map, system: "hubspot", externalID: "1", email: "a@acme.com"))),
              case .applied(let gone) = try harness.process(factory.make(Raw(eventID: "h2", source: .map, system: "hubspot", externalID: "2", email: "b@acme.com")))
        else { Issue.record("setup failed"); return }
        let outcome = try harness.process(factory.make(Raw(eventID: "h3", source: .map, system: "hubspot",
                                                           type: EventType(.contact, .merged), externalID: "1", mergedFrom: ["2"])))
        #expect(outcome == .applied(keep))
        #expect(try temporary.store.read { try $0.record(gone)?.mergedInto } == keep)
        // The absorbed record's email now finds the survivor (from another system: a third HubSpot
        // id would be a crosswalk conflict).
        #expect(try harness.process(factory.make(Raw(eventID: "h4", source: .billing, system: "stripe", externalID: "cus_9",
                                                     email: "b@acme.com"))) == .applied(keep))
    }

    @Test("blocked identifiers never join records")
    func blockedValues() throws {
        let first = try harness.process(factory.make(Raw(eventID: "1", externalID: "A", email: "test@test.com", phone: "222-222-2222")))
        let second = try harness.process(factory.make(Raw(eventID: "2", externalID: "B", email: "Test@Test.com", phone: "(222) 222 2222")))
        guard case .applied(let a) = first, case .applied(let b) = second else { Issue.record("\(first) \(second)"); return }
        #expect(a != b)
        #expect(try liveContacts() == 2)
    }

    @Test("a switchboard number shared by colleagues never joins them")
    func switchboardColleagues() throws {
        let board = "+1 (212) 555-0100"
        guard case .applied(let ann) = try harness.process(factory.make(Raw(eventID: "1", externalID: "A", email: "ann@acme.com",
                                                                            phone: board, firstName: "Ann", lastName: "Lee", companyDomain: "acme.com")))
        else { Issue.record("setup failed"); return }
        // A colleague: new email, same switchboard. The emails differ, so the phone cannot join
        // them: two records, with the conflict passed on as advice.
        let colleague = try factory.make(Raw(eventID: "2", source: .map, system: "hubspot", externalID: "B", email: "bo@acme.com",
                                             phone: "212.555.0100", firstName: "Bo", lastName: "Chan", companyDomain: "acme.com"))
        let resolution = try temporary.store.read { try harness.resolver.resolve(colleague, lookup: $0) }
        guard case .create = resolution.decision else { Issue.record("expected create, got \(resolution.decision)"); return }
        #expect(resolution.conflicts.map(\.goldenID) == [ann])
        #expect(resolution.conflicts.first?.differingKey == "email")
        guard case .applied(let bo) = try harness.process(colleague) else { Issue.record("expected the colleague applied"); return }
        #expect(bo != ann)
        #expect(try liveContacts() == 2)
        // Same number, no email, another name: the names veto the join.
        let phoneOnly = try factory.make(Raw(eventID: "3", source: .billing, system: "stripe", externalID: "cus_1", phone: board,
                                             firstName: "Carl", lastName: "Ortiz"))
        let held = try temporary.store.read { try harness.resolver.resolve(phoneOnly, lookup: $0) }
        guard case .review(let review) = held.decision else { Issue.record("expected held, got \(held.decision)"); return }
        #expect(review.reason == .conflict)
        #expect(Set(review.candidates.map(\.goldenID)) == [ann, bo])
        guard case .review = try harness.process(phoneOnly) else { Issue.record("expected the phone-only event held"); return }
        #expect(try liveContacts() == 2)
    }

    @Test("an identifier carried by more records than the limit stops being a match key")
    func overSharedIdentifier() throws {
        let board = "+14155550199"
        var ids: [GoldenID] = []
        for index in 0..<4 {
            guard case .applied(let id) = try harness.process(factory.make(Raw(eventID: "c\(index)", externalID: "P\(index)",
                                                                               email: "p\(index)@corp.com", firstName: "P\(index)", lastName: "Q")))
            else { Issue.record("setup failed"); return }
            ids.append(id)
            // Each person's own record gets the switchboard number through its own external id.
            #expect(try harness.process(factory.make(Raw(eventID: "u\(index)", externalID: "P\(index)", phone: board))) == .applied(id))
        }
        #expect(Set(ids).count == 4)
        #expect(try temporary.store.read { try $0.records(with: .phone(board), entity: .contact, limit: 10).total } == 4)
        let newcomer = try factory.make(Raw(eventID: "n", source: .billing, system: "stripe", externalID: "cus_9", phone: board))
        let resolution = try temporary.store.read { try harness.resolver.resolve(newcomer, lookup: $0) }
        #expect(resolution.overSharedKeys == [.phone(board)])
        guard case .create = resolution.decision else { Issue.record("expected create, got \(resolution.decision)"); return }
    }

    @Test("a tier-4 match alone is held for review with nickname-aware scores, best first")
    func nameCompanyOnly() throws {
        guard case .applied(let robert) = try harness.process(factory.make(Raw(eventID: "1", externalID: "A", email: "rsmith@acme.com",
                                                                               firstName: "Robert", lastName: "Smith"))),
              case .applied(let roberta) = try harness.process(factory.make(Raw(eventID: "2", externalID: "B", email: "roberta@acme.com",
                                                                                firstName: "Roberta", lastName: "Smith")))
        else { Issue.record("setup failed"); return }
        // Roberta's email differs from Robert's: a stronger key says "another person".
        #expect(robert != roberta)
        let bob = try factory.make(Raw(eventID: "3", source: .billing, system: "stripe", externalID: "cus_1",
                                       firstName: "Bob", lastName: "SMITH", companyDomain: "acme.com"))
        let resolution = try temporary.store.read { try harness.resolver.resolve(bob, lookup: $0) }
        guard case .review(let review) = resolution.decision else { Issue.record("expected review, got \(resolution.decision)"); return }
        #expect(review.reason == .nameCompanyOnly)
        #expect(review.candidates.first?.goldenID == robert)
        #expect(review.candidates.first?.reasons.contains("nickname bob~robert") == true)
        #expect(review.candidates.count <= 2)
        if review.candidates.count == 2 {
            #expect(review.candidates[1].goldenID == roberta)
            #expect(review.candidates[0].score > review.candidates[1].score)
        }
        // Held: the review request is stored with its candidates, nothing is created.
        guard case .review(let requestID) = try harness.process(bob) else { Issue.record("expected held"); return }
        let request = try temporary.store.read { try $0.reviewRequest(requestID) }
        #expect(request?.kind == .identity)
        #expect(request?.status == .open)
        #expect(request?.candidates.first?.goldenID == robert)
        #expect(try temporary.store.read { try $0.reviewRequests(status: .open, limit: 10).count } == 1)
        #expect(try liveContacts() == 2)
    }

    @Test("the same name at another company is another person")
    func sameNameDifferentCompany() throws {
        let one = try harness.process(factory.make(Raw(eventID: "1", externalID: "A", email: "jsmith@acme.com", firstName: "John", lastName: "Smith")))
        let two = try harness.process(factory.make(Raw(eventID: "2", externalID: "B", email: "jsmith@globex.com", firstName: "John", lastName: "Smith")))
        guard case .applied(let a) = one, case .applied(let b) = two else { Issue.record("\(one) \(two)"); return }
        #expect(a != b)
    }

    @Test("two ids of one system sharing an email stay two records, with the conflict as advice")
    func sameSystemDifferentIDs() throws {
        guard case .applied(let first) = try harness.process(factory.make(Raw(eventID: "1", externalID: "003A", email: "info@acme.com"))) else {
            Issue.record("setup failed"); return
        }
        let second = try factory.make(Raw(eventID: "2", externalID: "003B", email: "info@acme.com"))
        let resolution = try temporary.store.read { try harness.resolver.resolve(second, lookup: $0) }
        guard case .create = resolution.decision else { Issue.record("expected create, got \(resolution.decision)"); return }
        #expect(resolution.conflicts.map { [$0.goldenID, "\($0.key)", $0.differingKey] } == [[first, "\(IdentityKey.email("info@acme.com"))", "external_id:salesforce"]])
        // The candidate carries a real score: a shared email and nothing else known about the names.
        #expect(resolution.conflicts.first.map { $0.score > 0 && !$0.reasons.isEmpty } == true)
    }

    @Test("a shared family address with different first names is held, not merged")
    func namesVetoEmailJoin() throws {
        guard case .applied = try harness.process(factory.make(Raw(eventID: "1", externalID: "A", email: "jonesfamily@gmail.com",
                                                                   firstName: "Mary", lastName: "Jones"))) else { Issue.record("setup"); return }
        guard case .review = try harness.process(factory.make(Raw(eventID: "2", source: .billing, system: "stripe", externalID: "cus_1",
                                                                  email: "jones.family@gmail.com", firstName: "Peter", lastName: "Jones"))) else {
            Issue.record("expected review"); return
        }
        // A nickname is the same person.
        guard case .applied = try harness.process(factory.make(Raw(eventID: "3", source: .product, system: "segment", externalID: "u1",
                                                                   email: "jonesfamily@gmail.com", firstName: "Molly", lastName: "Jones"))) else {
            Issue.record("expected applied"); return
        }
        #expect(try liveContacts() == 1)
    }

    @Test("deals match on the crosswalk only; accounts on the company domain")
    func dealsAndAccounts() throws {
        let deal = { (id: String, ext: String) in
            try factory.make(Raw(eventID: id, type: EventType(.deal, .upserted), externalID: ext, companyDomain: "acme.com"))
        }
        guard case .applied(let d1) = try harness.process(deal("d1", "006A")),
              case .applied(let d2) = try harness.process(deal("d2", "006B"))
        else { Issue.record("setup failed"); return }
        #expect(d1 != d2)
        #expect(try harness.process(deal("d3", "006A")) == .applied(d1))
        let account = { (id: String, system: String, ext: String, domain: String) in
            try factory.make(Raw(eventID: id, source: .crm, system: system, type: EventType(.account, .upserted),
                                 externalID: ext, companyDomain: domain))
        }
        guard case .applied(let a1) = try harness.process(account("a1", "salesforce", "001A", "acme.com")) else { Issue.record("account"); return }
        #expect(try harness.process(account("a2", "hubspot", "77", "ACME.com")) == .applied(a1))
        guard case .applied(let a3) = try harness.process(account("a3", "hubspot", "78", "globex.com")) else { Issue.record("account"); return }
        #expect(a3 != a1)
    }

    @Test("a delete for a record never seen creates nothing")
    func deleteUnknown() throws {
        let delete = try factory.make(Raw(eventID: "x", type: EventType(.contact, .deleted), externalID: "nope", email: "x@acme.com"))
        #expect(try harness.process(delete) == .notFound)
        #expect(try liveContacts() == 0)
    }

    @Test("golden ids are deterministic per entity and reference")
    func deterministicIDs() {
        let reference = ExternalReference(system: "salesforce", id: "003A")
        #expect(GoldenIDs.make(entity: .contact, reference: reference) == GoldenIDs.make(entity: .contact, reference: reference))
        #expect(GoldenIDs.make(entity: .contact, reference: reference) != GoldenIDs.make(entity: .account, reference: reference))
        #expect(GoldenIDs.make(entity: .contact, reference: reference).hasPrefix("c-"))
        #expect(GoldenIDs.make(entity: .contact, reference: reference).count == 34)
    }
}

@Suite("Fuzzy assist")
struct FuzzyTests {
    @Test("Jaro-Winkler matches the published reference values")
    func jaroWinkler() {
        #expect(abs(JaroWinkler.similarity("martha", "marhta") - 0.961) < 0.001)
        #expect(abs(JaroWinkler.similarity("dwayne", "duane") - 0.840) < 0.001)
        #expect(abs(JaroWinkler.similarity("dixon", "dicksonx") - 0.813) < 0.001)
        #expect(JaroWinkler.similarity("abc", "abc") == 1)
        #expect(JaroWinkler.similarity("abc", "xyz") == 0)
        #expect(JaroWinkler.similarity("", "a") == 0)
    }

    @Test("the bundled nickname table knows the common pairs and not unrelated names")
    func nicknames() throws {
        let table = try NicknameTable.bundled()
        #expect(table.nameCount >= 400)
        #expect(table.areVariants("bob", "robert"))
        #expect(table.areVariants("liz", "elizabeth"))
        #expect(table.areVariants("bill", "william"))
        #expect(table.areVariants("peggy", "margaret"))
        #expect(table.areVariants("bob", "rob"))
        #expect(!table.areVariants("bob", "william"))
        #expect(!table.areVariants("mary", "peter"))
    }
}
