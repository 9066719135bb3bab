import Foundation
import Kafka
import Testing

/// The consumer's hooks for a graceful stop and for readiness probes (issue 11).
@Suite("KafkaConsumer: stopDeliveries, probeBrokers, cachedLogEnds", .timeLimit(.minutes(1)))
struct ConsumerStopAndProbeTests {
    @Test("stopDeliveries hands out what is buffered, then ends a waiting nextDelivery with .closed")
    func stopDeliveries() async throws {
        let fixture = try MockFixture(partitions: 1)
        let producer = try fixture.producer()
        _ = try await produceAll(producer, (0..<3).map { ProducerMessage(topic: fixture.topic, key: nil, value: Array("m\($0)".utf8)) })
        await producer.close()
        let consumer = try fixture.consumer(group: "stop-\(UUID().uuidString.prefix(6))")
        try consumer.assign([TopicPartition(topic: fixture.topic, partition: 0): KafkaOffset.beginning])
        var received = 0
        while received < 3 {
            guard case .messages(let batch) = try await consumer.nextDelivery(maxMessages: 10) else { Issue.record("closed early"); break }
            received += batch.count
        }
        // Nothing more to read: without the stop, this call would wait for ever.
        let waiting = Task { try await consumer.nextDelivery(maxMessages: 10) }
        consumer.stopDeliveries()
        guard case .closed = try await waiting.value else {
            Issue.record("a stopped consumer with nothing buffered delivers .closed")
            return
        }
        await consumer.close()
    }

    @Test("probeBrokers answers nil while a broker is up and an error within its timeout once all are down")
    func probe() async throws {
        let fixture = try MockFixture(brokers: 1, partitions: 1)
        let consumer = try fixture.consumer(group: "probe-\(UUID().uuidString.prefix(6))")
        #expect(await consumer.probeBrokers(timeoutMilliseconds: 5_000) == nil)
        try fixture.cluster.setBroker(1, up: false)
        let started = ContinuousClock.now
        let error = await consumer.probeBrokers(timeoutMilliseconds: 500)
        #expect(error != nil, "no broker answers")
        #expect(ContinuousClock.now - started < .seconds(5), "bounded by the timeout, not the request timeout")
        try fixture.cluster.setBroker(1, up: true)
        var answered = await consumer.probeBrokers(timeoutMilliseconds: 5_000)
        // librdkafka reconnects with backoff: a few probes may still fail right after the broker returns.
        for _ in 0..<20 where answered != nil { answered = await consumer.probeBrokers(timeoutMilliseconds: 1_000) }
        #expect(answered == nil)
        await consumer.close()
    }

    @Test("cachedLogEnds reports the log end seen in fetch responses, without a request")
    func cachedLogEnds() async throws {
        let fixture = try MockFixture(partitions: 1)
        let producer = try fixture.producer()
        _ = try await produceAll(producer, (0..<5).map { ProducerMessage(topic: fixture.topic, key: nil, value: Array("m\($0)".utf8)) })
        await producer.close()
        let consumer = try fixture.consumer(group: "ends-\(UUID().uuidString.prefix(6))")
        let partition = TopicPartition(topic: fixture.topic, partition: 0)
        try consumer.assign([partition: KafkaOffset.beginning])
        var received = 0
        while received < 5 {
            guard case .messages(let batch) = try await consumer.nextDelivery(maxMessages: 10) else { break }
            received += batch.count
        }
        #expect(consumer.cachedLogEnds(for: [partition]) == [partition: 5])
        await consumer.close()
        #expect(consumer.cachedLogEnds(for: [partition]).isEmpty, "a closed consumer knows nothing")
    }
}
