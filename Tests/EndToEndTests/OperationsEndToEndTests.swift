import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import Testing

/// `crmsync run --http-addr`: /metrics values after a known set of events, /readyz flipping with
/// the brokers and the store, and SIGTERM under load (issue 11).
extension FailureModes {
    @Suite("Operations: metrics, readiness, graceful shutdown", .serialized, .timeLimit(.minutes(5)))
    struct OperationsEndToEndTests {
        /// `crmsync run` with `--http-addr 127.0.0.1:0`; returns it and the bound port (from its
        /// one `http server listening on HOST:PORT` line).
        static func startRun(brokers: String, store: String, config: String, batchSize: Int = 20) async throws -> (ProcessorProcess, Int) {
            let processor = try ProcessorProcess(arguments: ["run", "--brokers", brokers, "--store", store, "--batch-size", String(batchSize),
                                                             "--log-level", "info", "--config", config, "--http-addr", "127.0.0.1:0"],
                                                 directory: repositoryRoot)
            let line = try #require(await processor.waitForLine(containing: "http server listening on "))
            let address = try #require(line.components(separatedBy: "http server listening on ").last)
            let port = try #require(address.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) })
            #expect(port > 0)
            return (processor, port)
        }

        static func get(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
            let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
            var request = URLRequest(url: url)
            request.timeoutInterval = 20
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }

        /// Polls /readyz until its status is `status` (readiness is a state with no event to await;
        /// bounded by the suite's time limit).
        static func awaitReadiness(_ port: Int, status: Int) async throws -> String {
            while true {
                let answer = try await get(port, "/readyz")
                if answer.status == status { return answer.body }
                try await Task.sleep(for: .milliseconds(250))
            }
        }

        /// `name{a="x",b="y"} value` lines → value by `name{labels sorted}`.
        static func samples(_ text: String) -> [String: Double] {
            var result: [String: Double] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
                let series = String(line[..<space])
                guard let open = series.firstIndex(of: "{") else { result[series] = value; continue }
                let labels = series[series.index(after: open)..<series.index(before: series.endIndex)]
                    .split(separator: ",").map(String.init).sorted().joined(separator: ",")
                result["\(series[..<open]){\(labels)}"] = value
            }
            return result
        }

        @Test("/metrics counts a known set of events exactly; /healthz and /readyz answer with JSON")
        func metricValues() async throws {
            let directory = try FailureSupport.temporaryDirectory("metrics")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("metrics.sqlite").path
            let config = try FailureSupport.writeConfig(in: directory)
            let broker = try await DevBrokerProcess()
            let crm = (0..<4).map { ProducerMessage(topic: "crm.events.v1", key: Array("m-\($0)".utf8), value: FailureSupport.validEvent(source: "crm", system: "salesforce", id: "m-\($0)")) }
            let billing = (0..<2).map { ProducerMessage(topic: "billing.events.v1", key: Array("b-\($0)".utf8), value: FailureSupport.validEvent(source: "billing", system: "stripe", id: "b-\($0)")) }
            let malformed = (0..<3).map { ProducerMessage(topic: "crm.events.v1", key: Array("x-\($0)".utf8), value: Array("{\"event_id\":\"x-\($0)\",".utf8)) }
            // The first crm event again: a duplicate.
            _ = try await FailureSupport.produce(crm + billing + malformed + [crm[0]], to: broker.bootstrapServers)

            let (processor, port) = try await Self.startRun(brokers: broker.bootstrapServers, store: store, config: config)
            let stats = try await FailureSupport.awaitStats(store, processor: processor) {
                FailureSupport.events($0)["total"] == 10 && FailureSupport.unsent($0) == 0
            }
            #expect(FailureSupport.events(stats) == ["total": 10, "applied": 6, "duplicate": 1, "review": 0, "dead_lettered": 3])

            let metrics = try await Self.get(port, "/metrics")
            #expect(metrics.status == 200)
            let values = Self.samples(metrics.body)
            #expect(values[#"crmsync_events_total{outcome="applied",source="crm",system="salesforce"}"#] == 4)
            #expect(values[#"crmsync_events_total{outcome="applied",source="billing",system="stripe"}"#] == 2)
            #expect(values[#"crmsync_events_total{outcome="duplicate",source="crm",system="salesforce"}"#] == 1)
            #expect(values[#"crmsync_events_total{outcome="dead_lettered",source="crm",system="unknown"}"#] == 3)
            #expect(values[#"crmsync_dead_letters_total{class="malformed-json"}"#] == 3)
            #expect(values[#"crmsync_duplicates_prevented_total{source="crm"}"#] == 1)
            #expect(values[#"crmsync_event_apply_latency_seconds_count{source="crm"}"#] == 4)
            #expect(values[#"crmsync_event_apply_latency_seconds_count{source="billing"}"#] == 2)
            #expect(values["crmsync_outbox_backlog"] == 0)
            #expect(values["crmsync_outbox_oldest_unsent_age_seconds"] == 0)
            #expect(values["crmsync_review_queue_depth"] == 0)
            #expect(values[#"crmsync_alarms{kind="offset_out_of_range"}"#] == 0)
            #expect(values["crmsync_ready"] == 1)
            let lag = values.filter { $0.key.hasPrefix("crmsync_consumer_lag{") }
            #expect(!lag.isEmpty && lag.values.allSatisfy { $0 == 0 }, "caught up: no lag on any assigned partition \(lag)")
            let now = Date().timeIntervalSince1970
            for (source, system) in [("crm", "salesforce"), ("billing", "stripe")] {
                let last = try #require(values["crmsync_last_applied_timestamp_seconds{source=\"\(source)\",system=\"\(system)\"}"])
                #expect(last > now - 600 && last <= now + 1, "last applied \(system) event on \(source) is recent")
            }
            let lastApplied = values.keys.filter { $0.hasPrefix("crmsync_last_applied_timestamp_seconds") }.sorted()
            #expect(lastApplied.count == 2, "one series per source and system that applied events (none for map, none for dead letters): \(lastApplied)")
            let published = try #require(values["crmsync_outbox_published_total"])
            #expect(published >= 3 + 6 * 2, "dead letters, golden records and audit events published")
            #expect(values["crmsync_publish_latency_seconds_count"] == published, "one written → published latency per published row")
            #expect(values["crmsync_batches_total"].map { $0 >= 1 } == true)

            let health = try await Self.get(port, "/healthz")
            #expect(health.status == 200 && health.body == #"{"status":"alive"}"#)
            let ready = try await Self.get(port, "/readyz")
            #expect(ready.status == 200)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(ready.body.utf8)) as? [String: Any])
            #expect(report["ready"] as? Bool == true)
            #expect((report["checks"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["lifecycle", "consumer", "store", "outbox", "producer"])

            #expect(await processor.signal(SIGTERM) == 0)
            _ = await broker.stop()
        }

        @Test("/readyz turns unready when every broker is down or the store is locked, and ready again after")
        func readinessFlips() async throws {
            let directory = try FailureSupport.temporaryDirectory("readiness")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("ready.sqlite").path
            let config = try FailureSupport.writeConfig(in: directory)
            let broker = try await DevBrokerProcess(arguments: ["--control"])
            _ = try await FailureSupport.produce([ProducerMessage(topic: "crm.events.v1", key: Array("r".utf8),
                                                                  value: FailureSupport.validEvent(source: "crm", system: "salesforce", id: "r"))],
                                                 to: broker.bootstrapServers)
            let (processor, port) = try await Self.startRun(brokers: broker.bootstrapServers, store: store, config: config)
            _ = try await FailureSupport.awaitStats(store, processor: processor) { FailureSupport.events($0)["total"] == 1 }
            _ = try await Self.awaitReadiness(port, status: 200)

            for id in 1...3 { #expect(await broker.control("broker-down \(id)") == "ok") }
            let down = try await Self.awaitReadiness(port, status: 503)
            let downReport = try #require(try JSONSerialization.jsonObject(with: Data(down.utf8)) as? [String: Any])
            let failing = (downReport["checks"] as? [[String: Any]] ?? []).filter { $0["ok"] as? Bool == false }.compactMap { $0["name"] as? String }
            #expect(failing.contains("consumer"), "the brokers are why: \(down)")
            #expect(downReport["ready"] as? Bool == false)
            let metricsWhileDown = Self.samples(try await Self.get(port, "/metrics").body)
            #expect(metricsWhileDown["crmsync_ready"] == 0)
            for id in 1...3 { #expect(await broker.control("broker-up \(id)") == "ok") }
            _ = try await Self.awaitReadiness(port, status: 200)

            let lock = StoreLockHolder(path: store)
            try await lock.acquire()
            let locked = try await Self.awaitReadiness(port, status: 503)
            #expect(locked.contains(#""name":"store""#) && locked.contains("not writable"), "\(locked)")
            lock.release()
            _ = try await Self.awaitReadiness(port, status: 200)

            #expect(await processor.signal(SIGTERM) == 0)
            _ = await broker.stop()
        }

        @Test("SIGTERM under load: run stops within shutdown_timeout with its batch committed and the outbox drained; nothing lost after a restart")
        func sigtermUnderLoad() async throws {
            let directory = try FailureSupport.temporaryDirectory("sigterm")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("sigterm.sqlite").path
            let config = try FailureSupport.writeConfig(in: directory)
            let configText = try String(contentsOfFile: config, encoding: .utf8)
            try Data((configText + "\nshutdown_timeout: 15\n").utf8).write(to: URL(fileURLWithPath: config))
            let broker = try await DevBrokerProcess()
            let total = 1_500
            let messages = (0..<total).map { index -> ProducerMessage in
                let (topic, source, system) = FailureSupport.sources[index % 4]
                return ProducerMessage(topic: topic, key: Array("s-\(index)".utf8), value: FailureSupport.validEvent(source: source, system: system, id: "s-\(index)"))
            }
            _ = try await FailureSupport.produce(messages, to: broker.bootstrapServers)

            let first = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 20, config: config)
            #expect(await first.waitForLine(containing: "batch committed") != nil)
            let signalled = ContinuousClock.now
            #expect(await first.signal(SIGTERM) == 0, "a graceful stop exits 0")
            let took = ContinuousClock.now - signalled
            #expect(took < .seconds(15), "stopped within shutdown_timeout (took \(took))")
            let stopped = try await storeStats(store)
            #expect(FailureSupport.identityHolds(stopped))
            #expect(FailureSupport.unsent(stopped) == 0, "the relay drained what the last batch wrote before exiting")

            let second = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 100, config: config)
            let finished = try await FailureSupport.awaitStats(store, processor: second) {
                FailureSupport.events($0)["total"] == total && FailureSupport.unsent($0) == 0
            }
            #expect(FailureSupport.events(finished) == ["total": total, "applied": total, "duplicate": 0, "review": 0, "dead_lettered": 0],
                    "every event exactly once across the stop")
            #expect(await second.signal(SIGTERM) == 0)
            _ = await broker.stop()
        }

        /// Bad input full of personal data: each is dead-lettered, and no log line shows any of it.
        static let piiCorpus: [(topic: String, text: String)] = [
            ("crm.events.v1", #"{"event_id":"p-1","source":"crm","system":"salesforce","type":"contact.upserted","occurred_at":"2026-03-01T10:00:00Z","entity":"contact","external_id":"ada.lovelace@example.com","fields":{"email":"ada.lovelace@@example.com","first_name":"Ada","last_name":"Lovelace"}}"#),
            ("crm.events.v1", #"{"event_id":"p-2","source":"crm","system":"salesforce","type":"contact.upserted","fields":{"email":"grace.hopper@navy.mil","first_name":"Grace","last_name":"Hopper""#),
            ("map.events.v1", #"{"event_id":"p-3","source":"map","system":"hubspot","type":"contact.upserted","occurred_at":"2026-03-01T10:00:00Z","entity":"contact","external_id":"x3","fields":{"email":"alan.turing@example.org","first_name":42,"last_name":"Turing"}}"#),
            ("crm.events.v1", #"{"event_id":"p-4","source":"crm","system":"salesforce","type":"contact.upserted","occurred_at":"2026-03-01T10:00:00Z","entity":"contact","external_id":"x4","fields":{"email":"katherine.johnson@nasa.gov","email_opt_out":"Katherine Johnson","phone":"+44 20 7946 0958"}}"#),
            ("product.events.v1", #"{"who":"Hedy Lamarr","email":"hedy.lamarr@example.com","phone":"+1 (415) 555-0199"}"#),
            ("billing.events.v1", #"{"id":"evt_5","object":"event","created":1732533400,"type":"customer.updated","data":{"object":{"id":"cus_1","email":"margaret.hamilton@@mit.edu","name":"Margaret Hamilton","phone":"415-555-0123"}}}"#),
        ]
        static let piiTokens = ["Lovelace", "ada.lovelace", "grace.hopper", "Hopper", "alan.turing", "Turing", "Katherine", "katherine.johnson",
                                "7946", "Hedy", "hedy.lamarr", "555-0199", "Margaret", "Hamilton", "margaret.hamilton", "555-0123"]

        @Test("no log line of `run` shows the emails, phones or names of PII-bearing bad input; the DLQ keeps the original bytes",
              arguments: ["text", "json"])
        func redaction(format: String) async throws {
            let directory = try FailureSupport.temporaryDirectory("redaction")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("pii.sqlite").path
            let config = try FailureSupport.writeConfig(in: directory)
            let configText = try String(contentsOfFile: config, encoding: .utf8)
            try Data((configText + "\nlog_format: \(format)\n").utf8).write(to: URL(fileURLWithPath: config))
            let broker = try await DevBrokerProcess()
            let sent = Self.piiCorpus.enumerated().map { ProducerMessage(topic: $0.element.topic, key: Array("pii-\($0.offset)".utf8), value: Array($0.element.text.utf8)) }
            _ = try await FailureSupport.produce(sent, to: broker.bootstrapServers)

            let processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 20, config: config)
            var lines: [String] = []
            var stats: [String: Any] = [:]
            while true {
                stats = try await storeStats(store, requireSuccess: false)
                if FailureSupport.events(stats)["total"] == sent.count, FailureSupport.unsent(stats) == 0 { break }
                guard let line = await processor.logLines.nextLine() else { Issue.record("run ended early"); break }
                lines.append(line)
            }
            #expect(await processor.signal(SIGTERM) == 0)
            while let line = await processor.logLines.nextLine() { lines.append(line) }
            let deadLettered = FailureSupport.events(stats)["dead_lettered"] ?? 0
            #expect(deadLettered == sent.count, "every corpus message is bad input: \(stats)")
            #expect(lines.filter { $0.contains("dead-lettered") }.count == deadLettered, "each dead letter is logged")
            if format == "json" {
                for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "not one JSON object: \(line)") }
            }
            for token in Self.piiTokens {
                let leaks = lines.filter { $0.contains(token) }
                #expect(leaks.isEmpty, "\(token) leaked: \(leaks)")
            }

            let letters = try await TopicSnapshot.read(topic: "dlq.events.v1", partitions: 3, bootstrapServers: broker.bootstrapServers, logger: FailureSupport.logger)
            #expect(Set(letters.compactMap(\.value)) == Set(sent.compactMap(\.value)), "the dead letters keep the original bytes")
            _ = await broker.stop()
        }

        @Test("a second SIGTERM during a graceful shutdown that cannot finish (store locked) stops run at once with exit 130; nothing is lost")
        func secondSignal() async throws {
            let directory = try FailureSupport.temporaryDirectory("second-signal")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("second.sqlite").path
            let config = try FailureSupport.writeConfig(in: directory)
            let configText = try String(contentsOfFile: config, encoding: .utf8)
            // Long retry backoffs: the first signal can be sent at the start of a long wait, so the
            // graceful stop (which lets that wait end before leaving the batch) surely outlasts the test's steps.
            try Data((configText + "\nshutdown_timeout: 600\nretry:\n  backoff_base_ms: 60000\n  backoff_cap_ms: 60000\n").utf8)
                .write(to: URL(fileURLWithPath: config))
            let broker = try await DevBrokerProcess()
            let first = (0..<4).map { ProducerMessage(topic: "crm.events.v1", key: Array("q-\($0)".utf8), value: FailureSupport.validEvent(source: "crm", system: "salesforce", id: "q-\($0)")) }
            _ = try await FailureSupport.produce(first, to: broker.bootstrapServers)
            let (processor, port) = try await Self.startRun(brokers: broker.bootstrapServers, store: store, config: config)
            _ = try await FailureSupport.awaitStats(store, processor: processor) { FailureSupport.events($0)["total"] == 4 }

            // The store locked with a batch in hand: the batch cannot commit, so the graceful stop waits.
            let lock = StoreLockHolder(path: store)
            try await lock.acquire()
            let more = (4..<8).map { ProducerMessage(topic: "crm.events.v1", key: Array("q-\($0)".utf8), value: FailureSupport.validEvent(source: "crm", system: "salesforce", id: "q-\($0)")) }
            _ = try await FailureSupport.produce(more, to: broker.bootstrapServers)
            // A retry that waits at least 5 s (full jitter: most do).
            while true {
                guard let line = await processor.waitForLine(containing: "transient failure, retrying batch") else {
                    Issue.record("run ended while the store was locked")
                    return
                }
                let delay = line.components(separatedBy: " in ").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
                if delay >= 5_000 { break }
            }
            kill(processor.process.processIdentifier, SIGTERM)
            #expect(await processor.waitForLine(containing: "shutting down gracefully") != nil)
            // The HTTP server stops last: until then /readyz says why it is not ready.
            let stopping = try await Self.get(port, "/readyz")
            #expect(stopping.status == 503 && stopping.body.contains(#"{"detail":"shutting down","name":"lifecycle","ok":false}"#), "\(stopping.body)")
            let started = ContinuousClock.now
            #expect(await processor.signal(SIGTERM) == 130, "the second signal ends the process at once")
            #expect(ContinuousClock.now - started < .seconds(3))
            lock.release()

            // As after a crash: a new run applies the uncommitted batch, each event once.
            let again = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 20, config: config)
            let stats = try await FailureSupport.awaitStats(store, processor: again) {
                FailureSupport.events($0)["total"] == 8 && FailureSupport.unsent($0) == 0
            }
            #expect(FailureSupport.events(stats) == ["total": 8, "applied": 8, "duplicate": 0, "review": 0, "dead_lettered": 0])
            #expect(await again.signal(SIGTERM) == 0)
            _ = await broker.stop()
        }
    }
}
