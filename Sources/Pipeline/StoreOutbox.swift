import CRMModel
import Store

/// The store's outbox, as the relay sees it.
public struct StoreOutbox: Outbox {
    let store: any GoldenStore
    let clock: Clock

    public init(store: any GoldenStore, clock: Clock = .system) {
        self.store = store
        self.clock = clock
    }

    public func unsent(limit: Int) throws -> [OutboxRecord] {
        try store.read { try $0.unsentOutbox(limit: limit) }.map { OutboxRecord(id: $0.id, message: $0.message.producerMessage) }
    }

    public func park(_ id: Int64, reason: String) throws {
        let now = clock.now()
        try store.write { try $0.parkOutbox(id, reason: reason, at: now) }
    }

    /// Delivered rows are deleted: the audit trail lives on in the audit log, and nothing else
    /// needs a published row again.
    public func markSent(_ ids: [Int64]) throws {
        try store.write { try $0.deleteDelivered(ids) }
    }
}
