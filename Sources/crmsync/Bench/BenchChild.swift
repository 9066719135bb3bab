import Bench
import CrmsyncConfig
import Foundation
import Kafka
import Store

/// `crmsync run` as a child process over one store, watched through its store (read-only) and
/// its /proc entry. Its log goes to a file in the scratch directory.
final class BenchChild: @unchecked Sendable {
    // @unchecked: `process` is set once in init and only read afterwards; `peakRSS` is guarded
    // by its Locked; the other properties are immutable.
    let storePath: String
    let logPath: String
    private let process: Process
    private let peakRSS = Locked(0)
    private let reader: Locked<SQLiteStore?> = Locked(nil)
    private let sourceTopics: [String]

    /// Writes a config for the child (absolute paths of this run's policy, mapping and topic
    /// files; short group timers) and starts `crmsync run`.
    init(configuration: CrmsyncConfiguration, storePath: String, groupID: String, scratch: URL, name: String) throws {
        self.storePath = storePath
        logPath = scratch.appendingPathComponent("\(name).log").path
        sourceTopics = TopicRole.sources.map(configuration.topic)
        let configPath = scratch.appendingPathComponent("\(name).yml").path
        try Self.configText(configuration, groupID: groupID).write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["run", "--config", configPath, "--brokers", configuration.brokers, "--store", storePath, "--log-level", "warning"]
        process.standardOutput = log
        process.standardError = log
        do {
            try process.run()
        } catch {
            throw CLIFailure.other("cannot start `crmsync run` for the bench: \(error.localizedDescription)")
        }
    }

    private static func configText(_ configuration: CrmsyncConfiguration, groupID: String) -> String {
        func absolute(_ path: String) -> String {
            URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
        }
        let topics = TopicRole.allCases.map { "  \($0.rawValue): \(configuration.topic($0))" }.joined(separator: "\n")
        return """
        group_id: \(groupID)
        ownership: \(absolute(configuration.ownershipFile))
        topics_dir: \(absolute(configuration.topicsDirectory))
        normalize:
          default_region: \(configuration.normalize.defaultRegion)
          mappings: \(absolute(configuration.normalize.mappingsFile))
          blocked_identifiers: \(absolute(configuration.normalize.blockedIdentifiersFile))
        topics:
        \(topics)
        kafka:
          session.timeout.ms: 6000
          heartbeat.interval.ms: 500
          fetch.wait.max.ms: \(BenchCluster.fetchWaitMilliseconds)

        """
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Samples the child's peak RSS (VmHWM) and returns the highest seen, in bytes.
    @discardableResult
    func samplePeakRSS() -> Int {
        if let bytes = ProcessMemory.peakResidentBytes(pid: pid) {
            return peakRSS.withLock { $0 = max($0, bytes); return $0 }
        }
        return peakRSS.withLock { $0 }
    }

    /// Source messages the store has consumed: the sum of its stored next offsets.
    func consumed() throws -> Int64 {
        try withReader { store in
            try store.read { reader in
                try sourceTopics.reduce(Int64(0)) { sum, topic in sum + (try reader.consumedOffsets(topic: topic).values.reduce(0, +)) }
            }
        }
    }

    /// Whether the outbox holds no unsent row.
    func outboxDrained() throws -> Bool {
        try withReader { store in try store.read { try $0.unsentOutbox(limit: 1).isEmpty } }
    }

    private func withReader<T>(_ body: (SQLiteStore) throws -> T) throws -> T {
        let store = try reader.withLock { reader -> SQLiteStore in
            if let reader { return reader }
            let opened = try SQLiteStore.openForReading(path: storePath)
            reader = opened
            return opened
        }
        return try body(store)
    }

    /// SIGTERM, then waits for the exit; returns the exit status.
    func stop() async -> Int32 {
        samplePeakRSS()
        reader.withLock { $0 = nil }
        if process.isRunning { process.terminate() }
        let process = self.process
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            }
        }
    }

    /// The last lines of the child's log, for error messages.
    func logTail(lines: Int = 5) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
