import Foundation
import Kafka
import Normalize
import CRMModel
import Dedup
import Synchronization

extension WriteStage {
    /// Starts normalizing a batch's messages (pure: no store, no clock) on up to `lanes`
    /// threads of their own and returns at once: the writer takes each message's result in
    /// the batch's order as soon as it is ready, so its transaction overlaps the normalizing of
    /// the messages behind it. The write is the same as when each message was normalized in
    /// turn. Small batches are normalized on the caller's thread when taken.
    func startNormalizing(_ batch: [ConsumerMessage], lanes: Int = ProcessInfo.processInfo.activeProcessorCount) -> NormalizeFeed {
        let lanes = batch.count >= 32 ? min(max(1, lanes), 8) : 0
        let feed = NormalizeFeed(batch: batch, background: lanes > 0) { [self] in normalizeOne($0) }
        for lane in 0..<lanes {
            // Threads of their own, not a global queue: the writer blocks waiting for them, and
            // a shared pool whose threads are all blocked would never run them.
            Thread.detachNewThread { [feed] in
                for index in stride(from: lane, to: batch.count, by: lanes) { feed.fill(index) }
            }
        }
        return feed
    }

    /// Normalizes one message and derives what identity resolution needs from each event alone
    /// (pure), so the writer is left with the lookups.
    private func normalizeOne(_ message: ConsumerMessage) -> NormalizeFeed.Normalized {
        let raw = RawEvent(topic: message.topic, key: message.key, value: message.value ?? [],
                           headers: message.headers.map { ($0.name, $0.value ?? []) }, source: sources[message.topic] ?? .crm)
        return normalize.normalize(raw).map { events in events.map(resolver.prepare) }
    }
}

/// One result slot per message of a batch (its events, prepared for identity resolution), each with a semaphore the writer waits on; filled by
/// the lanes of ``WriteStage/startNormalizing(_:lanes:)`` (one short lock per message:
/// normalizing it costs thousands of times more).
final class NormalizeFeed: Sendable {
    typealias Normalized = Result<[PreparedEvent], EventError>

    private let batch: [ConsumerMessage]
    private let normalizeOne: @Sendable (ConsumerMessage) -> Normalized
    private let background: Bool
    private let slots: Mutex<[Normalized?]>
    private let ready: [DispatchSemaphore]

    init(batch: [ConsumerMessage], background: Bool, normalize: @escaping @Sendable (ConsumerMessage) -> Normalized) {
        self.batch = batch
        self.background = background
        normalizeOne = normalize
        slots = Mutex(Array(repeating: nil, count: batch.count))
        ready = background ? batch.map { _ in DispatchSemaphore(value: 0) } : []
    }

    /// Normalizes message `index` and wakes a writer waiting for it.
    func fill(_ index: Int) {
        let result = normalizeOne(batch[index])
        slots.withLock { $0[index] = result }
        ready[index].signal()
    }

    /// The result of message `index`, waiting for its lane if needed. May be asked again (a
    /// retried transaction): the result stays.
    func result(_ index: Int) -> Normalized {
        guard background else {
            if let done = slots.withLock({ $0[index] }) { return done }
            let result = normalizeOne(batch[index])
            slots.withLock { $0[index] = result }
            return result
        }
        ready[index].wait()
        ready[index].signal()  // for the next time this slot is asked
        return slots.withLock { $0[index] } ?? .failure(EventError(.internalError, stage: .normalize, "not normalized"))
    }
}
