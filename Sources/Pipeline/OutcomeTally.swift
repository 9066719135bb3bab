import CRMModel
import Store

/// One input's outcome and the source it is counted under.
struct CountedOutcome: Hashable {
    var outcome: EventOutcome
    var source: String

    init(_ outcome: EventOutcome, source: String) {
        self.outcome = outcome
        self.source = source
    }
}

/// A batch's outcome counts, written to the store's counters once per batch (one upsert per
/// source and outcome instead of one per event). Only outcomes of committed savepoints are
/// added, so a message rolled back and dead-lettered is counted once, as dead-lettered.
struct OutcomeTally {
    private var counts: [CountedOutcome: (count: Int, last: Timestamp)] = [:]

    mutating func add(_ counted: CountedOutcome, at time: Timestamp) {
        let current = counts[counted]
        counts[counted] = ((current?.count ?? 0) + 1, max(current?.last ?? time, time))
    }

    /// Adds the counts to the store's counters, in a stable order.
    func write(to tx: any StoreTransaction) throws {
        for (key, value) in counts.sorted(by: { ($0.key.source, $0.key.outcome.rawValue) < ($1.key.source, $1.key.outcome.rawValue) }) {
            try tx.countOutcome(key.outcome, source: key.source, count: value.count, at: value.last)
        }
    }
}
