import CRMModel
import Crypto
import Foundation

/// One immutable audit event per applied write (docs/contract.md#audit-event).
///
/// Each record's events form a hash chain: `hash` = SHA-256 over `prev_hash` and the event's
/// canonical JSON (sorted keys, without `hash`), so editing, removing or reordering any event
/// breaks every later link (`crmsync audit verify`).
public struct AuditEvent: Sendable, Hashable, Codable {
    public enum Operation: String, Sendable, Hashable, Codable, CaseIterable {
        case create, update, merge
        case softDelete = "soft_delete"
        case restore
        case reviewResolved = "review_resolved"
        /// A soft-deleted record hard-deleted after the grace period by `crmsync purge` (an
        /// addition to the original operation list; the last event of the record's chain).
        case purge
    }

    /// A field that changed: its value before and after, and the rule that decided (the same
    /// type the ownership engine reports, so the write stage passes its changes through).
    public typealias Change = FieldChange

    /// A value that was not applied, and the rule that refused it.
    public struct Rejection: Sendable, Hashable, Codable {
        public var field: String
        public var value: FieldValue
        public var rule: String

        public init(field: String, value: FieldValue, rule: String) {
            self.field = field
            self.value = value
            self.rule = rule
        }
    }

    public var auditID: String
    public var goldenID: String
    /// Position in this record's chain, from 1, without gaps.
    public var seq: Int
    public var entity: Entity
    public var operation: Operation
    public var eventID: String
    public var source: Source
    public var system: String
    public var actor: String?
    public var occurredAt: Timestamp
    public var appliedAt: Timestamp
    public var changes: [Change]
    public var rejected: [Rejection]
    /// The previous event's hash; all zeros for `seq` 1.
    public var prevHash: String
    public var hash: String

    enum CodingKeys: String, CodingKey {
        case auditID = "audit_id", goldenID = "golden_id", seq, entity, operation
        case eventID = "event_id", source, system, actor
        case occurredAt = "occurred_at", appliedAt = "applied_at"
        case changes, rejected
        case prevHash = "prev_hash", hash
    }

    public static let genesisHash = String(repeating: "0", count: 64)

    /// Builds and seals the next event of a record's chain.
    public init(
        goldenID: String, seq: Int, entity: Entity, operation: Operation,
        eventID: String, source: Source, system: String, actor: String?,
        occurredAt: Timestamp, appliedAt: Timestamp,
        changes: [Change], rejected: [Rejection], prevHash: String
    ) {
        self.init(unsealed: goldenID, seq: seq, entity: entity, operation: operation, eventID: eventID, source: source,
                  system: system, actor: actor, occurredAt: occurredAt, appliedAt: appliedAt, changes: changes,
                  rejected: rejected, prevHash: prevHash)
        self.hash = computeHash()
    }

    /// Builds and seals the next event of a record's chain, with the JSON document published on
    /// `audit.events.v1` (the same bytes as ``jsonBytes()``, from one encoding instead of two).
    public static func sealedWithJSON(
        goldenID: String, seq: Int, entity: Entity, operation: Operation,
        eventID: String, source: Source, system: String, actor: String?,
        occurredAt: Timestamp, appliedAt: Timestamp,
        changes: [Change], rejected: [Rejection], prevHash: String
    ) -> (event: AuditEvent, json: [UInt8]) {
        sealed(AuditEvent(unsealed: goldenID, seq: seq, entity: entity, operation: operation, eventID: eventID, source: source,
                          system: system, actor: actor, occurredAt: occurredAt, appliedAt: appliedAt, changes: changes,
                          rejected: rejected, prevHash: prevHash))
    }

    private init(
        unsealed goldenID: String, seq: Int, entity: Entity, operation: Operation,
        eventID: String, source: Source, system: String, actor: String?,
        occurredAt: Timestamp, appliedAt: Timestamp,
        changes: [Change], rejected: [Rejection], prevHash: String
    ) {
        self.auditID = AuditEvent.auditID(goldenID: goldenID, seq: seq, eventID: eventID)
        self.goldenID = goldenID
        self.seq = seq
        self.entity = entity
        self.operation = operation
        self.eventID = eventID
        self.source = source
        self.system = system
        self.actor = actor
        self.occurredAt = occurredAt
        self.appliedAt = appliedAt
        self.changes = changes
        self.rejected = rejected
        self.prevHash = prevHash
        self.hash = ""
    }

    /// Deterministic: the same write (record, position, input event) always gets the same id,
    /// so a copy published twice after a crash is recognizable as one event.
    public static func auditID(goldenID: String, seq: Int, eventID: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("crmsync-audit\u{0}\(goldenID)\u{0}\(seq)\u{0}\(eventID)".utf8))
        // Formatted like a UUID (version nibble 5-style), 128 bits of the digest, written
        // byte by byte (through Characters this was a visible share of the write path).
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (index, byte) in hasher.finalize().prefix(16).enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// SHA-256 over `prev_hash` and the canonical JSON of every other field.
    public func computeHash() -> String {
        Self.hash(prevHash: prevHash, unsealedBody: unsealedBody())
    }

    /// The canonical JSON of the event with an empty `hash` (what the hash covers).
    private func unsealedBody() -> [UInt8] {
        var unsealed = self
        unsealed.hash = ""
        return unsealed.writeJSON().bytes
    }

    private static func hash(prevHash: String, unsealedBody body: [UInt8]) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(prevHash.utf8))
        hasher.update(data: body)
        return lowercaseHex(hasher.finalize())
    }

    /// The JSON document published on `audit.events.v1`.
    public func jsonBytes() -> [UInt8] {
        writeJSON().bytes
    }

    /// Seals the event and returns its JSON document, encoding it once: the sealed document is
    /// the unsealed one with the hash written into its empty `"hash":""`. Byte for byte what
    /// ``jsonBytes()`` gives after sealing.
    static func sealed(_ event: AuditEvent) -> (event: AuditEvent, json: [UInt8]) {
        var event = event
        event.hash = ""
        var (json, hashOffset) = event.writeJSON()
        event.hash = hash(prevHash: event.prevHash, unsealedBody: json)
        json.insert(contentsOf: event.hash.utf8, at: hashOffset)
        return (event, json)
    }
}

/// A broken link found by ``AuditVerifier``.
public struct AuditProblem: Sendable, Hashable, CustomStringConvertible {
    public var goldenID: String
    public var seq: Int
    public var problem: String
    public var description: String { "\(goldenID) seq \(seq): \(problem)" }

    public init(goldenID: String, seq: Int, problem: String) {
        self.goldenID = goldenID
        self.seq = seq
        self.problem = problem
    }
}

/// Checks hash chains: every record's events start at seq 1, have no gaps or repeats, each
/// `prev_hash` is the previous `hash`, and every `hash` recomputes.
public enum AuditVerifier {
    /// - Parameter events: all audit events, any order, copies of one event allowed (same
    ///   `audit_id` and content, as a relay republish produces).
    public static func verify(_ events: [AuditEvent]) -> [AuditProblem] {
        var problems: [AuditProblem] = []
        let byRecord = Dictionary(grouping: events, by: \.goldenID)
        for goldenID in byRecord.keys.sorted() {
            var bySeq: [Int: AuditEvent] = [:]
            for event in byRecord[goldenID] ?? [] {
                if let existing = bySeq[event.seq], existing != event {
                    problems.append(AuditProblem(goldenID: goldenID, seq: event.seq, problem: "two different events claim this position"))
                }
                bySeq[event.seq] = event
            }
            var previousHash = AuditEvent.genesisHash
            let maxSeq = bySeq.keys.max() ?? 0
            for seq in 1...max(maxSeq, 1) where maxSeq > 0 {
                guard let event = bySeq[seq] else {
                    problems.append(AuditProblem(goldenID: goldenID, seq: seq, problem: "missing (gap in the chain)"))
                    previousHash = ""
                    continue
                }
                if event.auditID != AuditEvent.auditID(goldenID: goldenID, seq: seq, eventID: event.eventID) {
                    problems.append(AuditProblem(goldenID: goldenID, seq: seq, problem: "audit_id does not match its record, position and event"))
                }
                if !previousHash.isEmpty, event.prevHash != previousHash {
                    problems.append(AuditProblem(goldenID: goldenID, seq: seq, problem: "prev_hash does not match the previous event's hash"))
                }
                if event.computeHash() != event.hash {
                    problems.append(AuditProblem(goldenID: goldenID, seq: seq, problem: "content was edited (hash does not match)"))
                }
                previousHash = event.hash
            }
        }
        return problems
    }
}

/// Lower-case hex of a digest's bytes (`String(format:)` per byte cost more than the hashing).
func lowercaseHex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
