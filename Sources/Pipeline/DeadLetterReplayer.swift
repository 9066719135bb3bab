import CRMModel
import DeadLetters
import Foundation
import Kafka
import Logging
import Store

/// Re-publishes dead letters to their original topics (`crmsync dlq replay`).
///
/// A run covers the letters on the DLQ when it starts (its *scope*). It reads them in order with
/// a group-less reader, decides each one with ``ReplayDecision/decide(_:options:alreadyReplayed:)``,
/// publishes the chosen ones with the idempotent producer and, after each chunk is delivered,
/// records in the store which letters went and how far the run got (its *cursor*). An interrupted
/// run resumes from its cursor. Replay is at-least-once: a crash between delivery and that record
/// publishes the chunk again on resume, which is safe — the pipeline remembers event ids, so a
/// copy of an applied event counts as `duplicate`.
public struct DeadLetterReplayer: Sendable {
    public struct Settings: Sendable {
        public var dlqTopic: String
        public var options: ReplayOptions
        /// `--to`: publish every letter here instead of its original topic.
        public var targetTopic: String?
        /// Messages per second, `nil` for as fast as the producer goes.
        public var rate: Double?
        public var actor: String
        /// The source (`crm`, …) of each source topic, for `--source` and reports.
        public var sourceOfTopic: [String: String]
        /// Partition counts of the topics letters may go to (to keep a letter's partition).
        public var topicPartitions: [String: Int32]
        /// Letters published per delivery round and ledger record.
        public var chunkSize = 100

        public init(dlqTopic: String, options: ReplayOptions, targetTopic: String?, rate: Double?, actor: String,
                    sourceOfTopic: [String: String], topicPartitions: [String: Int32]) {
            self.dlqTopic = dlqTopic
            self.options = options
            self.targetTopic = targetTopic
            self.rate = rate
            self.actor = actor
            self.sourceOfTopic = sourceOfTopic
            self.topicPartitions = topicPartitions
        }
    }

    /// Progress after each recorded chunk.
    public struct Progress: Sendable, Hashable {
        public var counts: ReplayCounts
        /// Letters the run covers that are not yet scanned.
        public var remaining: Int64
    }

    /// How a run ended.
    public struct Report: Sendable {
        /// The recorded run (`nil` for a dry run).
        public var run: ReplayRun?
        public var counts: ReplayCounts
        /// Dry run: the letters that would be replayed, in order.
        public var wouldReplay: [DeadLetterEntry]
        /// Letters that were not crmsync dead letters (missing headers), by position.
        public var unreadable: [LetterPosition]
        /// The run stopped before its end (signal); `dlq replay --resume` continues it.
        public var interrupted: Bool
    }

    /// Why a replay stopped with an error; the run is recorded as interrupted.
    public struct Failure: Error, CustomStringConvertible {
        public var runID: Int64?
        public var message: String
        public var description: String {
            runID.map { "replay run \($0) interrupted: \(message) (`crmsync dlq replay --resume` continues it)" } ?? message
        }
    }

    let settings: Settings
    let reader: TopicSnapshot.Reader
    let clock: Clock
    let logger: Logger

    public init(settings: Settings, reader: TopicSnapshot.Reader, clock: Clock = .system, logger: Logger) {
        self.settings = settings
        self.reader = reader
        self.clock = clock
        self.logger = logger
    }

    /// Lists what a replay with these settings would publish, changing nothing. `store`, when
    /// there is one, says which letters earlier runs replayed.
    public func dryRun(partitions: Int32, store: SQLiteStore?) async throws -> Report {
        let dlqTopic = settings.dlqTopic
        let marks = try await reader.watermarks(topic: dlqTopic, partitions: partitions)
        var report = Report(run: nil, counts: ReplayCounts(), wouldReplay: [], unreadable: [], interrupted: false)
        for partition in marks.keys.sorted() {
            guard let mark = marks[partition], mark.low < mark.high else { continue }
            let replayed = try store?.replayedLetters(dlqTopic: dlqTopic, partition: partition, offsets: mark.low...(mark.high - 1)) ?? [:]
            try await reader.scan(topic: dlqTopic, ranges: [partition: mark.low..<mark.high]) { message in
                report.counts.scanned += 1
                guard let entry = entry(message) else {
                    report.unreadable.append(LetterPosition(partition: message.partition, offset: message.offset))
                    return
                }
                switch ReplayDecision.decide(entry, options: settings.options, alreadyReplayed: Self.wasReplayed(entry, ledger: replayed)) {
                case .filteredOut: break
                case .replay:
                    report.counts.matched += 1
                    report.wouldReplay.append(entry)
                case .alreadyReplayed, .replayLimitReached:
                    report.counts.matched += 1
                    report.counts.skipped += 1
                }
            }
        }
        return report
    }

    /// Runs a replay, or resumes `resuming`. `shouldStop` is polled between letters (signals);
    /// when it says stop, the chunk in flight is delivered and recorded and the run is marked
    /// interrupted.
    public func run(
        store: SQLiteStore,
        producer: KafkaProducer,
        partitions: Int32,
        resuming: ReplayRun?,
        shouldStop: @Sendable () -> Bool,
        progress: (Progress) -> Void
    ) async throws -> Report {
        let dlqTopic = settings.dlqTopic
        var run: ReplayRun
        if let resuming {
            run = resuming
            try store.setReplayRunStatus(run.id, .running, note: nil, at: clock.now())
            run.status = .running
        } else {
            let marks = try await reader.watermarks(topic: dlqTopic, partitions: partitions)
            let optionsText = String(decoding: try JSONEncoder.sorted.encode(settings.options), as: UTF8.self)
            run = try store.startReplayRun(dlqTopic: dlqTopic, actor: settings.actor, options: optionsText, targetTopic: settings.targetTopic,
                                           scope: marks.mapValues(\.high), cursor: marks.mapValues(\.low), at: clock.now())
        }
        var state = RunState(run: run)
        let pacer = Pacer(rate: settings.rate)
        do {
            for partition in run.scope.keys.sorted() {
                let end = run.scope[partition] ?? 0
                let start = state.cursor[partition] ?? 0
                guard start < end else { continue }
                let replayed = try store.replayedLetters(dlqTopic: dlqTopic, partition: partition, offsets: start...(end - 1))
                try await reader.scan(topic: dlqTopic, ranges: [partition: start..<end]) { message in
                    if shouldStop() { throw Stop() }
                    state.counts.scanned += 1
                    let position = LetterPosition(partition: message.partition, offset: message.offset)
                    if let entry = entry(message) {
                        switch ReplayDecision.decide(entry, options: settings.options, alreadyReplayed: Self.wasReplayed(entry, ledger: replayed)) {
                        case .filteredOut: break
                        case .alreadyReplayed, .replayLimitReached:
                            state.counts.matched += 1
                            state.counts.skipped += 1
                        case .replay:
                            state.counts.matched += 1
                            await pacer.wait()
                            try await state.send(replayMessage(entry), position: position, fingerprint: entry.letter.fingerprint, producer: producer)
                        }
                    } else {
                        state.unreadable.append(position)
                        logger.warning("dlq \(dlqTopic) \(position): not a crmsync dead letter (no crmsync.* headers); left alone",
                                       metadata: LogCoordinates.of(message))
                    }
                    state.cursor[partition] = message.offset + 1
                    if state.pending.count >= settings.chunkSize {
                        try await state.flush(store: store, dlqTopic: dlqTopic, clock: clock)
                        progress(Progress(counts: state.counts, remaining: state.remaining))
                    }
                }
                // Offsets the broker no longer has (retention) count as done.
                state.cursor[partition] = end
                try await state.flush(store: store, dlqTopic: dlqTopic, clock: clock)
                progress(Progress(counts: state.counts, remaining: state.remaining))
            }
        } catch is Stop {
            do {
                try await state.flush(store: store, dlqTopic: dlqTopic, clock: clock)
            } catch {
                try? store.setReplayRunStatus(run.id, .interrupted, note: "stopped by the operator; last progress not recorded: \(error)", at: clock.now())
                throw Failure(runID: run.id, message: "\(error)")
            }
            try store.setReplayRunStatus(run.id, .interrupted, note: "stopped by the operator", at: clock.now())
            return Report(run: try store.replayRun(run.id), counts: state.counts, wouldReplay: [], unreadable: state.unreadable, interrupted: true)
        } catch {
            // Record what was delivered before the failure, so a resume does not send it again.
            try? await state.flush(store: store, dlqTopic: dlqTopic, clock: clock)
            let note = (error as? Failure)?.message ?? "\(error)"
            try? store.setReplayRunStatus(run.id, .interrupted, note: note, at: clock.now())
            throw Failure(runID: run.id, message: note)
        }
        try store.setReplayRunStatus(run.id, .completed, note: nil, at: clock.now())
        return Report(run: try store.replayRun(run.id), counts: state.counts, wouldReplay: [], unreadable: state.unreadable, interrupted: false)
    }


    /// The record for `entry`: back to its original topic and partition, or to `--to`.
    func replayMessage(_ entry: DeadLetterEntry) throws -> ProducerMessage {
        let letter = entry.letter
        if let target = settings.targetTopic {
            return letter.replayRecord(topic: target, partition: nil)
        }
        guard let count = settings.topicPartitions[letter.originalTopic] else {
            throw Failure(runID: nil, message: "letter \(entry.position): its original topic \(letter.originalTopic) does not exist (use --to TOPIC)")
        }
        return letter.replayRecord(topic: letter.originalTopic, partition: letter.originalPartition < count ? letter.originalPartition : nil)
    }

    func entry(_ message: ConsumerMessage) -> DeadLetterEntry? {
        DeadLetterEntry(message: message, sourceOfTopic: settings.sourceOfTopic)
    }

    /// Whether `ledger` (one DLQ partition's replayed letters by offset) has replayed this very
    /// letter — not another that a recreated DLQ put at the same offset.
    public static func wasReplayed(_ entry: DeadLetterEntry, ledger: [Int64: ReplayedLetter]) -> Bool {
        ledger[entry.position.offset]?.fingerprint == entry.letter.fingerprint
    }
}

/// Signals a requested stop out of the scan.
private struct Stop: Error {}

/// The mutable part of a run: what is in flight, how far it got, the counts.
private struct RunState {
    let runID: Int64
    let scope: [Int32: Int64]
    var cursor: [Int32: Int64]
    var counts: ReplayCounts
    var unreadable: [LetterPosition] = []
    /// Sent, delivery not yet confirmed and recorded.
    var pending: [(position: LetterPosition, fingerprint: String, id: Int64)] = []
    var tally: DeliveryTally?

    init(run: ReplayRun) {
        runID = run.id
        scope = run.scope
        cursor = run.cursor
        counts = run.counts
    }

    var remaining: Int64 {
        scope.reduce(0) { total, entry in total + max(0, entry.value - (cursor[entry.key] ?? 0)) }
    }

    mutating func send(_ message: ProducerMessage, position: LetterPosition, fingerprint: String, producer: KafkaProducer) async throws {
        if tally == nil { tally = DeliveryTally() }
        let id = Int64(pending.count)
        pending.append((position, fingerprint, id))
        let tally = self.tally
        do {
            try await producer.send(message) { tally?.record(id: id, $0) }
        } catch {
            // Never enqueued, so no report will come for it.
            pending.removeLast()
            throw error
        }
    }

    /// Waits for the chunk's deliveries, then records the delivered letters and the cursor in
    /// one store transaction. A failed delivery ends the run (after recording what did go), with
    /// the cursor at the first letter that did not go.
    mutating func flush(store: SQLiteStore, dlqTopic: String, clock: Clock) async throws {
        var failures: [Int64: KafkaError] = [:]
        if let tally {
            failures = await tally.settle(sent: pending.count)
        }
        let delivered = pending.filter { failures[$0.id] == nil }
        var counted = counts
        counted.replayed += Int64(delivered.count)
        var firstFailure: (position: LetterPosition, error: KafkaError)?
        if let (id, error) = failures.min(by: { $0.key < $1.key }), let failed = pending.first(where: { $0.id == id }) {
            firstFailure = (failed.position, error)
            cursor[failed.position.partition] = min(cursor[failed.position.partition] ?? failed.position.offset, failed.position.offset)
        }
        try store.recordReplayProgress(runID: runID, dlqTopic: dlqTopic, replayed: delivered.map { ($0.position.partition, $0.position.offset, $0.fingerprint) },
                                       cursor: cursor, counts: counted, at: clock.now())
        // Only once recorded: a failed record is retried with the same letters, counted once.
        counts = counted
        pending = []
        tally = nil
        if let firstFailure {
            throw DeadLetterReplayer.Failure(runID: runID, message: "letter \(firstFailure.position) was not delivered: \(firstFailure.error)")
        }
    }
}

/// Spaces sends `1/rate` seconds apart (`--rate N`).
private final class Pacer: Sendable {
    private let interval: Duration?
    private let next = Locked<ContinuousClock.Instant?>(nil)

    init(rate: Double?) {
        interval = rate.map { .nanoseconds(Int64(1_000_000_000 / $0)) }
    }

    func wait() async {
        guard let interval else { return }
        let now = ContinuousClock.now
        let due = next.withLock { next -> ContinuousClock.Instant in
            let due = max(next ?? now, now)
            next = due + interval
            return due
        }
        if due > now { try? await Task.sleep(until: due, clock: .continuous) }
    }
}

extension JSONEncoder {
    /// Deterministic JSON (sorted keys) for records kept in the store.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
