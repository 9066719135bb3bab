import Foundation
import GRDB
import Kafka
import Testing

extension FailureModes {
    /// docs/contract.md#offset-out-of-range: data that expired before it was read is an alarm and a log line naming the lost
    /// range, never a silent jump. The dev broker (librdkafka's mock) ignores retention, but trims
    /// the head of a partition holding more than 5 MB — exactly what retention does to a consumer
    /// that fell behind — so the test makes the processor fall behind by 5 MB while it is stopped.
    @Suite("Offset out of range: a loud alarm, never a silent jump", .serialized, .timeLimit(.minutes(5)))
    struct OffsetAlarmTests {
        @Test("expired offsets: one ALARM line with the lost range, an alarm in stats, resumed at the log start, nothing counted twice")
        func expiredOffsetsRaiseAnAlarm() async throws {
            let directory = try FailureSupport.temporaryDirectory("offset-alarm")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("alarm.sqlite").path
            try FailureSupport.writeConfig(in: directory)
            let broker = try await DevBrokerProcess()
            let topic = "crm.events.v1"
            func event(_ index: Int) -> ProducerMessage {
                ProducerMessage(topic: topic, partition: 0, key: Array("p\(index)".utf8),
                                value: FailureSupport.validEvent(source: "crm", system: "salesforce", id: "alarm-\(index)"))
            }

            // 1. Five events, consumed by a first run (which starts every partition at the beginning:
            //    the store has no offsets and auto.offset.reset is `error`).
            _ = try await FailureSupport.produce((0..<5).map(event), to: broker.bootstrapServers)
            let first = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: directory.path, batchSize: 50)
            _ = try await FailureSupport.awaitStats(store, processor: first) {
                (($0["offsets"] as? [String: [String: Int]])?[topic]?["0"]) == 5
            }
            #expect(await first.signal(SIGTERM) == 0)

            // 2. While it is stopped: three more events, then 6 MB of filler, so the broker trims the
            //    head of the partition past everything the store has not read.
            let filler = (0..<60).map { index in
                ProducerMessage(topic: topic, partition: 0, key: Array("filler-\(index)".utf8),
                                value: Array(#"{"filler":"\#(String(repeating: "x", count: 100_000))"}"#.utf8))
            }
            _ = try await FailureSupport.produce((5..<8).map(event) + filler, to: broker.bootstrapServers)
            let probe = try KafkaConsumer(configuration: ConsumerConfiguration(bootstrapServers: broker.bootstrapServers, groupID: "alarm-probe"),
                                          logger: FailureSupport.logger)
            let marks = try await probe.watermarks(for: [TopicPartition(topic: topic, partition: 0)])
            await probe.close()
            let low = try #require(marks.values.first?.low), high = try #require(marks.values.first?.high)
            #expect(high == 68)
            #expect(low > 8, "the broker trimmed the three unread events and some filler (low watermark \(low))")

            // 3. The second run finds offset 5 gone: alarm, log line, resume at the low watermark.
            let second = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: directory.path, batchSize: 50)
            let alarmLine = await second.waitForLine(containing: "ALARM", or: ["batch committed"])   // a silent jump would commit first
            #expect(alarmLine?.contains("\(topic) partition 0") == true, "\(alarmLine ?? "no line")")
            #expect(alarmLine?.contains("offsets 5...\(low - 1) (\(low - 5) events) expired before they were read") == true, "\(alarmLine ?? "no line")")
            #expect(alarmLine?.contains("resuming at the log start \(low)") == true, "\(alarmLine ?? "no line")")
            let stats = try await FailureSupport.awaitStats(store, processor: second) {
                (($0["offsets"] as? [String: [String: Int]])?[topic]?["0"]) == Int(high) && FailureSupport.unsent($0) == 0
            }
            #expect(second.process.isRunning, "the alarm does not stop the processor")
            #expect(await second.signal(SIGTERM) == 0)

            // 4. Exactly one alarm; every remaining record counted once; the lost events never applied.
            #expect(stats["alarms"] as? [String: Int] == ["offset_out_of_range": 1, "foreign_store": 0, "unreadable_batch": 0, "outbox_parked": 0])
            let recent = try #require((stats["recent_alarms"] as? [[String: Any]])?.first)
            #expect(recent["topic"] as? String == topic)
            #expect(recent["partition"] as? Int == 0)
            #expect(recent["lost_from"] as? Int == 5)
            #expect(recent["lost_to"] as? Int == Int(low) - 1)
            #expect(recent["resumed_at"] as? Int == Int(low))
            let events = FailureSupport.events(stats)
            #expect(events["total"] == 5 + Int(high - low), "nothing counted twice, nothing after the gap skipped")
            #expect(events["applied"] == 5)
            #expect(events["duplicate"] == 0)
            #expect(events["dead_lettered"] == Int(high - low), "the filler after the gap was read (and is not an event)")
            #expect(FailureSupport.identityHolds(stats))
            #expect((stats["records"] as? [String: Int])?["contact"] == 5, "the three expired events were never applied")

            let text = try await crmsync(["stats", "--store", store])
            #expect(text.status == 0)
            #expect(text.stdout.contains("alarms: 0 foreign store, 1 offset out of range, 0 outbox parked, 0 unreadable batch"), "\(text.stdout)")
            #expect(text.stdout.contains("\(topic)[0]: offsets 5...\(low - 1) lost, resumed at \(low)"), "\(text.stdout)")
            _ = await broker.stop()
        }

        @Test("a stored offset beyond the log end (log truncated, topic recreated): an alarm, and the log is read again from its start")
        func storedOffsetBeyondTheEnd() async throws {
            let directory = try FailureSupport.temporaryDirectory("offset-beyond")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("beyond.sqlite").path
            try FailureSupport.writeConfig(in: directory)
            let broker = try await DevBrokerProcess()
            let topic = "crm.events.v1"
            _ = try await FailureSupport.produce((0..<5).map { index in
                ProducerMessage(topic: topic, partition: 0, key: Array("b\(index)".utf8),
                                value: FailureSupport.validEvent(source: "crm", system: "salesforce", id: "beyond-\(index)"))
            }, to: broker.bootstrapServers)
            let first = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: directory.path, batchSize: 50)
            _ = try await FailureSupport.awaitStats(store, processor: first) { FailureSupport.events($0)["total"] == 5 }
            #expect(await first.signal(SIGTERM) == 0)

            // The store remembers a position the log no longer has.
            let queue = try DatabaseQueue(path: store)
            try await queue.write { db in
                try db.execute(sql: "UPDATE consumed_offsets SET next_offset = 50 WHERE topic = ? AND partition = 0", arguments: [topic])
                #expect(db.changesCount == 1)
            }
            try queue.close()

            let second = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: directory.path, batchSize: 50)
            let alarmLine = await second.waitForLine(containing: "ALARM", or: ["batch committed"])
            #expect(alarmLine?.contains("stored offset 50 is beyond the log end 5") == true, "\(alarmLine ?? "no line")")
            #expect(alarmLine?.contains("re-reading from the log start 0") == true, "\(alarmLine ?? "no line")")
            let stats = try await FailureSupport.awaitStats(store, processor: second) {
                (($0["offsets"] as? [String: [String: Int]])?[topic]?["0"]) == 5 && FailureSupport.events($0)["total"] == 10
            }
            #expect(await second.signal(SIGTERM) == 0)
            #expect((stats["alarms"] as? [String: Int])?["offset_out_of_range"] == 1)
            let recent = try #require((stats["recent_alarms"] as? [[String: Any]])?.first)
            #expect(recent["lost_from"] == nil || recent["lost_from"] is NSNull, "nothing known lost")
            #expect(recent["resumed_at"] as? Int == 0)
            #expect(FailureSupport.events(stats) == ["total": 10, "applied": 5, "duplicate": 5, "review": 0, "dead_lettered": 0],
                    "re-read events are recognized as duplicates, never applied twice")
            _ = await broker.stop()
        }
    }
}
