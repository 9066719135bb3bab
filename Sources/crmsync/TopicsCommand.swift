import ArgumentParser
import ConfigFiles
import CrmsyncConfig
import Foundation
import Kafka
import Logging

/// `crmsync topics ...`
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Manage the topics defined in topics/.",
        subcommands: [Apply.self]
    )

    /// `crmsync topics apply [--dry-run]`
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create missing topics and verify existing ones against topics/*.yml.",
            discussion: """
            Missing topics are created (CreateTopics). Existing topics are compared (partitions,
            replication factor and, where the broker supports DescribeConfigs, each defined config);
            a difference is reported and exits 4, but is never changed: altering a production topic
            is an operator's decision. Running it again is a no-op.
            Exit codes: 0 all topics as defined, 2 bad configuration, 3 Kafka unreachable, 4 mismatch.
            """
        )

        @OptionGroup var common: CommonOptions

        @Flag(help: "Show what would be created; change nothing.")
        var dryRun = false

        @Option(help: "Create (and expect) topics with this replication factor instead of the defined one, e.g. 1 on a single-broker cluster; min.insync.replicas is capped to it.")
        var replicationFactor: Int32?

        @Flag(help: "Print the report as JSON.")
        var json = false

        func run() async throws {
            try await reportingFailures {
                let configuration = try common.load()
                if let replicationFactor, replicationFactor < 1 {
                    throw CLIFailure.usage("--replication-factor must be at least 1")
                }
                let definitions = try loadTopicDefinitions(configuration)
                let logger = Logger(label: "crmsync.topics")
                let admin: KafkaAdmin
                do {
                    admin = try KafkaAdmin(configuration: KafkaConfiguration(configuration.kafkaProperties), logger: logger)
                } catch {
                    throw CLIFailure.kafka("\(error)")
                }
                let report: TopicsApplyReport
                do {
                    report = try await TopicsApplier(admin: admin).apply(definitions, dryRun: dryRun, replicationOverride: replicationFactor)
                } catch let error as TopicsApplyError {
                    throw CLIFailure.kafka(error.description)
                } catch let error as KafkaError {
                    throw CLIFailure.kafka("cannot reach the cluster at \(configuration.brokers): \(error.message) (\(error.name))")
                }
                if json {
                    try printJSON(TopicsReportJSON(report))
                } else {
                    printReport(report)
                }
                try checkOutcome(report, brokers: configuration.brokers)
            }
        }

        private func printReport(_ report: TopicsApplyReport) {
            let width = report.checks.map(\.definition.specification.name.count).max() ?? 20
            for check in report.checks {
                let spec = TopicPlanner.effectiveSpecification(check.definition.specification, replicationOverride: replicationFactor)
                let name = spec.name.padding(toLength: width + 2, withPad: " ", startingAt: 0)
                let shape = "\(spec.partitions) partitions, replication \(spec.replicationFactor)"
                switch check.status {
                case .matches:
                    print("\(name)ok         \(shape)")
                case .missing:
                    switch report.created[spec.name] {
                    case .created?, .alreadyExists?: print("\(name)created    \(shape)")
                    case .failed(let error)?: print("\(name)FAILED     \(error.message) (\(error.name))")
                    case nil: print("\(name)\(report.dryRun ? "would create" : "missing")  \(shape)")
                    }
                case .mismatch(let differences):
                    print("\(name)MISMATCH   \(differences.joined(separator: "; "))")
                }
            }
            if report.checks.contains(where: { $0.configsUnverified && $0.status != .missing }) {
                print("note: topic configs not verified: the broker does not answer DescribeConfigs (librdkafka's mock cluster doesn't)")
            }
        }

        private func checkOutcome(_ report: TopicsApplyReport, brokers: String) throws {
            let failures = report.created.compactMap { name, outcome -> (String, KafkaError)? in
                if case .failed(let error) = outcome { return (name, error) }
                return nil
            }.sorted { $0.0 < $1.0 }
            if let (name, error) = failures.first {
                throw CLIFailure.kafka("cannot create \(name): \(error.message) (\(error.name))")
            }
            let mismatched = report.checks.filter { if case .mismatch = $0.status { return true } else { return false } }
            if !mismatched.isEmpty {
                throw CLIFailure.verification("\(mismatched.count) topic(s) differ from topics/: \(mismatched.map(\.definition.specification.name).joined(separator: ", ")); nothing was changed")
            }
        }
    }
}

/// JSON shape of `topics apply --json`.
struct TopicsReportJSON: Encodable {
    struct Topic: Encodable {
        var role: String
        var name: String
        var status: String
        var partitions: Int32
        var replicationFactor: Int32
        var differences: [String]
        var configsVerified: Bool
        var error: String?
    }
    var dryRun: Bool
    var clean: Bool
    var topics: [Topic]

    init(_ report: TopicsApplyReport) {
        dryRun = report.dryRun
        clean = report.isClean
        topics = report.checks.map { check in
            let spec = check.definition.specification
            var status = "ok"
            var differences: [String] = []
            var error: String?
            switch check.status {
            case .matches: status = "ok"
            case .mismatch(let list): status = "mismatch"; differences = list
            case .missing:
                switch report.created[spec.name] {
                case .created?, .alreadyExists?: status = "created"
                case .failed(let failure)?: status = "failed"; error = failure.description
                case nil: status = report.dryRun ? "would-create" : "missing"
                }
            }
            return Topic(role: check.definition.role.rawValue, name: spec.name, status: status, partitions: spec.partitions,
                         replicationFactor: spec.replicationFactor, differences: differences,
                         configsVerified: !check.configsUnverified, error: error)
        }
    }
}
