import CRMModel
import Dedup
import Foundation


/// One golden record as stored: current values, where each came from, and the ownership
/// engine's opaque per-field history.
public struct GoldenRecord: Sendable, Hashable {
    public var id: GoldenID
    public var entity: Entity
    /// 0 = identity only (created by ``StoreTransaction/applyIdentity(_:event:at:)``, no fields
    /// written yet); each ``StoreTransaction/updateRecord(_:)`` must raise it by exactly one.
    public var version: Int64
    public var fields: [String: FieldValue]
    public var provenance: [String: Provenance]
    /// Consent facts (when, where, what) that travel with a contact.
    public var consent: [ConsentRecord]
    /// The ownership engine's serialized per-field candidate history; the store only persists it.
    public var policyState: Data
    public var deletedAt: Timestamp?
    /// Set on a merged-away tombstone: the survivor's id.
    public var mergedInto: GoldenID?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(id: GoldenID, entity: Entity, version: Int64 = 0, fields: [String: FieldValue] = [:],
                provenance: [String: Provenance] = [:], consent: [ConsentRecord] = [], policyState: Data = Data(),
                deletedAt: Timestamp? = nil, mergedInto: GoldenID? = nil, createdAt: Timestamp, updatedAt: Timestamp) {
        self.id = id
        self.entity = entity
        self.version = version
        self.fields = fields
        self.provenance = provenance
        self.consent = consent
        self.policyState = policyState
        self.deletedAt = deletedAt
        self.mergedInto = mergedInto
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What became of an input event (docs/contract.md#accounting-identity).
public enum EventOutcome: String, Sendable, Hashable, CaseIterable, Codable {
    case applied
    case duplicate
    case review
    case deadLettered = "dead_lettered"
}

/// An event id the store remembers, so a redelivery or replay is recognized as a duplicate.
public struct RememberedEvent: Sendable, Hashable {
    /// The publishing system; event ids are unique per system.
    public var system: String
    public var eventID: String
    public var source: Source?
    public var outcome: EventOutcome
    public var goldenID: GoldenID?
    /// When crmsync first saw it (retention is measured from here).
    public var seenAt: Timestamp

    public init(system: String, eventID: String, source: Source?, outcome: EventOutcome, goldenID: GoldenID?, seenAt: Timestamp) {
        self.system = system
        self.eventID = eventID
        self.source = source
        self.outcome = outcome
        self.goldenID = goldenID
        self.seenAt = seenAt
    }
}

/// One merge in a record's history: `absorbed` became part of `survivor`.
public struct MergeEntry: Sendable, Hashable, Codable {
    public var survivorID: GoldenID
    public var absorbedID: GoldenID
    public var reason: String
    public var eventID: String?
    public var mergedAt: Timestamp
    /// The absorbed record's external ids at the time of the merge.
    public var absorbedExternalIDs: [String: [String]]

    public init(survivorID: GoldenID, absorbedID: GoldenID, reason: String, eventID: String?, mergedAt: Timestamp,
                absorbedExternalIDs: [String: [String]]) {
        self.survivorID = survivorID
        self.absorbedID = absorbedID
        self.reason = reason
        self.eventID = eventID
        self.mergedAt = mergedAt
        self.absorbedExternalIDs = absorbedExternalIDs
    }

    enum CodingKeys: String, CodingKey {
        case survivorID = "survivor_id"
        case absorbedID = "absorbed_id"
        case reason
        case eventID = "event_id"
        case mergedAt = "merged_at"
        case absorbedExternalIDs = "absorbed_external_ids"
    }
}

/// The kind of decision a review request asks for.
public enum ReviewKind: String, Sendable, Hashable, Codable {
    /// Which record (if any) an event's person is: the whole event waits.
    case identity
    /// A conflicting value on a critical field; the record keeps its value meanwhile.
    case field
}

/// Where a review request stands.
public enum ReviewStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case open
    case approved
    case rejected
}

/// A conflict a person decides (`crmsync review list|approve|reject`).
public struct ReviewRequest: Sendable, Hashable {
    /// Deterministic (see ``ReviewRequest/makeID(kind:eventID:system:field:)``), so a redelivered
    /// event cannot open a second request.
    public var id: String
    public var goldenID: GoldenID?
    public var kind: ReviewKind
    public var status: ReviewStatus
    /// Why it was opened (`name_company_only`, `conflict`, `ambiguous`, or a field rule).
    public var reason: String
    /// The event that raised it.
    public var eventID: String
    /// JSON document with what the reviewer needs (for identity: the held ``NormalizedEvent``).
    public var payload: Data
    /// Best first.
    public var candidates: [ScoredCandidate]
    public var createdAt: Timestamp
    public var resolvedAt: Timestamp?

    public init(id: String, goldenID: GoldenID?, kind: ReviewKind, status: ReviewStatus = .open, reason: String,
                eventID: String, payload: Data, candidates: [ScoredCandidate], createdAt: Timestamp, resolvedAt: Timestamp? = nil) {
        self.id = id
        self.goldenID = goldenID
        self.kind = kind
        self.status = status
        self.reason = reason
        self.eventID = eventID
        self.payload = payload
        self.candidates = candidates
        self.createdAt = createdAt
        self.resolvedAt = resolvedAt
    }

    /// `rv-` + a hash of what the request is about.
    public static func makeID(kind: ReviewKind, eventID: String, system: String, field: String? = nil) -> String {
        let reference = ExternalReference(system: system, id: "\(kind.rawValue)|\(eventID)|\(field ?? "")")
        return "rv-" + GoldenIDs.make(entity: .contact, reference: reference).dropFirst(2)
    }

    /// The identity review for an event dedup held, with the event itself as payload.
    public static func identity(for event: NormalizedEvent, review: IdentityReview, at time: Timestamp) throws -> ReviewRequest {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return ReviewRequest(
            id: makeID(kind: .identity, eventID: event.event.eventID, system: event.event.system),
            goldenID: review.candidates.first?.goldenID, kind: .identity, reason: review.reason.rawValue,
            eventID: event.event.eventID, payload: try encoder.encode(event), candidates: review.candidates, createdAt: time)
    }
}

/// One message headed for Kafka, written in the same transaction as the change it announces.
public struct OutboxMessage: Sendable, Hashable {
    public var topic: String
    public var key: Data?
    public var value: Data
    /// Header name/value pairs in order (CloudEvents binary mode headers and the like).
    public var headers: [OutboxHeader]
    public var createdAt: Timestamp

    public init(topic: String, key: Data?, value: Data, headers: [OutboxHeader] = [], createdAt: Timestamp) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.createdAt = createdAt
    }
}

/// One Kafka header of an outbox message. Values are bytes, not text: a dead letter carries the
/// original record's headers untouched, whatever they hold (JSON column: base64, or null).
public struct OutboxHeader: Sendable, Hashable, Codable {
    public var name: String
    /// `nil` is Kafka's null header value, distinct from an empty one.
    public var value: Data?

    public init(_ name: String, bytes: Data?) {
        self.name = name
        self.value = bytes
    }

    public init(_ name: String, _ text: String) {
        self.init(name, bytes: Data(text.utf8))
    }

    /// The value as UTF-8 text, if present.
    public var text: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}

/// A stored outbox row: its id orders publication.
public struct OutboxEntry: Sendable, Hashable {
    public var id: Int64
    public var message: OutboxMessage
    public var sentAt: Timestamp?
}

/// The end of one record's audit hash chain, so the next audit event can link to it gap-free.
public struct AuditHead: Sendable, Hashable {
    /// The last audit `seq` written for the record (1-based).
    public var seq: Int64
    /// The `hash` of that audit event.
    public var lastHash: String
    public init(seq: Int64, lastHash: String) {
        self.seq = seq
        self.lastHash = lastHash
    }
}

/// How many events of one source had one outcome, and when the last did.
public struct OutcomeCount: Sendable, Hashable {
    public var source: String
    public var outcome: EventOutcome
    public var count: Int64
    public var lastAt: Timestamp?
}

/// What ``StoreTransaction/applyIdentity(_:event:at:)`` did.
public struct AppliedIdentity: Sendable, Hashable {
    /// The record the event now applies to (the survivor after a merge).
    public var goldenID: GoldenID
    /// Whether the record was created (version 0, no fields yet).
    public var created: Bool
    /// Records merged into ``goldenID`` (now tombstones with `merged_into` set).
    public var absorbed: [GoldenID]
    /// The record as inserted when ``created``: the writer need not read it back.
    public var inserted: GoldenRecord? = nil
}

/// What ``StoreTransaction/recordForRewrite(_:)`` reads: the record without its content, and
/// its audit head (nil before its first audit event).
public struct RecordForRewrite: Sendable, Hashable {
    public var record: GoldenRecord
    public var auditHead: AuditHead?

    public init(record: GoldenRecord, auditHead: AuditHead?) {
        self.record = record
        self.auditHead = auditHead
    }
}

/// Where a page of ``StoreReader/softDeletedRecords(deletedBefore:after:limit:)`` ended.
public struct SoftDeleteCursor: Sendable, Hashable {
    /// The last record's `deleted_at`.
    public var deletedAt: Timestamp
    /// The last record's id (the tie-break among equal `deleted_at`).
    public var id: GoldenID

    public init(deletedAt: Timestamp, id: GoldenID) {
        self.deletedAt = deletedAt
        self.id = id
    }
}

/// What ``StoreTransaction/purgeRecord(_:)`` removed.
public struct PurgedRecord: Sendable, Hashable {
    public var id: GoldenID
    /// Crosswalk entries removed, by system.
    public var externalIDs: [String: [String]]
    /// Identity-index entries removed.
    public var identifiers: Int
    /// Tombstones of records once merged into this one, removed with it.
    public var tombstones: [GoldenID]

    public init(id: GoldenID, externalIDs: [String: [String]], identifiers: Int, tombstones: [GoldenID]) {
        self.id = id
        self.externalIDs = externalIDs
        self.identifiers = identifiers
        self.tombstones = tombstones
    }
}

/// An outbox row the broker refused for good, kept aside so the rows behind it flow.
public struct ParkedOutboxEntry: Sendable, Hashable {
    public var id: Int64
    public var topic: String
    /// Size of the value in bytes.
    public var valueBytes: Int
    public var reason: String
    public var parkedAt: Timestamp
}

/// An operator alarm kept in the store (there is no metrics endpoint yet: `crmsync stats` is
/// where alarms are counted and shown).
public struct Alarm: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Source data expired (or the log was truncated) before it was read (docs/contract.md#offset-out-of-range).
        case offsetOutOfRange = "offset_out_of_range"
        /// Another store committed offsets in this store's consumer group; `run` stopped (exit 6).
        case foreignStore = "foreign_store"
        /// A source record batch could not be decoded; `run` stopped before it (exit 7).
        case unreadableBatch = "unreadable_batch"
    }

    /// Row id; nil until stored.
    public var id: Int64?
    public var kind: Kind
    public var topic: String
    public var partition: Int32
    /// First and last offset of the range that can no longer be read, when known.
    public var lostFrom: Int64?
    public var lostTo: Int64?
    /// The offset consumption resumed at.
    public var resumedAt: Int64
    /// One line for the operator.
    public var detail: String
    public var raisedAt: Timestamp

    public init(id: Int64? = nil, kind: Kind, topic: String, partition: Int32, lostFrom: Int64?, lostTo: Int64?,
                resumedAt: Int64, detail: String, raisedAt: Timestamp) {
        self.id = id
        self.kind = kind
        self.topic = topic
        self.partition = partition
        self.lostFrom = lostFrom
        self.lostTo = lostTo
        self.resumedAt = resumedAt
        self.detail = detail
        self.raisedAt = raisedAt
    }
}
