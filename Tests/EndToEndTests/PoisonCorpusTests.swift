import Foundation
import SeededRandom
import Kafka
import Testing

/// A generated corpus of malformed messages across the four source topics, interleaved with
/// valid traffic, through one `crmsync run` (issue 6, docs/contract.md#permanent-failures).
struct PoisonCorpus {
    /// One input: the record to produce and the error class it must be dead-lettered with
    /// (nil: a valid event that must be applied).
    struct Input {
        var message: ProducerMessage
        var expectedClass: String?
    }

    /// A malformed shape: topic and bytes for variant `n`, the class it must fail with.
    struct Template: Sendable {
        let name: String
        let topic: String
        let format: String?
        let expectedClass: String
        let bytes: @Sendable (Int) -> [UInt8]
    }

    static func envelope(_ n: Int, source: String = "crm", system: String = "salesforce", fields: String = "{}", entity: String = "contact") -> String {
        #"{"event_id":"bad-\#(n)","source":"\#(source)","system":"\#(system)","type":"\#(entity).upserted","occurred_at":"2026-02-01T10:00:00Z","entity":"\#(entity)","external_id":"x-\#(n)","fields":\#(fields)}"#
    }

    static func salesforce(_ n: Int, header: String = "", body: String = "") -> String {
        let base = #""entityName":"Lead","recordIds":["00Q\#(n)"],"changeType":"UPDATE","transactionKey":"t\#(n)","sequenceNumber":1,"commitTimestamp":1732533383000,"commitUser":"005x""#
        return #"{"ChangeEventHeader":{\#(header.isEmpty ? base : header.replacingOccurrences(of: "$BASE", with: base))}\#(body)}"#
    }

    static func hubspotCreation(_ n: Int, type: String = "contact.creation") -> String {
        #"{"eventId":\#(n),"subscriptionId":2,"portalId":3,"occurredAt":1732533390123,"subscriptionType":"\#(type)","objectId":\#(5000 + n)}"#
    }

    static func stripe(_ n: Int, type: String, object: String) -> String {
        #"{"id":"evt_\#(n)","object":"event","created":1732533400,"type":"\#(type)","data":\#(object)}"#
    }

    static func segment(_ n: Int) -> String {
        #"{"type":"identify","messageId":"m\#(n)","userId":"u\#(n)","timestamp":"2026-02-01T12:00:00Z","traits":{"email":"seg\#(n)@initech.com"}}"#
    }

    static func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

    static let templates: [Template] = [
        // Bytes that are not one JSON document.
        Template(name: "truncated envelope", topic: "crm.events.v1", format: nil, expectedClass: "malformed-json") { n in
            let text = envelope(n)
            return utf8(String(text.prefix(1 + n % (text.count - 1))))
        },
        Template(name: "invalid UTF-8", topic: "map.events.v1", format: nil, expectedClass: "malformed-json") { n in
            var bytes = utf8(envelope(n, source: "map", system: "hubspot"))
            bytes.insert(contentsOf: [0xFF, 0xFE, 0xC0, 0xAF], at: 14)   // inside the event id string
            return bytes
        },
        Template(name: "trailing garbage", topic: "billing.events.v1", format: nil, expectedClass: "malformed-json") { n in
            utf8(envelope(n, source: "billing", system: "stripe") + " }x")
        },
        Template(name: "two documents", topic: "product.events.v1", format: nil, expectedClass: "malformed-json") { n in
            utf8(segment(n) + segment(n + 1))
        },
        Template(name: "empty body", topic: "crm.events.v1", format: nil, expectedClass: "malformed-json") { _ in [] },
        Template(name: "single quotes", topic: "map.events.v1", format: nil, expectedClass: "malformed-json") { n in utf8("{'event_id': \(n)}") },
        // JSON, but no accepted shape or wrong types.
        Template(name: "object of nothing known", topic: "product.events.v1", format: nil, expectedClass: "unknown-format") { n in utf8(#"{"hello":"world \#(n)"}"#) },
        Template(name: "JSON number", topic: "billing.events.v1", format: nil, expectedClass: "schema") { n in utf8("\(n)") },
        Template(name: "consent not an array", topic: "crm.events.v1", format: nil, expectedClass: "schema") { n in
            utf8(envelope(n, fields: #"{"consent":{"channel":"email","granted":true}}"#))
        },
        Template(name: "canonical as array", topic: "crm.events.v1", format: "canonical", expectedClass: "schema") { n in utf8("[" + envelope(n) + "]") },
        Template(name: "sf commitTimestamp as string", topic: "crm.events.v1", format: nil, expectedClass: "schema") { n in
            utf8(salesforce(n).replacingOccurrences(of: "1732533383000", with: #""2024-11-25""#))
        },
        Template(name: "hs occurredAt as string", topic: "map.events.v1", format: nil, expectedClass: "schema") { n in
            utf8("[" + hubspotCreation(n).replacingOccurrences(of: "1732533390123", with: #""yesterday""#) + "]")
        },
        // Missing ids and required parts.
        Template(name: "fields null", topic: "crm.events.v1", format: nil, expectedClass: "missing-field") { n in
            utf8(envelope(n).replacingOccurrences(of: #""fields":{}"#, with: #""fields":null"#))
        },
        Template(name: "sf missing recordIds", topic: "crm.events.v1", format: nil, expectedClass: "missing-field") { n in
            utf8(salesforce(n).replacingOccurrences(of: #""recordIds":["00Q\#(n)"],"#, with: ""))
        },
        Template(name: "hs second element lacks objectId", topic: "map.events.v1", format: nil, expectedClass: "missing-field") { n in
            utf8("[" + hubspotCreation(n) + "," + hubspotCreation(n + 1).replacingOccurrences(of: #","objectId":\#(5001 + n)"#, with: "") + "]")
        },
        Template(name: "stripe data without object", topic: "billing.events.v1", format: nil, expectedClass: "missing-field") { n in
            utf8(stripe(n, type: "customer.created", object: "{}"))
        },
        Template(name: "stripe subscription without customer", topic: "billing.events.v1", format: nil, expectedClass: "missing-field") { n in
            utf8(stripe(n, type: "customer.subscription.created", object: #"{"object":{"id":"sub_\#(n)","status":"active"}}"#))
        },
        Template(name: "segment missing messageId", topic: "product.events.v1", format: nil, expectedClass: "missing-field") { n in
            utf8(segment(n).replacingOccurrences(of: #""messageId":"m\#(n)","#, with: ""))
        },
        // Unknown entities.
        Template(name: "sf unknown entity", topic: "crm.events.v1", format: nil, expectedClass: "unknown-entity") { n in
            utf8(salesforce(n).replacingOccurrences(of: "Lead", with: "Case"))
        },
        Template(name: "hs unknown object type", topic: "map.events.v1", format: nil, expectedClass: "unknown-entity") { n in
            utf8("[" + hubspotCreation(n, type: "ticket.creation") + "]")
        },
        Template(name: "stripe unmodeled type", topic: "billing.events.v1", format: nil, expectedClass: "unknown-entity") { n in
            utf8(stripe(n, type: "charge.succeeded", object: #"{"object":{"id":"ch_\#(n)","object":"charge","customer":"cus_1"}}"#))
        },
        // Values the normalizers refuse.
        Template(name: "invalid phone", topic: "crm.events.v1", format: nil, expectedClass: "invalid-value") { n in
            utf8(envelope(n, fields: #"{"phone":"call me maybe \#(n)"}"#))
        },
        Template(name: "segment bad timestamp", topic: "product.events.v1", format: nil, expectedClass: "invalid-value") { n in
            utf8(segment(n).replacingOccurrences(of: "2026-02-01T12:00:00Z", with: "next tuesday"))
        },
        Template(name: "unmapped picklist", topic: "crm.events.v1", format: nil, expectedClass: "unmapped-value") { n in
            utf8(envelope(n, fields: #"{"industry":"Underwater Basket Weaving \#(n)"}"#))
        },
        Template(name: "huge field value", topic: "map.events.v1", format: nil, expectedClass: "oversized") { n in
            utf8(envelope(n, source: "map", system: "hubspot", fields: #"{"job_title":"\#(String(repeating: "x", count: 10_000))"}"#))
        },
    ]

    /// About 900 KB: above `normalize.max_message_bytes` (512 KiB by default), below the
    /// producer's `message.max.bytes` (1,000,000), so it reaches crmsync and its dead letter
    /// (same bytes plus headers) still fits the DLQ. One per source topic: the mock broker
    /// keeps only about 5 MB per partition.
    static func hugeMessage(_ topic: String, _ n: Int) -> [UInt8] {
        utf8(envelope(n, fields: #"{"job_title":"\#(String(repeating: "y", count: 900 * 1024))"}"#))
    }

    var inputs: [Input] = []

    init(malformedPerTemplate: Int, validPerTopic: Int, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var all: [Input] = []
        var number = 0
        for template in Self.templates {
            for _ in 0..<malformedPerTemplate {
                number += 1
                all.append(Input(message: Self.message(topic: template.topic, bytes: template.bytes(number), format: template.format, number: number,
                                                       random: &random), expectedClass: template.expectedClass))
            }
        }
        for (topic, _, _) in FailureSupport.sources {
            number += 1
            all.append(Input(message: Self.message(topic: topic, bytes: Self.hugeMessage(topic, number), format: nil, number: number, random: &random),
                             expectedClass: "oversized"))
        }
        for (topic, source, system) in FailureSupport.sources {
            for index in 0..<validPerTopic {
                number += 1
                all.append(Input(message: Self.message(topic: topic, bytes: FailureSupport.validEvent(source: source, system: system, id: "\(source)-\(index)"),
                                                       format: nil, number: number, random: &random), expectedClass: nil))
            }
        }
        inputs = all.shuffled(using: &random)
    }

    /// Keys, headers and timestamps vary: no key, binary and null header values, repeated names.
    static func message(topic: String, bytes: [UInt8], format: String?, number: Int, random: inout SplitMix64) -> ProducerMessage {
        var headers: [KafkaHeader] = []
        if let format { headers.append(KafkaHeader(name: "crmsync-format", string: format)) }
        switch random.next() % 4 {
        case 0: headers.append(KafkaHeader(name: "trace-id", string: "trace-\(number)"))
        case 1: headers += [KafkaHeader(name: "x-dup", string: "a"), KafkaHeader(name: "x-dup", string: "b"), KafkaHeader(name: "x-null", value: nil)]
        case 2: headers.append(KafkaHeader(name: "x-binary", value: [0x00, 0xFF, 0x80, UInt8(number % 256)]))
        default: break
        }
        let key: [UInt8]? = random.next() % 5 == 0 ? nil : Array("key-\(number % 97)".utf8)
        return ProducerMessage(topic: topic, key: key, value: bytes, headers: headers, timestampMilliseconds: 1_767_225_600_000 + Int64(number))
    }
}

extension FailureModes {
    @Suite("Poison corpus through the binary: every malformed message dead-lettered once, intact", .serialized, .timeLimit(.minutes(5)))
    struct PoisonCorpusTests {
        @Test("1,000+ malformed messages among valid traffic: one dead letter each with its headers and bytes, every valid one applied, run never restarts")
        func poisonCorpus() async throws {
            let corpus = PoisonCorpus(malformedPerTemplate: 40, validPerTopic: 60, seed: 6)
            let malformed = corpus.inputs.filter { $0.expectedClass != nil }
            let valid = corpus.inputs.count - malformed.count
            #expect(malformed.count >= 1_000)
            #expect(Set(malformed.map(\.message.topic)).count == 4, "across the four source topics")

            let directory = try FailureSupport.temporaryDirectory("poison")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("poison.sqlite").path
            let broker = try await DevBrokerProcess()
            let reports = try await FailureSupport.produce(corpus.inputs.map(\.message), to: broker.bootstrapServers)

            let processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 200)
            let pid = processor.process.processIdentifier
            let stats = try await FailureSupport.awaitStats(store, processor: processor) {
                FailureSupport.events($0)["total"] == corpus.inputs.count && FailureSupport.unsent($0) == 0
            }
            #expect(processor.process.isRunning && processor.process.processIdentifier == pid, "the same run process handled everything")

            // The accounting identity, with the exact split.
            let events = FailureSupport.events(stats)
            #expect(events == ["total": corpus.inputs.count, "applied": valid, "duplicate": 0, "review": 0, "dead_lettered": malformed.count])
            #expect((stats["records"] as? [String: Int])?["contact"] == valid, "every valid event made its own record")

            // Every malformed input is on the DLQ exactly once, byte for byte, with its diagnosis.
            let letters = try await TopicSnapshot.read(topic: "dlq.events.v1", partitions: 3, bootstrapServers: broker.bootstrapServers, logger: FailureSupport.logger)
            #expect(letters.count == malformed.count)
            var expectedByOrigin: [String: PoisonCorpus.Input] = [:]
            for (input, report) in zip(corpus.inputs, reports) where input.expectedClass != nil {
                expectedByOrigin["\(report.topic)/\(report.partition)/\(report.offset)"] = input
            }
            var seen: Set<String> = []
            var mismatches: [String] = []
            for letter in letters {
                let headers = letter.headers
                let origin = "\(headers.string("crmsync.original.topic") ?? "?")/\(headers.string("crmsync.original.partition") ?? "?")/\(headers.string("crmsync.original.offset") ?? "?")"
                guard let input = expectedByOrigin[origin] else {
                    mismatches.append("\(origin): a letter for no malformed input")
                    continue
                }
                guard seen.insert(origin).inserted else {
                    mismatches.append("\(origin): dead-lettered twice")
                    continue
                }
                let sent = input.message
                if letter.key != sent.key { mismatches.append("\(origin): key differs") }
                if letter.value != sent.value { mismatches.append("\(origin): value differs (\(letter.value?.count ?? -1) vs \(sent.value?.count ?? -1) bytes)") }
                // docs/contract.md#dead-letters names the headers crmsync adds; all of them start with `crmsync.`.
                let original = headers.filter { !$0.name.hasPrefix("crmsync.") }
                if original != sent.headers { mismatches.append("\(origin): original headers differ: \(original) vs \(sent.headers)") }
                if headers.string("crmsync.error.class") != input.expectedClass {
                    mismatches.append("\(origin): class \(headers.string("crmsync.error.class") ?? "none"), expected \(input.expectedClass ?? "")"
                                      + " (\(headers.string("crmsync.error.message") ?? ""))")
                }
                if headers.string("crmsync.error.stage") != "normalize" { mismatches.append("\(origin): stage \(headers.string("crmsync.error.stage") ?? "none")") }
                if (headers.string("crmsync.error.message") ?? "").isEmpty { mismatches.append("\(origin): no error message") }
                if headers.string("crmsync.original.timestamp") != sent.timestampMilliseconds.map(String.init) { mismatches.append("\(origin): original timestamp") }
                if headers.string("crmsync.replay.count") != "0" { mismatches.append("\(origin): replay count") }
                if headers.string("crmsync.failed.at").map({ $0.hasPrefix("20") && $0.hasSuffix("Z") }) != true { mismatches.append("\(origin): failed-at") }
            }
            #expect(mismatches.isEmpty, "\(mismatches.count) problems, first: \(mismatches.prefix(5))")
            #expect(seen.count == malformed.count, "every malformed input has its letter")

            #expect(processor.process.isRunning, "still the same process after the whole corpus")
            #expect(await processor.signal(SIGTERM) == 0, "and it shuts down cleanly")
            _ = await broker.stop()
        }
    }
}
