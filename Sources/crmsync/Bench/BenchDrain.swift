import Bench
import Foundation
import Kafka

/// Drains `events` workload messages through `crmsync run`: publishes them as fast as the
/// backlog allows (at most ``BenchPoint/maxBacklog`` unconsumed) and times the consumption
/// from the first committed batch to the last.
struct BenchDrain {
    let cluster: BenchCluster
    let child: BenchChild
    /// The store's consumed total before the drain.
    let baseline: Int64
    let label: String
    let progress: BenchProgress

    struct Result {
        var events: Int
        var throughput: Double
    }

    /// Gives up when the store makes no progress for this long (the child's log says why).
    static let stallSeconds: UInt64 = 120

    func run(events: Int, workload: inout Workload) async throws -> Result {
        // One message first: the clock starts once `crmsync run` has joined the group and
        // committed it, so start-up is not counted, even when the rest fits in one batch.
        try await cluster.send(workload.next().message)
        var published: Int64 = 1
        try await cluster.flush()
        var lastChange = (at: DispatchTime.now().uptimeNanoseconds, consumed: Int64(0))
        while try consumedSoFar() < 1 {
            try checkAlive(since: lastChange.at, consumed: 0, of: events)
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let start = (at: DispatchTime.now().uptimeNanoseconds, consumed: try consumedSoFar())
        lastChange = start
        var lastReport = lastChange.at
        while true {
            let consumed = try consumedSoFar()
            let now = DispatchTime.now().uptimeNanoseconds
            if consumed != lastChange.consumed { lastChange = (now, consumed) }
            if consumed >= Int64(events) { break }
            try checkAlive(since: lastChange.at, consumed: consumed, of: events)
            if now - lastReport > 1_000_000_000 {
                lastReport = now
                let rate = now > start.at ? Double(consumed - start.consumed) / (Double(now - start.at) / 1e9) : 0
                let rss = child.samplePeakRSS() / 1_048_576
                progress.line("\(label) drain: \(consumed)/\(events) consumed, \(Int(rate)) msg/s, backlog \(published - consumed), peak RSS \(rss) MB")
            }
            // Top the backlog up, then look again.
            let room = min(BenchPoint.maxBacklog - (published - consumed), Int64(events) - published)
            if room > 0 {
                for _ in 0..<min(room, 5_000) {
                    try await cluster.send(workload.next().message)
                    published += 1
                }
            } else {
                try await Task.sleep(nanoseconds: 20_000_000)
            }
        }
        try await cluster.flush()
        let end = DispatchTime.now().uptimeNanoseconds
        guard end > start.at else { return Result(events: events, throughput: 0) }
        let throughput = Double(Int64(events) - start.consumed) / (Double(end - start.at) / 1e9)
        return Result(events: events, throughput: throughput)
    }

    /// Fails when the child died or the store made no progress for ``stallSeconds``.
    private func checkAlive(since lastChange: UInt64, consumed: Int64, of events: Int) throws {
        guard child.isRunning else {
            throw CLIFailure.other("`crmsync run` stopped during the drain (\(label)); its log \(child.logPath) ends:\n\(child.logTail())")
        }
        if DispatchTime.now().uptimeNanoseconds - lastChange > Self.stallSeconds * 1_000_000_000 {
            throw CLIFailure.other("no progress for \(Self.stallSeconds) s at \(consumed)/\(events) (\(label)); see \(child.logPath):\n\(child.logTail())")
        }
    }

    private func consumedSoFar() throws -> Int64 {
        do {
            return try child.consumed() - baseline
        } catch {
            throw CLIFailure.store("cannot read the bench store \(child.storePath): \(error)")
        }
    }
}
