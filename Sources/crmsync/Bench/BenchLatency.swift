import Bench
import Foundation
import Kafka

/// Publish → audit-event latency at a steady rate: messages are published in 10 ms ticks, an
/// audit-topic reader notes when the audit event naming each one's event id arrives.
struct BenchLatency {
    let cluster: BenchCluster
    let child: BenchChild
    let label: String
    let progress: BenchProgress

    /// Publish time (uptime ns) per expected event id, and the latencies matched so far.
    final class Ledger: Sendable {
        let published = Locked<[String: UInt64]>([:])
        let samples = Locked(LatencySamples())
        /// Next offset seen per audit partition.
        let positions = Locked<[TopicPartition: Int64]>([:])

        func arrived(_ message: ConsumerMessage, at now: UInt64) {
            positions.withLock { $0[message.topicPartition] = max($0[message.topicPartition] ?? 0, message.offset + 1) }
            guard let value = message.value, let eventID = Self.eventID(in: value),
                  let sent = published.withLock({ $0.removeValue(forKey: eventID) }) else { return }
            samples.withLock { $0.add(Double(now - sent) / 1e6) }
        }

        /// The audit event's `event_id`, without decoding the whole document.
        static func eventID(in json: [UInt8]) -> String? {
            let marker = Array(#""event_id":""#.utf8)
            guard json.count > marker.count else { return nil }
            var index = 0
            while index + marker.count < json.count {
                if json[index] == marker[0], Array(json[index..<(index + marker.count)]) == marker {
                    let start = index + marker.count
                    guard let end = json[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                    return String(decoding: json[start..<end], as: UTF8.self)
                }
                index += 1
            }
            return nil
        }
    }

    func measure(rate: Int, seconds: Int, workload: inout Workload) async throws -> BenchReport.RateLatency {
        let ledger = Ledger()
        let auditPartitions = cluster.partitions(of: .audit)
        let reader = try KafkaConsumer(configuration: ConsumerConfiguration(
            bootstrapServers: cluster.configuration.brokers, groupID: "crmsync-bench-audit-\(getpid())",
            overrides: ["enable.auto.commit": "false", "fetch.wait.max.ms": "\(BenchCluster.fetchWaitMilliseconds)"]),
            logger: cluster.logger, name: "bench-audit")
        let start = try await reader.watermarks(for: auditPartitions)
        try reader.assign(start.mapValues { $0.high })
        let reading = Task {
            while !Task.isCancelled {
                // Returns [] once the task is cancelled; never drops a fetched message.
                let batch = try await reader.nextBatch(maxMessages: 5_000)
                let now = DispatchTime.now().uptimeNanoseconds
                for message in batch { ledger.arrived(message, at: now) }
            }
        }
        defer { reading.cancel() }

        // Publish at `rate` for `seconds`, in 10 ms ticks.
        let total = rate * seconds
        let began = DispatchTime.now().uptimeNanoseconds
        let consumedBefore = try child.consumed()
        var published = 0
        while published < total {
            let due = min(total, Int(Double(rate) * Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9) + 1)
            while published < due {
                let next = workload.next()
                let now = DispatchTime.now().uptimeNanoseconds
                ledger.published.withLock { table in for id in next.eventIDs { table[id] = now } }
                try await cluster.send(next.message)
                published += 1
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        try await cluster.flush()
        progress.line("\(label) latency: published \(published) at \(rate)/s; waiting for the pipeline to catch up")

        // Done when the store consumed everything, the relay published everything, and the
        // reader has read the audit topic to its end.
        try await waitUntil("the store consumes every message") { try child.consumed() - consumedBefore >= Int64(published) }
        try await waitUntil("the outbox drains") { try child.outboxDrained() }
        let end = try await reader.watermarks(for: auditPartitions)
        try await waitUntil("the audit topic is read to its end") {
            let seen = ledger.positions.withLock { $0 }
            return end.allSatisfy { seen[$0.key] ?? start[$0.key]?.high ?? 0 >= $0.value.high }
        }
        reading.cancel()
        _ = try? await reading.value
        await reader.close()
        let samples = ledger.samples.withLock { $0 }
        let result = BenchReport.RateLatency(rate: rate, published: published, matched: samples.count,
                                             p50: samples.percentile(50), p99: samples.percentile(99))
        progress.line("\(label) latency at \(rate)/s: p50 \(result.p50.map { "\(Int($0))" } ?? "–") ms, p99 \(result.p99.map { "\(Int($0))" } ?? "–") ms over \(samples.count) audit events")
        return result
    }

    /// Polls `condition` every 20 ms; fails when the child dies or the store has made no
    /// progress for ``BenchDrain/stallSeconds`` (a slow pipeline is measured, not failed).
    private func waitUntil(_ what: String, _ condition: () throws -> Bool) async throws {
        var last = (at: DispatchTime.now().uptimeNanoseconds, consumed: try child.consumed())
        while try !condition() {
            guard child.isRunning else {
                throw CLIFailure.other("`crmsync run` stopped while waiting until \(what) (\(label)); see \(child.logPath):\n\(child.logTail())")
            }
            let now = DispatchTime.now().uptimeNanoseconds
            let consumed = try child.consumed()
            if consumed != last.consumed {
                last = (now, consumed)
            } else if now - last.at > BenchDrain.stallSeconds * 1_000_000_000 {
                throw CLIFailure.other("no progress for \(BenchDrain.stallSeconds) s waiting until \(what) (\(label)); see \(child.logPath):\n\(child.logTail())")
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }
}
