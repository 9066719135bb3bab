import CRMModel

/// One delete or restore, ordered by event time with the event id as tie-break, so the latest
/// of a set of marks never depends on the order they arrived in.
public struct LifecycleMark: Sendable, Hashable, Codable, Comparable {
    /// When the source deleted or restored the record (`occurred_at`).
    public var occurredAt: Timestamp
    /// The event that did it.
    public var eventID: String

    public init(occurredAt: Timestamp, eventID: String) {
        self.occurredAt = occurredAt
        self.eventID = eventID
    }

    enum CodingKeys: String, CodingKey {
        case occurredAt = "occurred_at_ms"
        case eventID = "event_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        occurredAt = Timestamp(epochMilliseconds: try container.decode(Int64.self, forKey: .occurredAt))
        eventID = try container.decode(String.self, forKey: .eventID)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        // Integer milliseconds, like candidates: exact for every instant.
        try container.encode(occurredAt.epochMilliseconds, forKey: .occurredAt)
        try container.encode(eventID, forKey: .eventID)
    }

    public static func < (a: LifecycleMark, b: LifecycleMark) -> Bool {
        if a.occurredAt != b.occurredAt { return a.occurredAt < b.occurredAt }
        return a.eventID.unicodeScalars.lexicographicallyPrecedes(b.eventID.unicodeScalars)
    }

    /// The later of two optional marks (a semilattice join: order-free and idempotent).
    static func latest(_ a: LifecycleMark?, _ b: LifecycleMark?) -> LifecycleMark? {
        guard let a else { return b }
        guard let b else { return a }
        return max(a, b)
    }
}

extension RecordPolicyState {
    /// The soft-delete instant: the latest delete's event time when it is later than the latest
    /// restore (event time, then event id), else nil. Ordinary updates never touch it, so only a
    /// `restored` event later in event time lifts a delete.
    public var deletedAt: Timestamp? {
        guard let delete = lastDelete else { return nil }
        if let restore = lastRestore, restore >= delete { return nil }
        return delete.occurredAt
    }

    /// Adopts a soft delete recorded before deletes were kept in the history (stores written by
    /// an older crmsync carry only `deleted_at`), so the next event does not silently undo it.
    public func adoptingLegacyDeletion(_ deletedAt: Timestamp?) -> RecordPolicyState {
        guard let deletedAt, lastDelete == nil, lastRestore == nil else { return self }
        var state = self
        state.lastDelete = LifecycleMark(occurredAt: deletedAt, eventID: "")
        return state
    }
}
