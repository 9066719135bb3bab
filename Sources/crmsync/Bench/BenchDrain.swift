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
        var published: Int64 = 0
        var firstProgress: (at: UInt64, consumed: Int64)?
        var lastChange = (at: DispatchTime.now().uptimeNanoseconds, consumed: Int64(0))
        var lastReport = lastChange.at
        while true {
            let consumed = try consumedSoFar()
            let now = DispatchTime.now().uptimeNanoseconds
            if consumed > 0, firstProgress == nil { firstProgress = (now, consumed) }
            if consumed != lastChange.consumed { lastChange = (now, consumed) }
            if consumed >= Int64(events) { break }
            guard child.isRunning else {
                throw CLIFailure.other("`crmsync run` stopped during the drain (\(label)); its log \(child.logPath) ends:\n\(child.logTail())")
            }
            if now - lastChange.at > Self.stallSeconds * 1_000_000_000 {
                throw CLIFailure.other("no progress for \(Self.stallSeconds) s at \(consumed)/\(events) (\(label)); see \(child.logPath):\n\(child.logTail())")
            }
            if now - lastReport > 1_000_000_000 {
                lastReport = now
                let rate = firstProgress.map { now > $0.at ? Double(consumed - $0.consumed) / (Double(now - $0.at) / 1e9) : 0 } ?? 0
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
        guard let start = firstProgress, end > start.at else { return Result(events: events, throughput: 0) }
        let throughput = Double(Int64(events) - start.consumed) / (Double(end - start.at) / 1e9)
        return Result(events: events, throughput: throughput)
    }

    private func consumedSoFar() throws -> Int64 {
        do {
            return try child.consumed() - baseline
        } catch {
            throw CLIFailure.store("cannot read the bench store \(child.storePath): \(error)")
        }
    }
}
