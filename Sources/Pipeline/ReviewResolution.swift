import Audit
import CRMModel
import Dedup
import Foundation
import Ownership
import Store

/// What a reviewer decided.
public enum ReviewDecision: Sendable, Hashable {
    /// Apply the held value (field review) or the held event to a record (identity review;
    /// `into` names the record, default the best-ranked candidate).
    case approve(into: String?)
    /// Keep things as they are; the request is closed.
    case reject
}

/// The outcome of resolving one review request.
public struct ReviewResolutionResult: Sendable, Hashable {
    public var reviewID: String
    public var status: ReviewStatus
    /// The record written by an approval, if any.
    public var goldenID: String?
}

/// Errors a reviewer can fix (wrong id, request already closed, bad target).
public struct ReviewResolutionError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

extension WriteStage {
    /// Resolves a review request through the normal write path, in one transaction: an approval
    /// writes the record, its audit event (`review_resolved`) and the outputs like any event.
    /// `comment` (the reviewer's note) goes with the resolution on the review topic.
    /// `crmsync review` and the web console both decide through here.
    public func resolveReview(id: String, decision: ReviewDecision, actor: String, comment: String? = nil) throws -> ReviewResolutionResult {
        try store.write { tx in
            let now = clock.now()
            guard let request = try tx.reviewRequest(id) else {
                throw ReviewResolutionError(description: "no review request \(id)")
            }
            guard request.status == .open else {
                throw ReviewResolutionError(description: "review request \(id) is already \(request.status.rawValue)")
            }
            var goldenID: String?
            let status: ReviewStatus
            switch decision {
            case .reject:
                status = .rejected
            case .approve(let into):
                status = .approved
                switch request.kind {
                case .field:
                    goldenID = try approveField(request, actor: actor, tx: tx, now: now)
                case .identity:
                    goldenID = try approveIdentity(request, into: into, actor: actor, tx: tx, now: now)
                }
            }
            let note = comment.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
            try close(request, status: status, goldenID: goldenID ?? request.goldenID, actor: actor, note: note, tx: tx, now: now)
            return ReviewResolutionResult(reviewID: id, status: status, goldenID: goldenID)
        }
    }

    /// Marks an open request resolved and announces it on the review topic.
    func close(_ request: ReviewRequest, status: ReviewStatus, goldenID: String?, actor: String, note: String? = nil,
               tx: any StoreTransaction, now: Timestamp) throws {
        try tx.resolveReviewRequest(request.id, status: status, at: now)
        var body: [String: Any] = ["status": status.rawValue, "resolved_by": actor, "event_id": request.eventID]
        if let note { body["note"] = note }
        _ = try tx.enqueue(OutboxMessage(OutputRecords.review(id: request.id, goldenID: goldenID, kind: "\(request.kind.rawValue).resolved",
                                                              body: body, topic: topics.review, at: now), at: now))
    }

    /// The held value is written with the owner's authority as of now (the approval is an
    /// input with a stable id, so approving twice changes nothing the second time).
    private func approveField(_ request: ReviewRequest, actor: String, tx: any StoreTransaction, now: Timestamp) throws -> String {
        let review = try FieldReview(losslessJSON: request.payload)
        guard let id = request.goldenID, var record = try tx.record(id) else {
            throw ReviewResolutionError(description: "review \(request.id) names no existing record")
        }
        let resolved = ownership.approve(review, approvalID: "review:\(request.id)", approvedAt: now, to: try decodeState(record))
        record.policyState = try encodeState(resolved.state)
        record.fields = resolved.record.fields
        record.provenance = resolved.record.provenance
        record.consent = resolved.record.consent
        record.version += 1
        record.updatedAt = now
        try tx.updateRecord(record)
        let approval = CanonicalEvent(
            eventID: "review:\(request.id)", source: review.owner, system: "crmsync-review", type: EventType(record.entity, .upserted),
            occurredAt: now, actor: actor, externalID: record.id, fields: [review.field: review.proposedValue])
        let changes = resolved.changes.map { AuditEvent.Change(field: $0.field, before: $0.before, after: $0.after, rule: "review") }
        try appendAudit(for: record, operation: .reviewResolved, event: approval, changes: changes, rejected: [], tx: tx, now: now, actor: actor)
        try publishGolden(record, tx: tx, now: now)
        return record.id
    }

    /// The held event is applied to the chosen record, as if the matcher had found it.
    private func approveIdentity(_ request: ReviewRequest, into: String?, actor: String, tx: any StoreTransaction, now: Timestamp) throws -> String {
        guard !request.payload.isEmpty else {
            throw ReviewResolutionError(description: "review \(request.id) flags a conflict on an applied event; reject it to acknowledge")
        }
        let normalized = try JSONDecoder().decode(NormalizedEvent.self, from: request.payload)
        guard let target = into ?? request.candidates.first?.goldenID, let record = try tx.liveRecord(target) else {
            throw ReviewResolutionError(description: "no live record \(into ?? "among the candidates") to apply \(request.eventID) to")
        }
        let resolution = IdentityResolution(decision: .existing(record.id, tier: .nameCompany),
                                            references: [normalized.externalReference], keys: resolver.identifiers(of: normalized),
                                            conflicts: [], overSharedKeys: [])
        try applyResolved(normalized, resolution: resolution, operation: .reviewResolved, actor: actor, tx: tx, now: now)
        let event = normalized.event
        try tx.updateEventOutcome(system: event.system, eventID: event.eventID, outcome: .applied, goldenID: record.id)
        try tx.moveOutcome(from: .review, to: .applied, source: event.source.rawValue, at: now)
        try tx.noteApplied([SourceSystem(source: event.source.rawValue, system: event.system)], at: now)
        return record.id
    }
}
