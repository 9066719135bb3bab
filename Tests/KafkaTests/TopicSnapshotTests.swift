import Foundation
import Testing
@testable import Kafka

@Suite("TopicSnapshot: group-less reads of a topic up to its end", .timeLimit(.minutes(2)))
struct TopicSnapshotTests {
    @Test("read returns every record once; scan hands over exactly the requested ranges, in order")
    func readAndScan() async throws {
        let fixture = try MockFixture(partitions: 3)
        let producer = try fixture.producer()
        let messages = (0..<90).map { index in
            ProducerMessage(topic: fixture.topic, partition: Int32(index % 3), key: Array("k\(index)".utf8), value: Array("v\(index)".utf8))
        }
        let reports = try await produceAll(producer, messages)
        #expect(reports.allSatisfy { (try? $0.get()) != nil })
        await producer.close()

        let all = try await TopicSnapshot.read(topic: fixture.topic, partitions: 3, bootstrapServers: fixture.cluster.bootstrapServers, logger: fixture.logger)
        #expect(all.count == 90)
        #expect(Set(all.map { String(decoding: $0.value ?? [], as: UTF8.self) }) == Set((0..<90).map { "v\($0)" }))

        let reader = try TopicSnapshot.Reader(bootstrapServers: fixture.cluster.bootstrapServers, logger: fixture.logger)
        let marks = try await reader.watermarks(topic: fixture.topic, partitions: 3)
        #expect(marks.mapValues(\.high) == [0: 30, 1: 30, 2: 30])
        var seen: [Int32: [Int64]] = [:]
        try await reader.scan(topic: fixture.topic, ranges: [0: 5..<8, 2: 28..<30, 1: 10..<10]) { message in
            seen[message.partition, default: []].append(message.offset)
        }
        #expect(seen == [0: [5, 6, 7], 2: [28, 29]])

        // The body can end a scan early by throwing; the reader is reusable afterwards.
        struct Enough: Error {}
        var count = 0
        await #expect(throws: Enough.self) {
            try await reader.scan(topic: fixture.topic, ranges: [1: 0..<30]) { _ in
                count += 1
                if count == 4 { throw Enough() }
            }
        }
        var again: [Int64] = []
        try await reader.scan(topic: fixture.topic, ranges: [1: 20..<22]) { again.append($0.offset) }
        #expect(again == [20, 21])
        await reader.close()
    }

    @Test("a range that can never be finished fails after the idle timeout instead of waiting forever")
    func idleTimeout() async throws {
        let fixture = try MockFixture(partitions: 1)
        let producer = try fixture.producer()
        _ = try await produceAll(producer, [ProducerMessage(topic: fixture.topic, partition: 0, value: Array("only".utf8))])
        await producer.close()
        let reader = try TopicSnapshot.Reader(bootstrapServers: fixture.cluster.bootstrapServers, logger: fixture.logger)
        var delivered: [Int64] = []
        do {
            try await reader.scan(topic: fixture.topic, ranges: [0: 0..<5], idleTimeout: .seconds(2)) { delivered.append($0.offset) }
            Issue.record("the scan should have timed out")
        } catch let error as KafkaError {
            #expect(error.kind == .retriable)
            #expect("\(error)".contains("below 5"), "\(error)")
        }
        #expect(delivered == [0])
        await reader.close()
    }
}
