import CRMModel
import Foundation

extension Provenance {
    init(_ candidate: Candidate, rule: String) {
        self.init(source: candidate.source, system: candidate.system, eventID: candidate.eventID,
                  occurredAt: candidate.occurredAt, rule: rule)
    }
}

/// The golden record's resolved content: a pure function of the events applied.
public struct ResolvedRecord: Sendable, Hashable, Codable {
    /// Resolved values by field name; a field without any value is absent (never `.null`).
    public var fields: [String: FieldValue]
    /// One entry per key of ``fields``.
    public var provenance: [String: Provenance]
    /// The consent history that travels with the contact, oldest first: the latest record per
    /// channel + purpose plus the most recent ``RecordPolicyState/consentHistoryLimit`` (the full
    /// history is in the audit trail).
    public var consent: [ConsentRecord]
    /// When the record was soft-deleted, if its latest delete is later than its latest restore.
    public var deletedAt: Timestamp?

    public init(fields: [String: FieldValue] = [:], provenance: [String: Provenance] = [:], consent: [ConsentRecord] = [],
                deletedAt: Timestamp? = nil) {
        self.fields = fields
        self.provenance = provenance
        self.consent = consent
        self.deletedAt = deletedAt
    }
}

/// A value an event offered that the record did not take (`rejected[]` of an audit event).
public struct RejectedValue: Sendable, Hashable, Codable {
    public var field: String
    public var value: FieldValue
    /// The rule that refused it.
    public var rule: String
    /// Why, for people reading the audit trail ("crm owns job_title", "map may set at most mql").
    public var reason: String

    public init(field: String, value: FieldValue, rule: String, reason: String) {
        self.field = field
        self.value = value
        self.rule = rule
        self.reason = reason
    }
}

/// A conflicting non-owner value on a critical field: the record keeps ``currentValue`` and a
/// person decides (`review.requests.v1`).
public struct FieldReview: Sendable, Hashable, Codable {
    public var field: String
    public var currentValue: FieldValue
    /// Who set the current value.
    public var current: Provenance?
    public var proposedValue: FieldValue
    /// The event that proposed the new value (its `rule` is `review`).
    public var proposedBy: Provenance
    /// The system of record whose authority an approval uses (first by source priority).
    public var owner: Source

    /// Stable per (field, proposing event): prefix it with the golden id for a review-request id,
    /// so a redelivered or replayed event re-raises the same request instead of a second one.
    public var key: String { "\(field):\(proposedBy.eventID)" }

    public init(field: String, currentValue: FieldValue, current: Provenance?, proposedValue: FieldValue,
                proposedBy: Provenance, owner: Source) {
        self.field = field
        self.currentValue = currentValue
        self.current = current
        self.proposedValue = proposedValue
        self.proposedBy = proposedBy
        self.owner = owner
    }
}

/// The outcome of applying one event (or one review approval) to a record.
public struct Resolution: Sendable, Hashable {
    /// The new history; persist it whenever ``stateChanged`` (even with no ``changes``: a later
    /// event is resolved against it, e.g. a CRM echo moves the owner's latest timestamp).
    public var state: RecordPolicyState
    /// The record resolved from ``state``.
    public var record: ResolvedRecord
    /// Resolved fields whose value differs from before, sorted by field. Empty = a no-op write
    /// (e.g. an echo of crmsync's own write): no audit event, no output.
    public var changes: [FieldChange]
    /// Offered values the record did not take, sorted by field.
    public var rejected: [RejectedValue]
    /// Review requests opened by this event, sorted by field.
    public var reviews: [FieldReview]
    /// Whether ``state`` differs from the state passed in.
    public var stateChanged: Bool

    /// True when the record's values did not change.
    public var isNoOp: Bool { changes.isEmpty }
}

extension FieldReview {
    /// The stored form (a review request's payload): values coded with their type, so a
    /// timestamp or a decimal comes back exactly as proposed (plain `Codable` JSON reads a
    /// timestamp back as a string).
    public func losslessJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(Stored(self))
    }

    /// Reads ``losslessJSON()``, or the plain `Codable` form stored by earlier versions.
    public init(losslessJSON data: Data) throws {
        do {
            self = try JSONDecoder().decode(Stored.self, from: data).review
        } catch let lossless {
            guard let plain = try? JSONDecoder().decode(FieldReview.self, from: data) else { throw lossless }
            self = plain
        }
    }

    private struct Stored: Codable {
        var field: String
        var currentValue: LosslessValue
        var current: Provenance?
        var proposedValue: LosslessValue
        var proposedBy: Provenance
        var owner: Source
        /// Tells this form from the plain one.
        var encoding = "lossless"

        init(_ review: FieldReview) {
            field = review.field
            currentValue = LosslessValue(review.currentValue)
            current = review.current
            proposedValue = LosslessValue(review.proposedValue)
            proposedBy = review.proposedBy
            owner = review.owner
        }

        var review: FieldReview {
            FieldReview(field: field, currentValue: currentValue.value, current: current, proposedValue: proposedValue.value,
                        proposedBy: proposedBy, owner: owner)
        }

        enum CodingKeys: String, CodingKey {
            case field, current, owner, encoding
            case currentValue = "current_value"
            case proposedValue = "proposed_value"
            case proposedBy = "proposed_by"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            encoding = try container.decode(String.self, forKey: .encoding)
            guard encoding == "lossless" else {
                throw DecodingError.dataCorruptedError(forKey: .encoding, in: container, debugDescription: "unknown review encoding \(encoding)")
            }
            field = try container.decode(String.self, forKey: .field)
            currentValue = try container.decode(LosslessValue.self, forKey: .currentValue)
            current = try container.decodeIfPresent(Provenance.self, forKey: .current)
            proposedValue = try container.decode(LosslessValue.self, forKey: .proposedValue)
            proposedBy = try container.decode(Provenance.self, forKey: .proposedBy)
            owner = try container.decode(Source.self, forKey: .owner)
        }
    }
}
