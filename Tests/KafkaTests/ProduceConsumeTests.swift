import Foundation
import Testing
@testable import Kafka

@Suite("Produce and consume against the mock cluster", .timeLimit(.minutes(3)))
struct ProduceConsumeTests {
    @Test("10,000 messages over 8 partitions: keys, values, headers and timestamps survive; none lost, none doubled")
    func roundTrip() async throws {
        let fixture = try MockFixture(partitions: 8)
        let producer = try fixture.producer()
        let baseTimestamp: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
        var messages: [ProducerMessage] = []
        for index in 0..<10_000 {
            let value: [UInt8]? = index % 1000 == 999 ? nil : Array("{\"n\":\(index)}".utf8) + [0, 255, 10]
            let headers: [KafkaHeader] = [
                KafkaHeader(name: "index", string: "\(index)"),
                KafkaHeader(name: "binary", value: [0, 1, 2, UInt8(index % 256)]),
                KafkaHeader(name: "empty", value: []),
                KafkaHeader(name: "null", value: nil),
            ]
            let key = Array("key-\(index % 977)".utf8)
            messages.append(ProducerMessage(
                topic: fixture.topic, key: key, value: value, headers: headers,
                timestampMilliseconds: baseTimestamp + Int64(index)
            ))
        }
        let reports = try await produceAll(producer, messages)
        #expect(reports.count == messages.count)
        let failures = reports.filter { if case .failure = $0 { return true } else { return false } }
        #expect(failures.isEmpty, "delivery failures: \(failures.prefix(3))")
        let offsets = Set(reports.compactMap { try? $0.get() }.map { "\($0.partition):\($0.offset)" })
        #expect(offsets.count == messages.count, "every message has its own (partition, offset)")
        await producer.close()

        let consumer = try fixture.consumer(group: "round-trip")
        try consumer.subscribe([fixture.topic])
        var seen: [Int: Expected] = [:]
        var duplicates = 0
        var perPartitionLastOffset: [Int32: Int64] = [:]
        var outOfOrder = 0
        for try await message in consumer.messages {
            let index = Int(message.headers.string("index") ?? "") ?? -1
            if seen[index] != nil { duplicates += 1 }
            seen[index] = Expected(key: message.key, value: message.value, headers: message.headers, timestamp: message.timestampMilliseconds)
            if let last = perPartitionLastOffset[message.partition], last >= message.offset { outOfOrder += 1 }
            perPartitionLastOffset[message.partition] = message.offset
            try consumer.storeOffset(for: message)
            if seen.count == messages.count { break }
        }
        await consumer.close()

        #expect(duplicates == 0)
        #expect(outOfOrder == 0)
        #expect(seen.count == messages.count)
        #expect(Set(perPartitionLastOffset.keys) == Set(0..<8), "the keys spread over all partitions")
        for (index, message) in messages.enumerated() {
            let expected = Expected(key: message.key, value: message.value, headers: message.headers, timestamp: message.timestampMilliseconds)
            #expect(seen[index] == expected, "message \(index) came back changed")
            if seen[index] != expected { break }
        }
    }

    @Test("send awaits the delivery report and the same key always lands on the same partition")
    func sendAwaitsDelivery() async throws {
        let fixture = try MockFixture(partitions: 4)
        let producer = try fixture.producer()
        var partitions: Set<Int32> = []
        var offsets: [Int64] = []
        for index in 0..<20 {
            let report = try await producer.send(ProducerMessage(topic: fixture.topic, key: Array("same-key".utf8), value: Array("v\(index)".utf8)))
            #expect(report.topic == fixture.topic)
            partitions.insert(report.partition)
            offsets.append(report.offset)
        }
        #expect(partitions.count == 1)
        #expect(offsets == Array(0..<20).map(Int64.init), "offsets are consecutive: each send waited for its own report")
        await producer.close()
    }

    @Test("closing a producer delivers what is outstanding; sending afterwards is a typed error")
    func closeFlushes() async throws {
        let fixture = try MockFixture(partitions: 2)
        let producer = try fixture.producer(["linger.ms": "200"])
        let delivered = Condition(0)
        for index in 0..<500 {
            try await producer.send(ProducerMessage(topic: fixture.topic, key: Array("\(index)".utf8), value: [1])) { result in
                if case .success = result { delivered.update { $0 += 1 } }
            }
        }
        await producer.close()
        #expect(delivered.value == 500)
        await #expect(throws: KafkaError.self) {
            try await producer.send(ProducerMessage(topic: fixture.topic, value: [1]))
        }
    }

    @Test("pause holds a partition's messages back; resume delivers them in order")
    func pauseAndResume() async throws {
        let fixture = try MockFixture(partitions: 2)
        let producer = try fixture.producer()
        for index in 0..<100 {
            try await producer.send(ProducerMessage(topic: fixture.topic, partition: Int32(index % 2), value: Array("\(index)".utf8)))
        }
        await producer.close()

        let consumer = try fixture.consumer(group: "pause")
        try consumer.subscribe([fixture.topic])
        let paused = TopicPartition(topic: fixture.topic, partition: 0)
        var fromPartition: [Int32: [Int64]] = [:]
        var resumed = false
        for try await message in consumer.messages {
            if fromPartition.isEmpty {
                // Pause partition 0 at once, whatever came first.
                try consumer.pause([paused])
            }
            fromPartition[message.partition, default: []].append(message.offset)
            if !resumed, fromPartition[1]?.count == 50 {
                // Partition 1 is drained; partition 0 may have delivered at most its first message.
                #expect((fromPartition[0]?.count ?? 0) <= 1)
                try consumer.resume([paused])
                resumed = true
            }
            if (fromPartition[0]?.count ?? 0) + (fromPartition[1]?.count ?? 0) == 100 { break }
        }
        await consumer.close()
        #expect(fromPartition[0] == Array(0..<50).map(Int64.init))
        #expect(fromPartition[1] == Array(0..<50).map(Int64.init))
    }
}

@Suite("Batches", .timeLimit(.minutes(1)))
struct BatchTests {
    @Test("nextBatch returns buffered messages in per-partition order, bounded by maxMessages")
    func batches() async throws {
        let fixture = try MockFixture(partitions: 3)
        let producer = try fixture.producer()
        let messages = (0..<900).map { ProducerMessage(topic: fixture.topic, partition: Int32($0 % 3), value: Array("\($0)".utf8)) }
        _ = try await produceAll(producer, messages)
        await producer.close()

        let consumer = try fixture.consumer(group: "batches")
        try consumer.subscribe([fixture.topic])
        var seen: [Int32: [Int64]] = [:]
        var largest = 0
        while seen.values.map(\.count).reduce(0, +) < 900 {
            let batch = try await consumer.nextBatch(maxMessages: 64)
            #expect(!batch.isEmpty && batch.count <= 64)
            largest = max(largest, batch.count)
            for message in batch { seen[message.partition, default: []].append(message.offset) }
        }
        await consumer.close()
        #expect(try await consumer.nextBatch(maxMessages: 10).isEmpty, "a closed consumer returns no batch")
        #expect(largest > 1, "batches carry more than one message when more are buffered")
        for partition in Int32(0)..<3 {
            #expect(seen[partition] == Array(0..<300).map(Int64.init))
        }
    }
}
