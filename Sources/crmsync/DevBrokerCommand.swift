import ArgumentParser
import ConfigFiles
import CrmsyncConfig
import Foundation
import Kafka
import Logging

/// `crmsync dev-broker`: librdkafka's mock cluster on loopback, with the topics of `topics/`.
struct DevBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-broker",
        abstract: "Run librdkafka's in-memory mock Kafka cluster on loopback (for development and tests).",
        discussion: """
        Prints the bootstrap servers as the first line of standard output, creates the topics
        defined in topics/ through the mock API (the mock has no CreateTopics), and runs until
        SIGINT or SIGTERM. In-memory only: about 5 MB per partition before the log head is trimmed.

        --control reads commands from standard input (one per line; answers `ok` or `error: ...`)
        and stops when standard input closes:
          create-topic NAME PARTITIONS REPLICATION
          broker-down ID | broker-up ID
          push-errors API_KEY CODE[,CODE...]      (e.g. push-errors 0 6,19: Produce fails twice)
          leader TOPIC PARTITION BROKER_ID
        """
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .customLong("broker-count"), help: "Number of mock brokers.")
    var brokerCount: Int = 3

    @Option(help: "Also write the bootstrap servers to this file (written once the topics exist; removed on exit).")
    var bootstrapFile: String?

    @Flag(help: "Start with no topics.")
    var noTopics = false

    @Flag(help: "Accept control commands on standard input; exit when it closes.")
    var control = false

    func run() async throws {
        try await reportingFailures {
            let configuration = try common.load()
            let logger = Logger(label: "crmsync.dev-broker")
            guard (1...9).contains(brokerCount) else {
                throw CLIFailure.usage("--broker-count must be between 1 and 9")
            }
            let definitions = noTopics ? [] : try loadTopicDefinitions(configuration)
            let cluster: MockCluster
            do {
                cluster = try MockCluster(brokers: brokerCount, logger: logger)
            } catch {
                throw CLIFailure.kafka("cannot start the mock cluster: \(error)")
            }
            for definition in definitions {
                var spec = definition.specification
                spec.replicationFactor = min(spec.replicationFactor, Int32(brokerCount))
                do {
                    try cluster.createTopic(spec)
                } catch {
                    throw CLIFailure.kafka("cannot create topic \(spec.name): \(error)")
                }
            }
            let bootstrap = cluster.bootstrapServers
            // The file first: whoever reads the printed line may look for the file at once.
            if let bootstrapFile {
                try writeAtomically(bootstrap + "\n", to: bootstrapFile)
            }
            writeLine(bootstrap)
            logger.notice("dev broker up: \(brokerCount) mock brokers at \(bootstrap), \(definitions.count) topics; stop with Ctrl-C")

            if control {
                await ControlChannel(cluster: cluster).serveStandardInput()
            } else {
                _ = await Lifecycle.firstSignal()
            }
            if let bootstrapFile {
                try? FileManager.default.removeItem(atPath: bootstrapFile)
            }
            logger.notice("dev broker stopped")
            withExtendedLifetime(cluster) {}
        }
    }

    private func writeAtomically(_ text: String, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            // rename(2) is atomic: a reader sees no file or the whole file, never half of it.
            guard rename(temporary, path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
            }
        } catch {
            throw CLIFailure.other("cannot write --bootstrap-file \(path): \(error.localizedDescription)")
        }
    }
}

/// Loads `topics/*.yml` for the configured names.
func loadTopicDefinitions(_ configuration: CrmsyncConfiguration) throws -> [TopicDefinition] {
    do {
        return try TopicCatalog.load(directory: configuration.topicsDirectory, configuration: configuration)
    } catch {
        throw CLIFailure.config(error)
    }
}

/// Fault injection for tests that drive a separate dev-broker process.
struct ControlChannel {
    let cluster: MockCluster

    func serveStandardInput() async {
        // readLine blocks, so it runs on its own thread rather than the cooperative pool.
        let cluster = self.cluster
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                while let line = readLine() {
                    let reply = ControlChannel.execute(line, on: cluster)
                    writeLine(reply)
                }
                continuation.resume()
            }
        }
    }

    static func execute(_ line: String, on cluster: MockCluster) -> String {
        let words = line.split(separator: " ").map(String.init)
        guard let command = words.first else { return "error: empty command" }
        do {
            switch (command, words.count) {
            case ("create-topic", 4):
                guard let partitions = Int32(words[2]), let replication = Int32(words[3]) else { return "error: create-topic NAME PARTITIONS REPLICATION" }
                try cluster.createTopic(TopicSpecification(name: words[1], partitions: partitions, replicationFactor: replication))
            case ("broker-down", 2), ("broker-up", 2):
                guard let id = Int32(words[1]) else { return "error: \(command) ID" }
                try cluster.setBroker(id, up: command == "broker-up")
            case ("push-errors", 3):
                guard let apiKey = Int16(words[1]) else { return "error: push-errors API_KEY CODE[,CODE...]" }
                let codes = words[2].split(separator: ",").compactMap { Int32($0) }
                cluster.pushRequestErrors(apiKey: KafkaAPIKey(apiKey), errors: codes)
            case ("leader", 4):
                guard let partition = Int32(words[2]), let broker = Int32(words[3]) else { return "error: leader TOPIC PARTITION BROKER_ID" }
                try cluster.setPartitionLeader(topic: words[1], partition: partition, broker: broker)
            default:
                return "error: unknown command or wrong arguments: \(line)"
            }
            return "ok"
        } catch {
            return "error: \(error)"
        }
    }
}

/// Writes one line to standard output unbuffered, so a parent process reading a pipe sees it at once.
func writeLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
