import Foundation
import Kafka
import Normalize
import CRMModel
import Synchronization

extension WriteStage {
    /// Normalizes a batch's messages (pure: no store, no clock) on up to `lanes` threads; the
    /// results are in the batch's order, so the write that follows is the same as when each
    /// message was normalized in turn.
    func normalizeAll(_ batch: [ConsumerMessage], lanes: Int = ProcessInfo.processInfo.activeProcessorCount) -> [Result<[NormalizedEvent], EventError>] {
        let lanes = batch.count >= 32 ? min(max(1, lanes), 8) : 1
        guard lanes > 1 else { return batch.map(normalizeOne) }
        let slots = NormalizeSlots(count: batch.count)
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            for index in stride(from: lane, to: batch.count, by: lanes) {
                slots.set(index, normalizeOne(batch[index]))
            }
        }
        return slots.results
    }

    private func normalizeOne(_ message: ConsumerMessage) -> Result<[NormalizedEvent], EventError> {
        let raw = RawEvent(topic: message.topic, key: message.key, value: message.value ?? [],
                           headers: message.headers.map { ($0.name, $0.value ?? []) }, source: sources[message.topic] ?? .crm)
        return normalize.normalize(raw)
    }
}

/// One result slot per message, filled by the lanes of ``WriteStage/normalizeAll(_:lanes:)``
/// (one short lock per message: normalizing it costs thousands of times more).
private final class NormalizeSlots: Sendable {
    private let slots: Mutex<[Result<[NormalizedEvent], EventError>?]>

    init(count: Int) {
        slots = Mutex(Array(repeating: nil, count: count))
    }

    func set(_ index: Int, _ result: Result<[NormalizedEvent], EventError>) {
        slots.withLock { $0[index] = result }
    }

    var results: [Result<[NormalizedEvent], EventError>] {
        slots.withLock { slots in
            slots.map { $0 ?? .failure(EventError(.internalError, stage: .normalize, "not normalized")) }
        }
    }
}
