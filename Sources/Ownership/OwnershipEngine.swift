import CRMModel
import Foundation

/// Applies events to a record's ``RecordPolicyState`` under an ``OwnershipPolicy`` and resolves
/// the golden record's fields (docs/contract.md#ownership). Pure and synchronous.
///
/// The resolved record is a pure function of the **set** of events applied: the history keeps,
/// per field, one winning candidate per slot (source × ordering × tag), each slot a semilattice
/// under a total order, and resolution reads only those winners. Arrival order, redeliveries,
/// replays and ``merge(_:_:)`` therefore all give the same record.
public struct OwnershipEngine: Sendable {
    public let policy: OwnershipPolicy
    let order: CandidateOrder

    /// - Parameter policy: the ownership map; ``OwnershipPolicy/default`` is the shipped one.
    public init(policy: OwnershipPolicy = .default) {
        self.policy = policy
        let ranks = Dictionary(uniqueKeysWithValues: policy.sourcePriority.enumerated().map { ($1, $0) })
        let fallback = policy.sourcePriority.count
        self.order = CandidateOrder(priority: { ranks[$0] ?? fallback })
    }

    // MARK: Public API

    /// Applies one event's fields to `state`.
    ///
    /// Besides `fields`, a `deleted` or `restored` action is kept as the record's latest delete
    /// or restore (``RecordPolicyState/deletedAt``); merges and conversions are the write
    /// stage's business. `tracked` events carry counter increments, and the actions listed as
    /// `explicit:` of a sticky field count as explicit re-consent.
    public func apply(_ event: CanonicalEvent, to state: RecordPolicyState) -> Resolution {
        apply(Offer(event), to: state)
    }

    /// Applies a normalized event: the same as applying its canonical event.
    public func apply(_ event: NormalizedEvent, to state: RecordPolicyState) -> Resolution {
        apply(event.event, to: state)
    }

    /// Applies an approved review: the proposed value is written with the authority of the
    /// field's owner, as of `approvedAt`. The approval is itself an input (keep it with the
    /// record's events): its id must be unique and stable so a redelivered approval is a no-op.
    public func approve(_ review: FieldReview, approvalID: String, approvedAt: Timestamp,
                        system: String = "crmsync-review", to state: RecordPolicyState) -> Resolution {
        let offer = Offer(source: review.owner, system: system, action: .upserted, eventID: approvalID,
                          occurredAt: approvedAt, fields: [review.field: review.proposedValue])
        return apply(offer, to: state)
    }

    /// The record resolved from a history.
    public func resolve(_ state: RecordPolicyState) -> ResolvedRecord {
        // Bounded here too: a state stored before the log was bounded still resolves small.
        var record = ResolvedRecord(consent: RecordPolicyState.boundedConsentLog(state.consentLog), deletedAt: state.deletedAt)
        for (field, history) in state.fields {
            guard let (value, provenance) = resolveField(field, history) else { continue }
            record.fields[field] = value
            record.provenance[field] = provenance
        }
        return record
    }

    /// The union of two histories, for record merges: the survivor `a` absorbs `b`. Field
    /// values and consent resolve as if every event of both records had been applied to one
    /// state. Deletes and restores stay the survivor's own: a CRM merge deletes the losing
    /// duplicate, and that delete must not take the surviving person with it (nor may an old
    /// deleted duplicate matched by email delete a live record).
    public func merge(_ a: RecordPolicyState, _ b: RecordPolicyState) -> RecordPolicyState {
        var merged = a
        for (field, history) in b.fields {
            var target = merged.fields[field] ?? FieldHistory()
            for (slot, candidate) in history.slots { target.offer(candidate, to: slot) }
            compact(field, &target)
            merged.fields[field] = target
        }
        _ = merged.log(b.consentLog)
        return merged
    }

    /// Whether `event` only repeats the record's current values (a CRM echoing crmsync's own
    /// write): every field it carries equals the resolved value (a null equals "no value").
    /// Applying such an event yields no ``Resolution/changes``.
    public static func isEcho(_ event: CanonicalEvent, of record: ResolvedRecord) -> Bool {
        !event.fields.isEmpty && event.fields.allSatisfy { field, value in
            value == .null ? record.fields[field] == nil : record.fields[field] == value
        }
    }

    // MARK: Applying

    /// The parts of an event ownership looks at.
    struct Offer {
        var source: Source
        var system: String
        var action: Action
        var eventID: String
        var occurredAt: Timestamp
        var fields: [String: FieldValue]

        init(source: Source, system: String, action: Action, eventID: String, occurredAt: Timestamp, fields: [String: FieldValue]) {
            self.source = source
            self.system = system
            self.action = action
            self.eventID = eventID
            self.occurredAt = occurredAt
            self.fields = fields
        }

        init(_ event: CanonicalEvent) {
            self.init(source: event.source, system: event.system, action: event.action, eventID: event.eventID,
                      occurredAt: event.occurredAt, fields: event.fields)
        }

        func candidate(_ value: FieldValue, at time: Timestamp? = nil) -> Candidate {
            Candidate(value: value, source: source, system: system, eventID: eventID, occurredAt: time ?? occurredAt)
        }
    }

    /// Why a value was not even kept in the history.
    struct Refusal {
        var rule: String
        var reason: String
    }

    func apply(_ offer: Offer, to state: RecordPolicyState) -> Resolution {
        let before = resolve(state)
        var next = state
        var refusals: [String: Refusal] = [:]
        for (field, value) in offer.fields {
            if let refusal = intake(field, value, offer, &next) { refusals[field] = refusal }
        }
        // Kept as the latest of each kind, so a late older delete or restore changes nothing.
        let mark = LifecycleMark(occurredAt: offer.occurredAt, eventID: offer.eventID)
        switch offer.action {
        case .deleted: next.lastDelete = LifecycleMark.latest(next.lastDelete, mark)
        case .restored: next.lastRestore = LifecycleMark.latest(next.lastRestore, mark)
        default: break
        }
        // Only the offered fields' histories changed (intake touches nothing else, and a field
        // resolves from its own history alone): re-resolve those, keep the rest.
        var after = before
        after.consent = next.consentLog
        after.deletedAt = next.deletedAt
        for field in offer.fields.keys {
            if let history = next.fields[field], let (value, provenance) = resolveField(field, history) {
                after.fields[field] = value
                after.provenance[field] = provenance
            } else {
                after.fields[field] = nil
                after.provenance[field] = nil
            }
        }

        var changes: [FieldChange] = []
        for field in offer.fields.keys.sorted() {
            let (old, new) = (before.fields[field], after.fields[field])
            guard old != new else { continue }
            let rule = after.provenance[field]?.rule ?? before.provenance[field]?.rule ?? policy.rule(for: field).name
            changes.append(FieldChange(field: field, before: old, after: new, rule: rule))
        }

        var rejected: [RejectedValue] = []
        var reviews: [FieldReview] = []
        for (field, value) in offer.fields.sorted(by: { $0.key < $1.key }) {
            let rule = policy.rule(for: field)
            let current = after.fields[field]
            if value == .null {
                // Nothing to erase is not a rejection; erasing a value is.
                if current != nil {
                    rejected.append(RejectedValue(field: field, value: value, rule: rule.name, reason: "a null never erases a value"))
                }
                continue
            }
            if rule.policy == .sticky, case .consent(let records) = value {
                rejected += rejectedConsent(field, records, current, rule)
                continue
            }
            guard current != value else { continue }  // taken, or already the record's value (echo)
            if let refusal = refusals[field] {
                rejected.append(RejectedValue(field: field, value: value, rule: refusal.rule, reason: refusal.reason))
            } else if rule.policy == .review, !rule.owners.contains(offer.source), let current {
                reviews.append(FieldReview(
                    field: field, currentValue: current, current: after.provenance[field], proposedValue: value,
                    proposedBy: Provenance(offer.candidate(value), rule: rule.name), owner: primaryOwner(rule)))
            } else {
                rejected.append(RejectedValue(field: field, value: value, rule: rule.name,
                                              reason: lossReason(field, rule, offer.source, current)))
            }
        }
        changes += consentHistory(offer, before: state, after: after)
        return Resolution(state: next, record: after, changes: changes, rejected: rejected, reviews: reviews,
                          stateChanged: next != state)
    }

    /// Records `value` in the field's history if its policy keeps it; returns why not otherwise.
    func intake(_ field: String, _ value: FieldValue, _ offer: Offer, _ state: inout RecordPolicyState) -> Refusal? {
        let rule = policy.rule(for: field)
        if value == .null { return Refusal(rule: rule.name, reason: "a null never erases a value") }
        var history = state.fields[field] ?? FieldHistory()
        defer { if !history.isEmpty { state.fields[field] = history } }
        let candidate = offer.candidate(value)
        let source = offer.source

        switch rule.policy {
        case .owner, .fillIfEmpty, .review:
            if !rule.owners.contains(source), rule.others == .ignored {
                return Refusal(rule: rule.name, reason: "\(names(rule.owners)) owns \(field); values from \(source.rawValue) are ignored")
            }
            // Both orderings, so a later change between owner/fill/LWW/set-once needs no new data.
            history.offer(candidate, to: SlotKey(source, .latest))
            history.offer(candidate, to: SlotKey(source, .earliest))
        case .setOnce, .lastWriteWins:
            history.offer(candidate, to: SlotKey(source, .latest))
            history.offer(candidate, to: SlotKey(source, .earliest))
        case .max:
            history.offer(candidate, to: SlotKey(source, .max))
        case .monotonic:
            guard let ladder = rule.ladder, case .string(let stage) = value else {
                return Refusal(rule: rule.name, reason: "not a stage value")
            }
            guard ladder.rank(of: stage) != nil || ladder.offLadder[stage] != nil else {
                return Refusal(rule: rule.name, reason: "unknown stage \(stage)")
            }
            guard ladder.allows(source, toSet: stage) else {
                if let allowed = ladder.offLadder[stage] {
                    return Refusal(rule: rule.name, reason: "only \(names(allowed)) may set \(stage)")
                }
                if let cap = ladder.caps[source] {
                    return Refusal(rule: rule.name, reason: "\(source.rawValue) may set \(field) up to \(cap) only")
                }
                return Refusal(rule: rule.name, reason: "\(source.rawValue) may not set \(field)")
            }
            // Earliest per stage gives the provenance of the highest stage; latest per stage
            // tells whether a ladder stage was set after an off-ladder one.
            history.offer(candidate, to: SlotKey(source, .earliest, stage))
            history.offer(candidate, to: SlotKey(source, .latest, stage))
        case .sticky:
            switch value {
            case .bool(let optedOut):
                let tag = optedOut ? Sticky.optOut : (rule.explicitActions.contains(offer.action) ? Sticky.explicitIn : Sticky.plainIn)
                history.offer(candidate, to: SlotKey(source, .latest, tag))
            case .consent(let records):
                for record in records {
                    let kind = !record.granted ? Sticky.optOut
                        : (rule.explicitActions.contains(offer.action) ? Sticky.explicitIn : Sticky.plainIn)
                    // A consent record is ordered by its own `at` (when it was given or withdrawn).
                    history.offer(offer.candidate(.consent([record]), at: record.at),
                                  to: SlotKey(source, .latest, "\(kind)#\(record.subject)"))
                }
                _ = state.log(records)
            default:
                return Refusal(rule: rule.name, reason: "sticky takes true/false or consent records")
            }
        case .counter:
            guard rule.owners.contains(source) else {
                return Refusal(rule: rule.name, reason: "\(names(rule.owners)) owns \(field); values from \(source.rawValue) are ignored")
            }
            guard case .number = value else { return Refusal(rule: rule.name, reason: "a counter takes numbers") }
            if offer.action == .tracked {
                // One slot per event id: a redelivered increment lands on itself (idempotent).
                history.offer(candidate, to: SlotKey(source, .earliest, Counter.incrementPrefix + offer.eventID))
            } else {
                history.offer(candidate, to: SlotKey(source, .latest, Counter.total))
            }
            compact(field, &history)
        }
        return nil
    }

    /// Counters drop increments already included in the latest total (by event time); the
    /// result depends only on the set of candidates, so it commutes with offering and merging.
    func compact(_ field: String, _ history: inout FieldHistory) {
        guard policy.rule(for: field).policy == .counter else { return }
        let totals = history.candidates { $0.tag == Counter.total }
        guard let base = order.best(totals, by: .latest) else { return }
        history.slots = history.slots.filter { key, candidate in
            !(key.tag?.hasPrefix(Counter.incrementPrefix) ?? false) || candidate.occurredAt > base.occurredAt
        }
    }

    // MARK: Resolving

    func resolveField(_ field: String, _ history: FieldHistory) -> (FieldValue, Provenance)? {
        let rule = policy.rule(for: field)
        func pick(_ slotOrder: SlotOrder, tag: String? = nil, _ include: (Source) -> Bool = { _ in true }) -> Candidate? {
            order.best(history.candidates { $0.order == slotOrder && $0.tag == tag && include($0.source) }, by: slotOrder)
        }
        func result(_ candidate: Candidate?, _ ruleName: String) -> (FieldValue, Provenance)? {
            candidate.map { ($0.value, Provenance($0, rule: ruleName)) }
        }

        switch rule.policy {
        case .owner, .fillIfEmpty, .review:
            if let owned = pick(.latest, { rule.owners.contains($0) }) { return result(owned, rule.name) }
            guard rule.others == .fillIfEmpty else { return nil }
            // Among stand-ins the earliest fills the gap; later ones never overwrite it.
            return result(pick(.earliest, { !rule.owners.contains($0) }), OthersRule.fillIfEmpty.rawValue)
        case .setOnce:
            return result(pick(.earliest), rule.name)
        case .lastWriteWins:
            return result(pick(.latest), rule.name)
        case .max:
            return result(pick(.max), rule.name)
        case .monotonic:
            guard let ladder = rule.ladder else { return nil }
            return result(resolveLadder(ladder, history), rule.name)
        case .sticky:
            if history.slots.keys.contains(where: { $0.tag?.contains("#") ?? false }) {
                return resolveConsent(rule, history)
            }
            return result(resolveOptOut(rule, history, tagSuffix: ""), rule.name)
        case .counter:
            return resolveCounter(rule, history)
        }
    }

    /// The highest stage reached (earliest to reach it), unless an off-ladder stage was set
    /// later than any ladder stage from the sources allowed to set it.
    func resolveLadder(_ ladder: StageLadder, _ history: FieldHistory) -> Candidate? {
        func stage(_ key: SlotKey) -> String { key.tag ?? "" }
        let offLadder = history.slots.filter { key, _ in
            key.order == .latest && ladder.rank(of: stage(key)) == nil && ladder.allows(key.source, toSet: stage(key))
        }
        if let parked = order.best(offLadder.values, by: .latest) {
            let setters = ladder.offLadder[parked.stageValue] ?? []
            let requalified = history.slots.contains { key, candidate in
                key.order == .latest && ladder.rank(of: stage(key)) != nil && setters.contains(key.source)
                    && ladder.allows(key.source, toSet: stage(key)) && candidate.occurredAt > parked.occurredAt
            }
            if !requalified { return parked }
        }
        var best: (rank: Int, candidate: Candidate)?
        for (key, candidate) in history.slots where key.order == .earliest {
            // Caps are re-checked here so a tightened config also governs old history.
            guard let rank = ladder.rank(of: stage(key)), ladder.allows(key.source, toSet: stage(key)) else { continue }
            if let current = best {
                if rank < current.rank { continue }
                if rank == current.rank, !order.isEarlier(candidate, than: current.candidate) { continue }
            }
            best = (rank, candidate)
        }
        return best?.candidate
    }

    /// Opt-out (`true`) from any source sticks unless an explicit opt-in from an owner is
    /// strictly later in event time; without any opt-out, the latest opt-in shows.
    func resolveOptOut(_ rule: FieldRule, _ history: FieldHistory, tagSuffix: String) -> Candidate? {
        func latest(_ tags: Set<String>, owners: Bool = false) -> Candidate? {
            order.best(history.candidates { key in
                tags.contains(where: { key.tag == $0 + tagSuffix }) && key.order == .latest
                    && (!owners || rule.owners.contains(key.source))
            }, by: .latest)
        }
        let optOut = latest([Sticky.optOut])
        let lift = latest([Sticky.explicitIn], owners: true)
        if let optOut {
            guard let lift, lift.occurredAt > optOut.occurredAt else { return optOut }
            return lift
        }
        return latest([Sticky.explicitIn, Sticky.plainIn])
    }

    /// Consent: the opt-out rule per subject (channel + purpose); the value lists one effective
    /// record per subject, sorted by subject.
    func resolveConsent(_ rule: FieldRule, _ history: FieldHistory) -> (FieldValue, Provenance)? {
        let subjects = Set(history.slots.keys.compactMap { key -> String? in
            guard let tag = key.tag, let hash = tag.firstIndex(of: "#") else { return nil }
            return String(tag[hash...])
        })
        var effective: [(subject: String, candidate: Candidate)] = []
        for subject in subjects {
            if let candidate = resolveOptOut(rule, history, tagSuffix: subject) { effective.append((subject, candidate)) }
        }
        guard let newest = order.best(effective.map(\.candidate), by: .latest) else { return nil }
        let records = effective.sorted { $0.subject < $1.subject }.flatMap { entry -> [ConsentRecord] in
            if case .consent(let records) = entry.candidate.value { return records }
            return []
        }
        return (.consent(records), Provenance(newest, rule: rule.name))
    }

    /// The latest owner total plus every increment after it; provenance is the newest input.
    func resolveCounter(_ rule: FieldRule, _ history: FieldHistory) -> (FieldValue, Provenance)? {
        let owned = history.slots.filter { rule.owners.contains($0.key.source) }
        let base = order.best(owned.filter { $0.key.tag == Counter.total }.values, by: .latest)
        let increments = owned.filter { key, candidate in
            (key.tag?.hasPrefix(Counter.incrementPrefix) ?? false) && base.map { candidate.occurredAt > $0.occurredAt } ?? true
        }.values
        let inputs = (base.map { [$0] } ?? []) + increments
        guard let newest = order.best(inputs, by: .latest) else { return nil }
        let total = inputs.reduce(Decimal(0)) { sum, candidate in sum + (candidate.value.numberValue ?? 0) }
        return (.number(total), Provenance(newest, rule: rule.name))
    }

    /// The consent log is bounded, so the audit trail carries the full history: a new consent
    /// record the event offered that did not become effective (a field change shows those) is
    /// reported as a `consent_history` change of its field.
    func consentHistory(_ offer: Offer, before state: RecordPolicyState, after: ResolvedRecord) -> [FieldChange] {
        var changes: [FieldChange] = []
        for (field, value) in offer.fields.sorted(by: { $0.key < $1.key }) {
            let rule = policy.rule(for: field)
            guard rule.policy == .sticky, case .consent(let records) = value else { continue }
            // Rejected records count as hidden: an event whose values were all rejected makes no
            // audit event of its own, so the history change is what puts them in the trail.
            var visible: [ConsentRecord] = []
            if case .consent(let effective)? = after.fields[field] { visible += effective }
            let hidden = records.filter { !state.consentLog.contains($0) && !visible.contains($0) }
            guard !hidden.isEmpty else { continue }
            changes.append(FieldChange(field: "\(field)_history", before: nil, after: .consent(hidden), rule: rule.name))
        }
        return changes
    }

    // MARK: Reasons

    func rejectedConsent(_ field: String, _ records: [ConsentRecord], _ current: FieldValue?, _ rule: FieldRule) -> [RejectedValue] {
        guard case .consent(let effective)? = current else { return [] }
        let withdrawn = Set(effective.filter { !$0.granted }.map(\.subject))
        return records.filter { $0.granted && withdrawn.contains($0.subject) }.map { record in
            RejectedValue(field: field, value: .consent([record]), rule: rule.name,
                          reason: "\(record.subject) was withdrawn; only an explicit re-consent from \(names(rule.owners)), later in event time, lifts it")
        }
    }

    func lossReason(_ field: String, _ rule: FieldRule, _ source: Source, _ current: FieldValue?) -> String {
        let shown = current.map { " (record keeps \(describe($0)))" } ?? ""
        switch rule.policy {
        case .owner, .fillIfEmpty, .review:
            if rule.owners.contains(source) { return "a later value from \(names(rule.owners)) stands\(shown)" }
            return "\(names(rule.owners)) owns \(field); a non-owner value only fills a gap, and the earliest one does\(shown)"
        case .setOnce: return "set once: the earliest value stands\(shown)"
        case .lastWriteWins: return "a later write stands\(shown)"
        case .max: return "a larger value stands\(shown)"
        case .monotonic: return "stages never move backwards\(shown)"
        case .sticky:
            return "opted out; only an explicit re-consent from \(names(rule.owners)), later in event time, lifts it\(shown)"
        case .counter: return "superseded by a later total\(shown)"
        }
    }

    func describe(_ value: FieldValue) -> String {
        switch value {
        case .string(let text): text
        case .number(let number): "\(number)"
        case .bool(let flag): "\(flag)"
        case .timestamp(let instant): instant.rfc3339
        case .set(let items): "[" + items.joined(separator: ", ") + "]"
        case .consent(let records): "\(records.count) consent record(s)"
        case .null: "null"
        }
    }

    func names(_ sources: Set<Source>) -> String {
        sources.sorted { order.priority($0) < order.priority($1) }.map(\.rawValue).joined(separator: "/")
    }

    func primaryOwner(_ rule: FieldRule) -> Source {
        rule.owners.min { order.priority($0) < order.priority($1) } ?? .crm
    }
}

/// Tags of sticky slots: `opt-out` sticks; `explicit-in` (an explicit action) may lift it.
enum Sticky {
    static let optOut = "opt-out"
    static let explicitIn = "explicit-in"
    static let plainIn = "in"
}

enum Counter {
    static let total = "total"
    static let incrementPrefix = "inc:"
}

extension Candidate {
    var stageValue: String { value.stringValue ?? "" }
}
