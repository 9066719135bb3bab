import Foundation
import Testing
@testable import Kafka

@Suite("Fault injection with rd_kafka_mock_*", .timeLimit(.minutes(3)))
struct FaultInjectionTests {
    /// Consumes `count` messages and returns their values, to check for loss and duplicates.
    func consumeValues(_ fixture: MockFixture, count: Int) async throws -> [String] {
        let consumer = try fixture.consumer(group: "verify-\(UUID().uuidString.prefix(6))")
        try consumer.subscribe([fixture.topic])
        var values: [String] = []
        for try await message in consumer.messages {
            values.append(String(decoding: message.value ?? [], as: UTF8.self))
            if values.count == count { break }
        }
        await consumer.close()
        return values
    }

    @Test("retriable produce errors are ridden out by the idempotent producer: no loss, no duplicates")
    func retriableProduceErrors() async throws {
        let fixture = try MockFixture(partitions: 3)
        let producer = try fixture.producer(["retry.backoff.ms": "10"])
        fixture.cluster.pushRequestErrors(apiKey: .produce, errors: [
            KafkaErrorCode.notLeaderForPartition, KafkaErrorCode.notEnoughReplicas,
            KafkaErrorCode.requestTimedOut, KafkaErrorCode.leaderNotAvailable,
            KafkaErrorCode.notEnoughReplicas, KafkaErrorCode.requestTimedOut,
        ])
        let messages = (0..<1_000).map { ProducerMessage(topic: fixture.topic, key: Array("k\($0 % 10)".utf8), value: Array("\($0)".utf8)) }
        let reports = try await produceAll(producer, messages)
        let failed = reports.filter { (try? $0.get()) == nil }
        #expect(failed.isEmpty, "\(failed.prefix(3))")
        await producer.close()

        let values = try await consumeValues(fixture, count: 1_000)
        #expect(values.count == 1_000)
        #expect(Set(values) == Set((0..<1_000).map(String.init)), "no loss and no duplicates")
    }

    @Test("a full broker outage is ridden out: deliveries wait, then complete exactly once")
    func brokerOutage() async throws {
        let fixture = try MockFixture(brokers: 3, partitions: 3)
        let producer = try fixture.producer()
        // Make sure the producer is connected and has its producer id before the outage.
        try await producer.send(ProducerMessage(topic: fixture.topic, value: Array("warm-up".utf8)))

        let sawOutage = Condition<[KafkaError]>([])
        producer.onError { error in sawOutage.update { $0.append(error) } }
        for broker in Int32(1)...3 { try fixture.cluster.setBroker(broker, up: false) }

        let delivered = Condition<[Result<DeliveryReport, KafkaError>]>([])
        for index in 0..<300 {
            try await producer.send(ProducerMessage(topic: fixture.topic, key: Array("k\(index)".utf8), value: Array("\(index)".utf8))) { result in
                delivered.update { $0.append(result) }
            }
        }
        // librdkafka tells us the brokers are gone; nothing can have been delivered meanwhile.
        await sawOutage.wait { errors in errors.contains { $0.isRetriable } }
        #expect(sawOutage.value.allSatisfy { !$0.isFatal })

        for broker in Int32(1)...3 { try fixture.cluster.setBroker(broker, up: true) }
        await delivered.wait { $0.count == 300 }
        #expect(delivered.value.allSatisfy { (try? $0.get()) != nil }, "every message delivered once the brokers are back")
        await producer.close()

        let values = try await consumeValues(fixture, count: 301)
        #expect(values.count == 301)
        #expect(Set(values) == Set((0..<300).map(String.init) + ["warm-up"]))
    }

    @Test("a fatal error surfaces as a typed .fatal KafkaError")
    func fatalError() async throws {
        let fixture = try MockFixture(partitions: 1)
        let producer = try fixture.producer()
        try await producer.send(ProducerMessage(topic: fixture.topic, value: [1]))
        let observed = Condition<[KafkaError]>([])
        producer.onError { error in observed.update { $0.append(error) } }

        producer.injectFatalErrorForTesting(code: KafkaErrorCode.outOfOrderSequence, reason: "injected by test")
        await observed.wait { errors in errors.contains { $0.isFatal } }
        #expect(producer.fatalError?.kind == .fatal)
        #expect(producer.fatalError?.code == KafkaErrorCode.outOfOrderSequence)

        do {
            try await producer.send(ProducerMessage(topic: fixture.topic, value: [2]))
            Issue.record("send after a fatal error must throw")
        } catch {
            #expect(error.kind == .fatal)
            #expect(error.name == "OUT_OF_ORDER_SEQUENCE_NUMBER")
            #expect(error.message.contains("injected by test"))
        }
        await producer.close()
    }

    @Test("a broker's permanent rejection is a typed .permanent error, not retried forever")
    func permanentError() async throws {
        let fixture = try MockFixture(partitions: 1)
        let producer = try fixture.producer()
        try await producer.send(ProducerMessage(topic: fixture.topic, value: [1]))
        fixture.cluster.pushRequestErrors(apiKey: .produce, errors: [KafkaErrorCode.topicAuthorizationFailed])
        do {
            try await producer.send(ProducerMessage(topic: fixture.topic, value: [2]))
            Issue.record("send must fail")
        } catch {
            #expect(error.kind == .permanent)
            #expect(error.code == KafkaErrorCode.topicAuthorizationFailed)
            #expect(error.context == "produce to \(fixture.topic)")
        }
        // Only that message failed: the producer itself is not in a fatal state.
        #expect(producer.fatalError == nil)
        await producer.close()
    }
}

@Suite("Admin against the mock cluster", .timeLimit(.minutes(1)))
struct AdminTests {
    @Test("metadata describes topics created through the mock API")
    func describeTopics() async throws {
        let fixture = try MockFixture(brokers: 3, partitions: 5)
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(["bootstrap.servers": fixture.cluster.bootstrapServers]), logger: fixture.logger)
        let topics = try await admin.describeTopics()
        #expect(topics[fixture.topic] == TopicDescription(name: fixture.topic, partitions: 5, replicationFactor: 3))
        #expect(try await admin.brokerCount() == 3)
    }

    @Test("the mock has no CreateTopics: the request fails with a typed error instead of hanging")
    func createTopicsUnsupported() async throws {
        let fixture = try MockFixture(partitions: 1)
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(["bootstrap.servers": fixture.cluster.bootstrapServers]), logger: fixture.logger, timeoutMilliseconds: 5_000)
        do {
            let outcome = try await admin.createTopics([TopicSpecification(name: "new.topic", partitions: 2, replicationFactor: 1)])
            if case .failed(let error)? = outcome["new.topic"] {
                #expect(!error.name.isEmpty)
            } else {
                Issue.record("CreateTopics cannot succeed on the mock: \(outcome)")
            }
        } catch {
            #expect(!error.name.isEmpty)
        }
    }
}
