import CRMModel
import Testing
@testable import Ownership

/// Issue 14 item 6: the consent log a record keeps (and republishes in every golden document)
/// is bounded: the latest record per channel + purpose plus the most recent few; the audit trail
/// carries every record.
@Suite struct ConsentBoundTests {
    let engine = OwnershipEngine(policy: .default)

    /// 400 consent events on two subjects, alternating grants and withdrawals.
    func consentEvents() -> [CanonicalEvent] {
        (0..<400).map { index in
            let record = ConsentRecord(channel: index % 50 == 1 ? "sms" : "email", purpose: nil, granted: index % 2 == 0,
                                       at: at(index), source: .map, system: "hubspot")
            return event("c\(index)", .map, index, .consentChanged, ["consent": .consent([record])])
        }
    }

    @Test func theConsentLogStaysBoundedAndKeepsTheLatestPerSubject() {
        let state = engine.fold(consentEvents())
        let limit = RecordPolicyState.consentHistoryLimit
        #expect(state.consentLog.count <= limit + 2, "log has \(state.consentLog.count) records")
        #expect(engine.resolve(state).consent.count <= limit + 2)
        // The latest sms record is kept although 20 email records are newer.
        let lastSMS = (0..<400).last { $0 % 50 == 1 } ?? 0
        #expect(state.consentLog.contains { $0.channel == "sms" && $0.at == at(lastSMS) })
        #expect(state.consentLog.last?.at == at(399))
    }

    @Test func theBoundedLogDoesNotDependOnArrivalOrder() {
        let events = consentEvents()
        var rng = SplitMix(seed: 14)
        let reference = engine.fold(events)
        for _ in 0..<3 {
            #expect(engine.fold(events.shuffled(using: &rng)) == reference)
        }
        #expect(engine.fold(events.reversed()) == reference)
    }

    @Test func everyConsentRecordReachesTheAuditChanges() {
        // Newest first: every later-applied record is older, so none becomes effective and the
        // bound drops it from the log at once; the changes must still name it.
        var state = RecordPolicyState.empty
        var audited: [ConsentRecord] = []
        for event in consentEvents().reversed() {
            let resolution = engine.apply(event, to: state)
            for change in resolution.changes {
                if case .consent(let records)? = change.after { audited += records }
            }
            for rejection in resolution.rejected {
                if case .consent(let records) = rejection.value { audited += records }
            }
            state = resolution.state
        }
        let offered = consentEvents().flatMap { event -> [ConsentRecord] in
            if case .consent(let records)? = event.fields["consent"] { return records }
            return []
        }
        #expect(Set(offered).subtracting(audited).isEmpty, "\(Set(offered).subtracting(audited).count) records never audited")
    }
}
