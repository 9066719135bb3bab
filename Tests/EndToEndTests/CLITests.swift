import Foundation
import Testing

@Suite("crmsync binary: dev-broker, topics apply, config errors", .serialized, .timeLimit(.minutes(2)))
struct CLITests {
    @Test("dev-broker + topics apply: all eight topics present; applying again is a no-op")
    func devBrokerAndTopicsApply() async throws {
        let bootstrapFile = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-bootstrap-\(UUID().uuidString)").path
        let broker = try await DevBrokerProcess(arguments: ["--bootstrap-file", bootstrapFile])
        #expect(broker.bootstrapServers.split(separator: ",").count == 3)
        #expect(broker.bootstrapServers.split(separator: ",").allSatisfy { $0.hasPrefix("127.0.0.1:") }, "loopback only")
        let written = try String(contentsOfFile: bootstrapFile, encoding: .utf8)
        #expect(written == broker.bootstrapServers + "\n")

        for _ in 0..<2 {
            let result = try await crmsync(["topics", "apply", "--brokers", broker.bootstrapServers])
            #expect(result.status == 0, "\(result.stderr)")
            let okLines = result.stdout.split(separator: "\n").filter { $0.contains(" ok ") }
            #expect(okLines.count == 8, "\(result.stdout)")
        }
        let json = try await crmsync(["topics", "apply", "--json"], environment: ["CRMSYNC_BROKERS": broker.bootstrapServers])
        #expect(json.status == 0)
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let topics = report?["topics"] as? [[String: Any]] ?? []
        #expect(Set(topics.compactMap { $0["name"] as? String }) == [
            "crm.events.v1", "map.events.v1", "billing.events.v1", "product.events.v1",
            "golden.records.v1", "audit.events.v1", "review.requests.v1", "dlq.events.v1",
        ])
        #expect(topics.allSatisfy { $0["status"] as? String == "ok" })
        #expect(report?["clean"] as? Bool == true)

        #expect(await broker.stop() == 0, "SIGTERM is a clean shutdown")
        #expect(!FileManager.default.fileExists(atPath: bootstrapFile), "the bootstrap file is removed on exit")
    }

    @Test("topics apply on an empty mock: dry run lists what it would create; a real run explains why it cannot")
    func emptyMock() async throws {
        let broker = try await DevBrokerProcess(arguments: ["--no-topics"])
        let dryRun = try await crmsync(["topics", "apply", "--dry-run", "--brokers", broker.bootstrapServers])
        #expect(dryRun.status == 0)
        #expect(dryRun.stdout.components(separatedBy: "would create").count - 1 == 8)

        let real = try await crmsync(["topics", "apply", "--brokers", broker.bootstrapServers])
        #expect(real.status == 3)
        #expect(real.stderrLines.count == 1)
        #expect(real.stderr.contains("no CreateTopics"))
        _ = await broker.stop()
    }

    @Test("dev-broker --control injects faults and creates topics on request")
    func controlChannel() async throws {
        let broker = try await DevBrokerProcess(arguments: ["--control", "--no-topics"])
        #expect(await broker.control("create-topic extra.topic 4 3") == "ok")
        #expect(await broker.control("broker-down 2") == "ok")
        #expect(await broker.control("broker-up 2") == "ok")
        #expect(await broker.control("push-errors 0 6,19") == "ok")
        #expect(await broker.control("fly-to-the-moon")?.hasPrefix("error: ") == true)
        _ = await broker.stop()
    }

    @Test("configuration errors: one line naming file, line and key; non-zero exit", arguments: [
        ("brokers: localhost:9092\nfavourite_colour: blue\n", "crmsync.yml:2:", "favourite_colour"),
        ("kafka:\n  acks: all\n  linger.msec: 5\n", "crmsync.yml:3:", "kafka.linger.msec"),
        ("kafka:\n  acks: sometimes\n", "crmsync.yml:2:", "kafka.acks"),
        ("topics:\n  dlq: 'dead letters'\n", "crmsync.yml:2:", "topics.dlq"),
    ])
    func configErrors(yaml: String, location: String, key: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(yaml.utf8).write(to: directory.appendingPathComponent("crmsync.yml"))
        let result = try await crmsync(["topics", "apply", "--dry-run"], directory: directory.path)
        #expect(result.status == 2)
        #expect(result.stderrLines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(location))
        #expect(result.stderr.contains(key))
        #expect(result.stdout.isEmpty)
    }

    @Test("bad --brokers and a missing --config are one-line errors")
    func flagErrors() async throws {
        let brokers = try await crmsync(["topics", "apply", "--brokers", "nohost"])
        #expect(brokers.status == 2)
        #expect(brokers.stderrLines == ["crmsync: error: config error: --brokers: expected host:port[,host:port...], found \"nohost\""])
        let config = try await crmsync(["topics", "apply", "--config", "/nonexistent/crmsync.yml"])
        #expect(config.status == 2)
        #expect(config.stderrLines.count == 1)
        #expect(config.stderr.contains("/nonexistent/crmsync.yml does not exist"))
    }

    @Test("run: a bad --http-addr, log_format or shutdown_timeout is one line and exit 2, before anything starts", arguments: [
        (["--http-addr", "nope"], "", "--http-addr: expected HOST:PORT"),
        ([], "log_format: xml\n", "crmsync.yml:1:"),
        ([], "shutdown_timeout: 0\n", "shutdown_timeout"),
        ([], "http_addr: 'host:70000'\n", "http_addr"),
    ])
    func runOperationsErrors(arguments: [String], yaml: String, expected: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-run-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        if !yaml.isEmpty { try Data(yaml.utf8).write(to: directory.appendingPathComponent("crmsync.yml")) }
        let store = directory.appendingPathComponent("s.sqlite").path
        let result = try await crmsync(["run", "--brokers", "127.0.0.1:1", "--store", store] + arguments, directory: directory.path)
        #expect(result.status == 2)
        #expect(result.stderrLines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: store), "nothing started")
    }

    @Test("usage errors of argument-parser (unknown option, bad value, missing value, a failed validate()) exit 2 with the usage text, not 64", arguments: [
        (["run", "--no-such-option"], "Unknown option '--no-such-option'"),
        (["run", "--batch-size", "many"], "--batch-size"),
        (["records", "get", "--email"], "Missing value for '--email"),
        (["bench", "--events", "5"], "--events must be between 100 and 10000000"),
    ])
    func usageErrorsExit2(arguments: [String], expected: String) async throws {
        let result = try await crmsync(arguments)
        #expect(result.status == 2, "\(arguments): \(result.status) \(result.stderr)")
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(result.stderr.contains("Usage: crmsync"), "the usage text helps: \(result.stderr)")
        #expect(result.stdout.isEmpty)
        let help = try await crmsync(arguments.prefix(1) + ["--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: crmsync"), "help is not an error: \(help.status)")
    }

    @Test("an unreachable cluster is a clear error, not a hang")
    func unreachableCluster() async throws {
        let result = try await crmsync(["topics", "apply", "--brokers", "127.0.0.1:1", "--log-level", "critical"])
        #expect(result.status == 3)
        #expect(result.stderrLines.count == 1)
        #expect(result.stderr.contains("cannot reach the cluster at 127.0.0.1:1"))
    }
}
