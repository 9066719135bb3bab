import CRMModel

/// Where a candidate is kept in a field's history: one source, one ordering, one optional tag
/// (a stage, a consent subject, an opt-out class, an increment's event id).
///
/// Written as the text `source/order[/tag]` so the persisted blob is readable JSON.
struct SlotKey: Sendable, Hashable, Comparable {
    var source: Source
    var order: SlotOrder
    var tag: String?

    init(_ source: Source, _ order: SlotOrder, _ tag: String? = nil) {
        self.source = source
        self.order = order
        self.tag = tag
    }

    var text: String {
        let base = "\(source.rawValue)/\(order.rawValue)"
        return tag.map { "\(base)/\($0)" } ?? base
    }

    init?(text: String) {
        let parts = text.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let source = Source(rawValue: String(parts[0])),
              let order = SlotOrder(rawValue: String(parts[1])) else { return nil }
        self.init(source, order, parts.count == 3 ? String(parts[2]) : nil)
    }

    static func < (a: SlotKey, b: SlotKey) -> Bool { a.text < b.text }
}

/// The per-field history: for each slot, the one candidate that wins the slot's ordering.
///
/// Each slot is a join-semilattice (keep the better of two candidates under a total order), so
/// inserting is commutative, associative and idempotent: the history — and everything resolved
/// from it — depends only on the set of candidates ever offered, not on their order.
public struct FieldHistory: Sendable, Hashable {
    var slots: [SlotKey: Candidate] = [:]

    public init() {}

    /// Whether no candidate was kept.
    public var isEmpty: Bool { slots.isEmpty }

    /// Every kept candidate, in a stable order (for inspection and tests).
    public var candidates: [Candidate] { slots.sorted { $0.key < $1.key }.map(\.value) }

    /// Offers `candidate` to `slot`; returns whether the history changed.
    @discardableResult
    mutating func offer(_ candidate: Candidate, to slot: SlotKey) -> Bool {
        if let current = slots[slot], !CandidateOrder.slotLocal.better(candidate, current, by: slot.order) {
            return false
        }
        if slots[slot] == candidate { return false }
        slots[slot] = candidate
        return true
    }

    /// The winners of the slots matching a predicate.
    func candidates(where predicate: (SlotKey) -> Bool) -> [Candidate] {
        slots.compactMap { predicate($0.key) ? $0.value : nil }
    }
}

extension FieldHistory: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode([String: Candidate].self)
        for (text, candidate) in raw {
            guard let key = SlotKey(text: text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "bad history slot \(text)")
            }
            slots[key] = candidate
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Dictionary(uniqueKeysWithValues: slots.map { ($0.key.text, $0.value) }))
    }
}

/// Everything the ownership engine keeps about one golden record: per field, just enough
/// candidates to resolve any late event correctly, plus the consent log.
///
/// The store persists it as an opaque blob next to the record (`Codable`, JSON-friendly).
public struct RecordPolicyState: Sendable, Hashable, Codable {
    /// Histories by canonical field name.
    public var fields: [String: FieldHistory]
    /// The bounded consent history (when, where, what), oldest first: see ``log(_:)``.
    public var consentLog: [ConsentRecord]
    /// The latest `deleted` event applied (see ``deletedAt``); absent in blobs without one.
    public var lastDelete: LifecycleMark?
    /// The latest `restored` event applied.
    public var lastRestore: LifecycleMark?

    public init(fields: [String: FieldHistory] = [:], consentLog: [ConsentRecord] = [],
                lastDelete: LifecycleMark? = nil, lastRestore: LifecycleMark? = nil) {
        self.fields = fields
        self.consentLog = consentLog
        self.lastDelete = lastDelete
        self.lastRestore = lastRestore
    }

    /// A record nothing was applied to yet.
    public static let empty = RecordPolicyState()

    enum CodingKeys: String, CodingKey {
        case fields
        case consentLog = "consent_log"
        case lastDelete = "last_delete"
        case lastRestore = "last_restore"
    }

    /// How many of the most recent consent records the log keeps (besides the latest one per
    /// subject): the log travels in every golden document, so it must stay small. The full
    /// history is in the audit trail (each record appears in the audit event that applied it).
    public static let consentHistoryLimit = 20

    /// Adds consent records, keeping the log a bounded sorted set (see ``boundedConsentLog(_:)``).
    mutating func log(_ records: [ConsentRecord]) -> Bool {
        var all = consentLog
        for record in records where !all.contains(record) { all.append(record) }
        let bounded = Self.boundedConsentLog(all)
        guard bounded != consentLog else { return false }
        consentLog = bounded
        return true
    }

    /// The latest record per subject (channel + purpose) plus the ``consentHistoryLimit`` most
    /// recent records, oldest first. A function of the set of records (ordered by `at`, then a
    /// total key), and bounding a bounded log with more records gives the same as bounding all
    /// of them at once, so the log stays order-independent.
    static func boundedConsentLog(_ records: [ConsentRecord]) -> [ConsentRecord] {
        let sorted = records.sorted { ($0.at, $0.orderKey) < ($1.at, $1.orderKey) }
        var keep = Set(sorted.indices.suffix(consentHistoryLimit))
        var latestOfSubject: [String: Int] = [:]
        for (index, record) in sorted.enumerated() { latestOfSubject[record.subject] = index }
        keep.formUnion(latestOfSubject.values)
        return sorted.indices.filter(keep.contains).map { sorted[$0] }
    }
}
