import HTTPServer
import Logging
import Operations
import Pipeline
import Store

/// The routes `crmsync run --http-addr` serves, wired to the running processor.
enum OperationsWiring {
    /// An unsent outbox row older than this means the relay is not keeping up (or cannot publish).
    static let outboxStallSeconds: Int64 = 120

    static func routes(_ wiring: ProcessorWiring, metrics: PipelineMetrics, stopping: OnceFlag) -> [any RouteContributor] {
        let readiness = self.readiness(wiring, stopping: stopping)
        let gauges = ScrapeGauges(store: wiring.store, processor: wiring.processor, readiness: readiness)
        return [MetricsRoutes(metrics: metrics, gauges: gauges), HealthRoutes(readiness: readiness)]
    }

    /// Ready: not shutting down, partitions assigned and the brokers answering, the store
    /// writable, the outbox draining, and no fatal producer error.
    static func readiness(_ wiring: ProcessorWiring, stopping: OnceFlag) -> ReadinessProbe {
        let processor = wiring.processor
        let store = wiring.store
        let producer = wiring.producer
        return ReadinessProbe(checks: [
            {
                stopping.isClaimed ? ReadinessCheck(name: "lifecycle", ok: false, detail: "shutting down")
                    : ReadinessCheck(name: "lifecycle", ok: true, detail: "running")
            },
            {
                let probe = await processor.probe()
                if let error = probe.brokerError {
                    return ReadinessCheck(name: "consumer", ok: false, detail: "brokers not answering: \(error)")
                }
                if probe.assignment.isEmpty {
                    return ReadinessCheck(name: "consumer", ok: false, detail: "no partitions assigned (joining the group, or more members than partitions)")
                }
                return ReadinessCheck(name: "consumer", ok: true, detail: "\(probe.assignment.count) partitions assigned, brokers answering")
            },
            {
                do {
                    try store.probeWritable()
                    return ReadinessCheck(name: "store", ok: true, detail: "writable")
                } catch {
                    return ReadinessCheck(name: "store", ok: false, detail: "not writable: \(error)")
                }
            },
            {
                do {
                    let snapshot = try store.operationsSnapshot()
                    let now = Clock.system.now().epochMilliseconds
                    let age = snapshot.oldestUnsentAt.map { (now - $0.epochMilliseconds) / 1_000 } ?? 0
                    guard age <= outboxStallSeconds else {
                        return ReadinessCheck(name: "outbox", ok: false,
                                              detail: "\(snapshot.outboxUnsent) rows unsent, the oldest for \(age) s (limit \(outboxStallSeconds) s)")
                    }
                    return ReadinessCheck(name: "outbox", ok: true, detail: "\(snapshot.outboxUnsent) rows unsent, the oldest for \(age) s")
                } catch {
                    return ReadinessCheck(name: "outbox", ok: false, detail: "cannot read the outbox: \(error)")
                }
            },
            {
                if let fatal = producer.fatalError {
                    return ReadinessCheck(name: "producer", ok: false, detail: "fatal producer error: \(fatal)")
                }
                return ReadinessCheck(name: "producer", ok: true, detail: "no fatal error")
            },
        ])
    }
}
