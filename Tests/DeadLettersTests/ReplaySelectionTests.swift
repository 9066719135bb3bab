import CRMModel
import DeadLetters
import Kafka
import Testing

@Suite("Replay selection: filters, loop guard, ledger, the replayed record")
struct ReplaySelectionTests {
    func entry(_ errorClass: EventError.Class = .unmappedValue, source: String? = "crm", key: String? = "003A",
               failedAt: Int64 = 1_767_225_600_000, replayCount: Int = 0, offset: Int64 = 7) -> DeadLetterEntry {
        let original = ConsumerMessage(topic: "crm.events.v1", partition: 2, offset: 40, key: key.map { Array($0.utf8) },
                                       value: Array("{}".utf8),
                                       headers: [KafkaHeader(name: "trace", string: "t1"), KafkaHeader(name: DeadLetterHeader.replayCount, string: String(replayCount))],
                                       timestampMilliseconds: 1_767_000_000_000)
        let letter = DeadLetter(failed: original, error: EventError(errorClass, "x"), failedAt: Timestamp(epochMilliseconds: failedAt))
        return DeadLetterEntry(position: LetterPosition(partition: 1, offset: offset), letter: letter, source: source)
    }

    @Test("an empty filter matches everything; every given criterion must match")
    func filters() {
        let letter = entry()
        #expect(DeadLetterFilter().matches(letter))
        #expect(DeadLetterFilter(errorClasses: ["unmapped-value", "schema"]).matches(letter))
        #expect(!DeadLetterFilter(errorClasses: ["schema"]).matches(letter))
        #expect(DeadLetterFilter(sources: ["crm"]).matches(letter))
        #expect(!DeadLetterFilter(sources: ["map"]).matches(letter))
        #expect(!DeadLetterFilter(sources: ["crm"]).matches(entry(source: nil)), "a letter from an unknown topic has no source")
        #expect(DeadLetterFilter(key: "003A").matches(letter))
        #expect(!DeadLetterFilter(key: "003").matches(letter), "keys match exactly")
        #expect(!DeadLetterFilter(key: "003A").matches(entry(key: nil)))
        #expect(!DeadLetterFilter(errorClasses: ["unmapped-value"], sources: ["map"]).matches(letter), "all criteria, not any")
    }

    @Test("since is inclusive, until exclusive, on the failure time")
    func timeWindow() {
        let at = Timestamp(epochMilliseconds: 1_767_225_600_000)
        let letter = entry(failedAt: at.epochMilliseconds)
        #expect(DeadLetterFilter(since: at).matches(letter))
        #expect(!DeadLetterFilter(until: at).matches(letter))
        #expect(DeadLetterFilter(until: Timestamp(epochMilliseconds: at.epochMilliseconds + 1)).matches(letter))
        #expect(!DeadLetterFilter(since: Timestamp(epochMilliseconds: at.epochMilliseconds + 1)).matches(letter))
    }

    @Test("decisions: filter first, then the loop guard (even with --again), then the ledger")
    func decisions() {
        let fresh = entry(replayCount: 0)
        let twice = entry(replayCount: 2)
        #expect(ReplayDecision.decide(fresh, options: ReplayOptions(), alreadyReplayed: false) == .replay)
        #expect(ReplayDecision.decide(fresh, options: ReplayOptions(), alreadyReplayed: true) == .alreadyReplayed)
        #expect(ReplayDecision.decide(fresh, options: ReplayOptions(again: true), alreadyReplayed: true) == .replay)
        #expect(ReplayDecision.decide(twice, options: ReplayOptions(maxReplays: 2), alreadyReplayed: false) == .replayLimitReached)
        #expect(ReplayDecision.decide(twice, options: ReplayOptions(maxReplays: 2, again: true), alreadyReplayed: true) == .replayLimitReached)
        #expect(ReplayDecision.decide(twice, options: ReplayOptions(maxReplays: 3), alreadyReplayed: false) == .replay)
        #expect(ReplayDecision.decide(fresh, options: ReplayOptions(filter: DeadLetterFilter(sources: ["map"])), alreadyReplayed: false) == .filteredOut)
    }

    @Test("the replayed record: original key, bytes and headers, replay count raised, no diagnostics")
    func replayRecord() {
        let letter = entry(replayCount: 1).letter
        let record = letter.replayRecord(topic: "crm.events.v1", partition: 2)
        #expect(record.topic == "crm.events.v1")
        #expect(record.partition == 2)
        #expect(record.key == letter.key)
        #expect(record.value == letter.value)
        #expect(record.headers == [KafkaHeader(name: "trace", string: "t1"), KafkaHeader(name: DeadLetterHeader.replayCount, string: "2")])
        #expect(record.timestampMilliseconds == nil, "a replay is a new record: its timestamp is now")
        let redirected = letter.replayRecord(topic: "crm.replays", partition: nil)
        #expect(redirected.topic == "crm.replays")
        #expect(redirected.partition == nil)
    }

    @Test("the fingerprint tells letters apart beyond their DLQ offset, and survives the trip through the DLQ")
    func fingerprints() {
        let first = entry(failedAt: 1_767_225_600_000).letter
        let sameOffsetLater = entry(failedAt: 1_767_225_600_001).letter
        #expect(first.fingerprint != sameOffsetLater.fingerprint, "a recreated DLQ's letter at a reused offset is another letter")
        let record = first.record(topic: "dlq.events.v1")
        let readBack = DeadLetter(letter: ConsumerMessage(topic: record.topic, partition: 1, offset: 7, key: record.key, value: record.value,
                                                          headers: record.headers, timestampMilliseconds: record.timestampMilliseconds))
        #expect(readBack?.fingerprint == first.fingerprint)
    }

    @Test("positions parse as PARTITION:OFFSET or OFFSET")
    func positions() {
        #expect(LetterPosition(parsing: "2:40") == LetterPosition(partition: 2, offset: 40))
        #expect(LetterPosition(parsing: "40", defaultPartition: 1) == LetterPosition(partition: 1, offset: 40))
        for bad in ["", ":", "a:1", "1:", "-1", "1:-2", "1:2:3", "0x10"] {
            #expect(LetterPosition(parsing: bad) == nil, "\(bad)")
        }
        #expect(LetterPosition(partition: 2, offset: 40).description == "2:40")
    }
}
