import Audit
import CRMModel
import DeadLetters
import Dedup
import Foundation
import Kafka
import Logging
import Normalize
import Ownership
import Store

/// Topic names the write stage produces to.
public struct OutputTopics: Sendable, Hashable {
    public var golden: String
    public var audit: String
    public var review: String
    public var dlq: String

    public init(golden: String, audit: String, review: String, dlq: String) {
        self.golden = golden
        self.audit = audit
        self.review = review
        self.dlq = dlq
    }
}

/// The write stage: normalize → dedup → ownership-resolve → write, for a whole batch, in one
/// store transaction together with the outbox rows (golden records, audit events, review
/// requests, dead letters) and the consumed offsets. A crash anywhere leaves either the whole
/// batch or none of it, and the consumer resumes from the offsets in the store.
///
/// Accounting: every canonical event ends as exactly one of applied, duplicate, review or
/// dead-lettered; a message that fails to normalize is one dead-lettered input.
public final class WriteStage: BatchWriter {
    let store: any GoldenStore
    let normalize: NormalizeStage
    let resolver: IdentityResolver
    let ownership: OwnershipEngine
    let sources: [String: Source]
    let topics: OutputTopics
    let clock: Clock
    let logger: Logger

    public init(
        store: any GoldenStore, normalize: NormalizeStage, resolver: IdentityResolver, ownership: OwnershipEngine,
        sources: [String: Source], topics: OutputTopics, clock: Clock = .system, logger: Logger
    ) {
        self.store = store
        self.normalize = normalize
        self.resolver = resolver
        self.ownership = ownership
        self.sources = sources
        self.topics = topics
        self.clock = clock
        self.logger = logger
    }

    public func storedOffsets(for partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
        try store.read { reader in
            var result: [TopicPartition: Int64] = [:]
            for topic in Set(partitions.map(\.topic)) {
                let stored = try reader.consumedOffsets(topic: topic)
                for partition in partitions where partition.topic == topic {
                    if let next = stored[partition.partition] { result[partition] = next }
                }
            }
            return result
        }
    }

    public func raiseOffsetAlarm(_ alarm: OffsetAlarm) throws {
        do {
            try store.write { tx in
                try tx.raiseAlarm(Alarm(kind: .offsetOutOfRange, topic: alarm.partition.topic, partition: alarm.partition.partition,
                                        lostFrom: alarm.lostRange?.lowerBound, lostTo: alarm.lostRange?.upperBound,
                                        resumedAt: alarm.resumeAt, detail: alarm.description, raisedAt: clock.now()))
                try tx.commitOffset(topic: alarm.partition.topic, partition: alarm.partition.partition, next: alarm.resumeAt)
            }
        } catch let error as StoreError where error.isTransient {
            throw TransientFailure("store: \(error)")
        }
    }

    public func apply(_ batch: [ConsumerMessage]) throws -> BatchResult {
        // Parsing and normalizing need no store: done on threads of their own, on every core,
        // while the single writer's transaction looks up and writes the messages ahead.
        let normalized = startNormalizing(batch)
        do {
            let started = ContinuousClock.now
            var result = try store.write { tx in
                var outcomes: [String: Int] = [:]
                var tally = OutcomeTally()
                var offsets: [TopicPartition: Int64] = [:]
                var summary = BatchSummary()
                for (index, message) in batch.enumerated() {
                    let events = normalized.result(index)
                    let now = clock.now()
                    let source = sources[message.topic] ?? .crm
                    for counted in try processIsolated(message, events, source: source, tx: tx, now: now, summary: &summary) {
                        outcomes[counted.outcome.rawValue, default: 0] += 1
                        tally.add(counted, at: now)
                    }
                    offsets[message.topicPartition] = max(offsets[message.topicPartition] ?? 0, message.offset + 1)
                }
                try tally.write(to: tx)
                // One instant for the batch's counters, so they all land in the same hour bucket.
                let end = clock.now()
                try tx.countDeadLetters(summary.deadLetters, at: end)
                try tx.countEvents(summary.events, at: end)
                try tx.noteApplied(summary.appliedSystems, at: end)
                for (partition, next) in offsets {
                    try tx.commitOffset(topic: partition.topic, partition: partition.partition, next: next)
                }
                return BatchResult(nextOffsets: offsets, outcomes: outcomes, summary: summary)
            }
            let elapsed = (ContinuousClock.now - started).components
            result.summary.writeSeconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            return result
        } catch let error as StoreError where error.isTransient {
            throw TransientFailure("store: \(error)")
        }
    }

    // MARK: - One message

    /// Processes one message in a savepoint. A permanent failure anywhere (an input the stages
    /// reject, or a record the store refuses to change) rolls back only this message's writes
    /// and dead-letters it, so a poison message can never stop the batch or the partition.
    /// Transient store errors propagate: the whole batch is retried.
    ///
    /// Returns the outcomes to count; the caller adds them to the store's counters once per batch.
    private func processIsolated(_ message: ConsumerMessage, _ normalized: NormalizeFeed.Normalized, source: Source,
                                 tx: any StoreTransaction, now: Timestamp, summary: inout BatchSummary) throws -> [CountedOutcome] {
        // The message's own counts join the batch's only if its savepoint commits: a message that
        // fails counts once, as a dead letter.
        var counted = BatchSummary()
        do {
            let outcomes = try tx.savepoint { try process(message, normalized, source: source, tx: tx, now: now, summary: &counted) }
            summary.add(counted)
            logHeldForReview(message, normalized, outcomes)
            return outcomes
        } catch let error as StoreError where error.isTransient || error.kind == .corrupt {
            // Transient: the whole batch is retried. Corrupt: nothing can be applied, so the
            // processor stops (exit 5) rather than dead-letter every event that follows.
            throw error
        } catch let error as EventError {
            return [try deadLetter(message, error: error, source: source.rawValue, tx: tx, now: now, summary: &summary, eventIDs: Self.eventIDs(normalized))]
        } catch {
            let failure = EventError(.internalError, stage: .write, "could not apply: \(error)")
            return [try deadLetter(message, error: failure, source: source.rawValue, tx: tx, now: now, summary: &summary, eventIDs: Self.eventIDs(normalized))]
        }
    }

    private func process(_ message: ConsumerMessage, _ normalized: NormalizeFeed.Normalized, source: Source,
                         tx: any StoreTransaction, now: Timestamp, summary: inout BatchSummary) throws -> [CountedOutcome] {
        let events: [PreparedEvent]
        switch normalized {
        case .success(let normalized):
            events = normalized
        case .failure(let error):
            return [try deadLetter(message, error: error, source: source.rawValue, tx: tx, now: now, summary: &summary)]
        }
        // A message that carries nothing crmsync models (e.g. a HubSpot association change) is
        // applied as a no-op so it still has an outcome.
        guard !events.isEmpty else {
            summary.count(EventOutcome.applied.rawValue, source: source.rawValue, system: nil)
            return [CountedOutcome(.applied, source: source.rawValue)]
        }
        // A failure of any event fails the whole message (one dead letter, by processIsolated),
        // like a normalize failure: the DLQ keeps the message as a unit.
        return try events.map { prepared in
            let counted = try apply(prepared, tx: tx, now: now, summary: &summary)
            let outcome = counted.outcome
            let event = prepared.normalized.event
            summary.count(outcome.rawValue, source: event.source.rawValue, system: event.system)
            if outcome == .applied {
                summary.appliedLatencies.append(.init(source: event.source.rawValue, system: event.system,
                                                      seconds: Double(now.epochMilliseconds - event.occurredAt.epochMilliseconds) / 1_000))
            }
            return counted
        }
    }

    private func deadLetter(_ message: ConsumerMessage, error: EventError, source: String, tx: any StoreTransaction, now: Timestamp,
                            summary: inout BatchSummary, eventIDs: [String] = []) throws -> CountedOutcome {
        let letter = DeadLetter(failed: message, error: error, failedAt: now)
        _ = try tx.enqueue(OutboxMessage(letter.record(topic: topics.dlq), at: now))
        summary.count(EventOutcome.deadLettered.rawValue, source: source, system: nil)
        summary.deadLetters[error.errorClass.rawValue, default: 0] += 1
        logger.warning("dead-lettered \(message.topic)[\(message.partition)]@\(message.offset): \(error)",
                       metadata: LogCoordinates.of(message, eventIDs: eventIDs))
        return CountedOutcome(.deadLettered, source: source)
    }

    // MARK: - One canonical event

    private func apply(_ prepared: PreparedEvent, tx: any StoreTransaction, now: Timestamp, summary: inout BatchSummary) throws -> CountedOutcome {
        let normalized = prepared.normalized
        let event = normalized.event
        let source = event.source.rawValue
        if try tx.rememberedEvent(system: event.system, eventID: event.eventID) != nil {
            return CountedOutcome(.duplicate, source: source)
        }
        let resolution = try resolver.resolve(prepared, lookup: tx)
        guard resolution.goldenID != nil else {
            return try holdForReview(normalized, resolution: resolution, tx: tx, now: now)
        }
        let written = try applyResolved(normalized, resolution: resolution, operation: nil, actor: nil, tx: tx, now: now)
        summary.merges += written.merged
        for rejection in written.rejected { summary.rejections[rejection, default: 0] += 1 }
        _ = try tx.rememberEvent(RememberedEvent(system: event.system, eventID: event.eventID, source: event.source,
                                                 outcome: .applied, goldenID: resolution.goldenID, seenAt: now))
        return CountedOutcome(.applied, source: source)
    }

    /// Applies an event whose identity is decided: crosswalk and indexes, merges, ownership,
    /// record, audit, outputs. Returns what it wrote, for metrics.
    @discardableResult
    func applyResolved(_ normalized: NormalizedEvent, resolution: IdentityResolution, operation forced: AuditEvent.Operation?,
                               actor: String?, tx: any StoreTransaction, now: Timestamp) throws -> AppliedWrite {
        let event = normalized.event
        // A record about to be created has no crosswalk entries yet (an entry always points at
        // an existing record: merges re-point them, purges delete them).
        let idsBefore = Self.creates(resolution) ? [:] : try resolution.goldenID.map { try tx.externalIDs(of: $0) } ?? [:]
        guard let identity = try tx.applyIdentity(resolution, event: normalized, at: now) else {
            throw EventError(.internalError, stage: .dedup, "identity of \(event.eventID) is not decided")
        }
        // A new record is as the store just inserted it. Without merges the record's content is
        // recomputed from its policy state: skip decoding it (and take its audit head along).
        let stored: GoldenRecord?
        var auditHead: AuditHead?? = nil
        if let inserted = identity.inserted {
            stored = inserted
        } else if identity.absorbed.isEmpty {
            let target = try tx.recordForRewrite(identity.goldenID)
            stored = target?.record
            auditHead = target.map(\.auditHead)
        } else {
            stored = try tx.record(identity.goldenID)
        }
        guard var record = stored else {
            throw StoreError(.notFound, "record \(identity.goldenID) vanished inside its transaction")
        }

        var state = try decodeState(record)
        var operation: AuditEvent.Operation = forced ?? (identity.created ? .create : .update)
        for absorbedID in identity.absorbed {
            guard let absorbed = try tx.record(absorbedID) else { continue }
            state = ownership.merge(state, try decodeState(absorbed))
            operation = .merge
            try publishTombstone(absorbed, into: identity.goldenID, event: event, tx: tx, now: now)
        }
        let before = record
        let resolved = ownership.apply(normalized, to: state)
        record.policyState = try encodeState(resolved.state)
        record.fields = resolved.record.fields
        record.provenance = resolved.record.provenance
        record.consent = resolved.record.consent
        // Decided on event time by the history (a late older restore or delete changes
        // nothing); the audit says soft_delete/restore only when the deleted state flips.
        record.deletedAt = resolved.record.deletedAt
        if (before.deletedAt == nil) != (record.deletedAt == nil), operation == .update {
            operation = record.deletedAt == nil ? .restore : .softDelete
        }

        // After a merge the engine's changes start from the merged history, so values the
        // survivor inherits from the absorbed record would be missing: diff the stored record.
        var changes = identity.absorbed.isEmpty ? resolved.changes : Self.fieldChanges(from: before, to: record)
        // Linking only points this event's references at the record; a merge also moves the
        // absorbed records' entries, which only the store knows.
        let idsAfter = identity.absorbed.isEmpty ? Self.linking(resolution.references, into: idsBefore) : try tx.externalIDs(of: record.id)
        if idsAfter != idsBefore, !identity.created {
            // A new system now knows this person: consumers following external ids must hear it.
            changes.append(AuditEvent.Change(field: "external_ids", before: .set(of: Self.flatten(idsBefore)),
                                             after: .set(of: Self.flatten(idsAfter)), rule: "crosswalk"))
        }
        if before.deletedAt != record.deletedAt {
            changes.append(AuditEvent.Change(field: "deleted_at", before: before.deletedAt.map(FieldValue.timestamp),
                                             after: record.deletedAt.map(FieldValue.timestamp), rule: "soft-delete"))
        }
        let rejected = resolved.rejected.map { AuditEvent.Rejection(field: $0.field, value: $0.value, rule: $0.rule) }
        let isNoOp = changes.isEmpty && !identity.created && identity.absorbed.isEmpty
        if isNoOp {
            // An echo of our own write, or nothing new: keep the history, make no audit noise.
            // (Versions count stored changes; only those that change the record are published.)
            if resolved.stateChanged {
                record.version += 1
                try tx.updateRecord(record)
            }
        } else {
            record.version += 1
            record.updatedAt = now
            try tx.updateRecord(record)
            let audit = try sealAudit(goldenID: record.id, entity: record.entity, operation: operation, event: event, changes: changes,
                                      rejected: rejected, tx: tx, now: now, actor: actor, head: auditHead)
            try tx.enqueue(contentsOf: [audit, try goldenMessage(record, externalIDs: idsAfter, now: now)])
        }
        for review in resolved.reviews {
            try openFieldReview(review, record: record, event: event, tx: tx, now: now)
        }
        // A weaker key pointed at someone whose stronger key differs (colleagues sharing a
        // switchboard): they stay two records, and a person gets to look at it.
        if !resolution.conflicts.isEmpty {
            try openConflictReview(resolution.conflicts, record: record, event: event, tx: tx, now: now)
        }
        return AppliedWrite(goldenID: record.id, merged: identity.absorbed.count,
                            rejected: resolved.rejected.map { BatchSummary.FieldRule(field: $0.field, rule: $0.rule) })
    }

    private func holdForReview(_ normalized: NormalizedEvent, resolution: IdentityResolution, tx: any StoreTransaction, now: Timestamp) throws -> CountedOutcome {
        let event = normalized.event
        let review: IdentityReview
        switch resolution.decision {
        case .review(let held):
            review = held
        default:
            throw EventError(.invalidValue, stage: .dedup, "\(event.type.rawValue) for \(event.system):\(event.externalID) matches no record")
        }
        let request = try ReviewRequest.identity(for: normalized, review: review, at: now)
        if try tx.openReviewRequest(request) {
            let candidates: [[String: Any]] = review.candidates.map {
                ["golden_id": $0.goldenID, "score": $0.score, "tier": $0.tier.description, "reasons": $0.reasons]
            }
            let body: [String: Any] = [
                "reason": review.reason.rawValue, "event_id": event.eventID, "system": event.system,
                "external_id": event.externalID, "candidates": candidates,
            ]
            _ = try tx.enqueue(OutboxMessage(OutputRecords.review(id: request.id, goldenID: request.goldenID, kind: "identity",
                                                                  body: body, topic: topics.review, at: now), at: now))
        }
        _ = try tx.rememberEvent(RememberedEvent(system: event.system, eventID: event.eventID, source: event.source,
                                                 outcome: .review, goldenID: nil, seenAt: now))
        return CountedOutcome(.review, source: event.source.rawValue)
    }

    private func openFieldReview(_ review: FieldReview, record: GoldenRecord, event: CanonicalEvent, tx: any StoreTransaction, now: Timestamp) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let request = ReviewRequest(
            id: ReviewRequest.makeID(kind: .field, eventID: event.eventID, system: event.system, field: review.field),
            goldenID: record.id, kind: .field, reason: "conflicting value for \(review.field)", eventID: event.eventID,
            payload: try review.losslessJSON(), candidates: [], createdAt: now)
        guard try tx.openReviewRequest(request) else { return }
        let proposal = try JSONSerialization.jsonObject(with: try encoder.encode(review), options: [.fragmentsAllowed])
        let body: [String: Any] = ["reason": request.reason, "event_id": event.eventID, "field": review.field, "proposal": proposal]
        _ = try tx.enqueue(OutboxMessage(OutputRecords.review(id: request.id, goldenID: record.id, kind: "field",
                                                              body: body, topic: topics.review, at: now), at: now))
    }

    /// One review per pair of records (ever: a pair a person decided stays decided), carrying
    /// the candidate's fuzzy score; a conflict scoring below the policy's threshold is only
    /// noted on the records and counted (see ``IdentityPolicy/conflictReviewThreshold``).
    private func openConflictReview(_ conflicts: [IdentityConflict], record: GoldenRecord, event: CanonicalEvent, tx: any StoreTransaction, now: Timestamp) throws {
        for conflict in conflicts where conflict.goldenID != record.id {
            guard conflict.score >= resolver.policy.conflictReviewThreshold else {
                try tx.noteNearMatch(NearMatch(record.id, conflict.goldenID, score: conflict.score, key: conflict.key.kind.rawValue,
                                               differingKey: conflict.differingKey, eventID: event.eventID, notedAt: now))
                continue
            }
            let candidate = ScoredCandidate(goldenID: conflict.goldenID, score: conflict.score, tier: Self.tier(of: conflict.key), reasons: conflict.reasons)
            let request = ReviewRequest(
                id: ReviewRequest.pairID(record.id, conflict.goldenID),
                goldenID: record.id, kind: .identity, reason: IdentityReviewReason.conflict.rawValue, eventID: event.eventID,
                payload: Data(), candidates: [candidate], createdAt: now)
            guard try tx.openReviewRequest(request) else { continue }
            let body: [String: Any] = [
                "reason": request.reason, "event_id": event.eventID, "system": event.system, "external_id": event.externalID,
                "candidates": [["golden_id": candidate.goldenID, "score": candidate.score, "reasons": candidate.reasons]],
            ]
            _ = try tx.enqueue(OutboxMessage(OutputRecords.review(id: request.id, goldenID: record.id, kind: "identity",
                                                                  body: body, topic: topics.review, at: now), at: now))
        }
    }

    func appendAudit(for record: GoldenRecord, operation: AuditEvent.Operation, event: CanonicalEvent,
                             changes: [AuditEvent.Change], rejected: [AuditEvent.Rejection], tx: any StoreTransaction, now: Timestamp,
                             actor: String? = nil) throws {
        try appendAudit(goldenID: record.id, entity: record.entity, operation: operation, event: event, changes: changes,
                        rejected: rejected, tx: tx, now: now, actor: actor)
    }

    /// Appends the next event of a record's audit chain to the outbox and moves the chain head.
    func appendAudit(goldenID: String, entity: Entity, operation: AuditEvent.Operation, event: CanonicalEvent,
                     changes: [AuditEvent.Change], rejected: [AuditEvent.Rejection], tx: any StoreTransaction, now: Timestamp,
                     actor: String? = nil) throws {
        _ = try tx.enqueue(try sealAudit(goldenID: goldenID, entity: entity, operation: operation, event: event, changes: changes,
                                         rejected: rejected, tx: tx, now: now, actor: actor))
    }

    /// Seals the next event of a record's audit chain: moves the chain head and keeps the event
    /// in the audit log. Returns its outbox row, which the caller enqueues (with others, in one go).
    /// - Parameter known: the record's audit head when the caller read it with the record
    ///   (`.some(nil)`: none yet); nil reads it.
    func sealAudit(goldenID: String, entity: Entity, operation: AuditEvent.Operation, event: CanonicalEvent,
                   changes: [AuditEvent.Change], rejected: [AuditEvent.Rejection], tx: any StoreTransaction, now: Timestamp,
                   actor: String?, head known: AuditHead?? = nil) throws -> OutboxMessage {
        let stored = try known ?? tx.auditHead(of: goldenID)
        let head = stored ?? AuditHead(seq: 0, lastHash: AuditEvent.genesisHash)
        let (audit, json) = AuditEvent.sealedWithJSON(
            goldenID: goldenID, seq: Int(head.seq) + 1, entity: entity, operation: operation,
            eventID: event.eventID, source: event.source, system: event.system, actor: actor ?? event.actor,
            occurredAt: event.occurredAt, appliedAt: now, changes: changes, rejected: rejected, prevHash: head.lastHash)
        try tx.advanceAuditHead(of: goldenID, to: AuditHead(seq: Int64(audit.seq), lastHash: audit.hash))
        let message = OutboxMessage(OutputRecords.audit(audit, json: json, topic: topics.audit), at: now)
        try tx.appendAuditLog(AuditLogEntry(goldenID: goldenID, seq: Int64(audit.seq), value: message.value))
        return message
    }

    func publishGolden(_ record: GoldenRecord, tx: any StoreTransaction, now: Timestamp) throws {
        _ = try tx.enqueue(try goldenMessage(record, externalIDs: try tx.externalIDs(of: record.id), now: now))
    }

    /// The golden-record row of `record` with its crosswalk entries `externalIDs`.
    func goldenMessage(_ record: GoldenRecord, externalIDs: [String: [String]], now: Timestamp) throws -> OutboxMessage {
        OutboxMessage(try OutputRecords.golden(GoldenRecordDocument(record: record, externalIDs: externalIDs), topic: topics.golden, at: now), at: now)
    }

    /// A merged-away record (`tombstone`, as stored after the merge) is published once more with
    /// `merged_into` set, and audited.
    private func publishTombstone(_ tombstone: GoldenRecord, into survivor: String, event: CanonicalEvent, tx: any StoreTransaction, now: Timestamp) throws {
        try appendAudit(for: tombstone, operation: .merge, event: event,
                        changes: [AuditEvent.Change(field: "merged_into", before: nil, after: .string(survivor), rule: "merge")],
                        rejected: [], tx: tx, now: now)
        try publishGolden(tombstone, tx: tx, now: now)
    }

    private static func tier(of key: IdentityKey) -> MatchTier {
        switch key {
        case .email: .email
        case .phone: .phone
        case .companyDomain: .companyDomain
        case .nameCompany, .lastNameCompany, .personName: .nameCompany
        }
    }

    /// Every field whose value differs between two versions of a record, sorted by field, with
    /// the rule that decided the new value (or the old one's, for a value that went away).
    static func fieldChanges(from old: GoldenRecord, to new: GoldenRecord) -> [AuditEvent.Change] {
        Set(old.fields.keys).union(new.fields.keys).sorted().compactMap { field in
            let (before, after) = (old.fields[field], new.fields[field])
            guard before != after else { return nil }
            let rule = new.provenance[field]?.rule ?? old.provenance[field]?.rule ?? "merge"
            return AuditEvent.Change(field: field, before: before, after: after, rule: rule)
        }
    }

    private static func creates(_ resolution: IdentityResolution) -> Bool {
        if case .create = resolution.decision { true } else { false }
    }

    /// `ids` (external ids by system, sorted) with `references` added, as the store lists them
    /// after linking the references to the record.
    static func linking(_ references: [ExternalReference], into ids: [String: [String]]) -> [String: [String]] {
        var result = ids
        for reference in references where !(result[reference.system]?.contains(reference.id) ?? false) {
            result[reference.system, default: []].append(reference.id)
            result[reference.system]?.sort()
        }
        return result
    }

    private static func flatten(_ ids: [String: [String]]) -> [String] {
        ids.flatMap { system, values in values.map { "\(system):\($0)" } }
    }

    /// The record's history; a soft delete stored before deletes were part of the history is
    /// adopted into it.
    func decodeState(_ record: GoldenRecord) throws -> RecordPolicyState {
        guard !record.policyState.isEmpty else { return RecordPolicyState.empty.adoptingLegacyDeletion(record.deletedAt) }
        return try PolicyStateCodec.decode(record.policyState).adoptingLegacyDeletion(record.deletedAt)
    }

    func encodeState(_ state: RecordPolicyState) throws -> Data {
        PolicyStateCodec.encode(state)
    }
}
