import Foundation
import Testing
@testable import Kafka

/// Plays the application's offset store: the listener supplies the next offset of each
/// partition from here, exactly as the pipeline will from SQLite.
final class OffsetStoreListener: RebalanceListener {
    struct State: Sendable {
        var nextOffsets: [TopicPartition: Int64] = [:]
        var assignments: [[TopicPartition]] = []
        var revocations: [[TopicPartition]] = []
        var owned: Set<TopicPartition> = []
    }
    let state: Condition<State>

    init(store: Condition<State>) {
        self.state = store
    }

    func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        state.update { state in
            state.assignments.append(partitions)
            state.owned.formUnion(partitions)
            return state.nextOffsets.filter { partitions.contains($0.key) }
        }
    }

    func partitionsRevoked(_ partitions: [TopicPartition], lost: Bool) {
        state.update { state in
            state.revocations.append(partitions)
            state.owned.subtract(partitions)
        }
    }
}

/// The shared "database": next offsets per partition, written as each message is processed.
final class SharedOffsets: Sendable {
    let nextOffsets = Locked<[TopicPartition: Int64]>([:])
}

@Suite("Consumer groups and rebalances", .timeLimit(.minutes(3)))
struct RebalanceTests {
    @Test("offsets supplied by the rebalance hook are where consumption starts")
    func suppliedOffsetsAreHonoured() async throws {
        let fixture = try MockFixture(partitions: 3)
        let producer = try fixture.producer()
        for index in 0..<300 {
            try await producer.send(ProducerMessage(topic: fixture.topic, partition: Int32(index % 3), value: Array("\(index)".utf8)))
        }
        await producer.close()

        let store = Condition(OffsetStoreListener.State())
        store.update {
            $0.nextOffsets[TopicPartition(topic: fixture.topic, partition: 0)] = 60
            $0.nextOffsets[TopicPartition(topic: fixture.topic, partition: 2)] = 99
        }
        let consumer = try fixture.consumer(group: "supplied", listener: OffsetStoreListener(store: store), overrides: ["enable.auto.commit": "false"])
        try consumer.subscribe([fixture.topic])
        var firstOffset: [Int32: Int64] = [:]
        var count = 0
        for try await message in consumer.messages {
            if firstOffset[message.partition] == nil { firstOffset[message.partition] = message.offset }
            count += 1
            if count == 40 + 100 + 1 { break }
        }
        await consumer.close()
        #expect(firstOffset == [0: 60, 1: 0, 2: 99])
        #expect(store.value.assignments.first?.count == 3)
    }

    @Test("two members of one group: partitions move, every message is processed exactly once")
    func rebalanceExactlyOnce() async throws {
        let partitions: Int32 = 6
        let fixture = try MockFixture(partitions: partitions)
        let producer = try fixture.producer()
        let half = 1_500

        func produce(_ range: Range<Int>) async throws {
            let messages = range.map { index in
                ProducerMessage(topic: fixture.topic, key: Array("k\(index)".utf8), value: Array("\(index)".utf8))
            }
            let reports = try await produceAll(producer, messages)
            #expect(reports.allSatisfy { (try? $0.get()) != nil })
        }
        try await produce(0..<half)

        // The "database" both members share: what was processed, and the next offsets.
        let processed = Condition<[Int: [String]]>([:])
        let offsets = SharedOffsets()
        let storeA = Condition(OffsetStoreListener.State())
        let storeB = Condition(OffsetStoreListener.State())

        final class SharedListener: RebalanceListener {
            let inner: OffsetStoreListener
            let offsets: SharedOffsets
            init(_ inner: OffsetStoreListener, _ offsets: SharedOffsets) { self.inner = inner; self.offsets = offsets }
            func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
                let stored = offsets.nextOffsets.withLock { $0 }
                inner.state.update { $0.nextOffsets = stored }
                return inner.partitionsAssigned(partitions)
            }
            func partitionsRevoked(_ partitions: [TopicPartition], lost: Bool) {
                inner.partitionsRevoked(partitions, lost: lost)
            }
        }

        let manualOffsets = ["enable.auto.commit": "false"]
        let memberA = try fixture.consumer(group: "pair", listener: SharedListener(OffsetStoreListener(store: storeA), offsets), overrides: manualOffsets)
        let memberB = try fixture.consumer(group: "pair", listener: SharedListener(OffsetStoreListener(store: storeB), offsets), overrides: manualOffsets)

        @Sendable func consume(_ consumer: KafkaConsumer, name: String) async throws {
            for try await message in consumer.messages {
                let index = Int(String(decoding: message.value ?? [], as: UTF8.self)) ?? -1
                // Processing and the offset are recorded together, like one DB transaction.
                offsets.nextOffsets.withLock { $0[message.topicPartition] = message.offset + 1 }
                processed.update { $0[index, default: []].append(name) }
            }
        }

        try memberA.subscribe([fixture.topic])
        let taskA = Task { try await consume(memberA, name: "A") }
        await processed.wait { $0.count == half }
        #expect(storeA.value.owned.count == Int(partitions), "A alone owns everything")

        try memberB.subscribe([fixture.topic])
        let taskB = Task { try await consume(memberB, name: "B") }
        // Wait for the rebalance to settle: B owns some partitions and A the rest.
        await storeB.wait { !$0.owned.isEmpty }
        await storeA.wait { !$0.owned.isEmpty && !$0.revocations.isEmpty }

        try await produce(half..<(2 * half))
        await processed.wait { $0.count == 2 * half }
        await memberA.close()
        await memberB.close()
        try await taskA.value
        try await taskB.value
        await producer.close()

        let result = processed.value
        let twice = result.filter { $0.value.count > 1 }
        #expect(twice.isEmpty, "processed more than once: \(twice.prefix(5))")
        #expect(Set(result.keys) == Set(0..<(2 * half)))
        let byB = result.values.filter { $0 == ["B"] }.count
        #expect(byB > 0, "B processed part of the second batch")
        #expect(storeA.value.owned.isDisjoint(with: storeB.value.owned) || storeA.value.owned.isEmpty)
    }
}
