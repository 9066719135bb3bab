import Foundation
import Kafka
import Testing

/// Issue 14 item 3 through the binary: one writer per store whatever path names it, one store
/// per consumer group and cluster, and a demo that never touches a store holding data.
@Suite("Store ownership: lock on the file, group and cluster binding, demo on a used store", .serialized, .timeLimit(.minutes(4)))
struct StoreOwnershipTests {
    func oneLine(_ text: String) -> Bool {
        text.split(separator: "\n").count == 1
    }

    @Test("a symlink or a relative path to a locked store is refused; another group or cluster needs --adopt")
    func lockAndBinding() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-owner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = directory.appendingPathComponent("owned.sqlite").path
        let link = directory.appendingPathComponent("alias.sqlite").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: store)
        let config = try FailureSupport.writeConfig(in: directory)
        let broker = try await DevBrokerProcess()

        let first = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 10, config: config)
        #expect(await first.waitForLine(containing: "belongs to consumer group crmsync") != nil, "the first run binds the store")
        for (path, cwd) in [(link, repositoryRoot), ("owned.sqlite", directory.path)] {
            let second = try await crmsync(["run", "--brokers", broker.bootstrapServers, "--store", path, "--config", config, "--log-level", "error"], directory: cwd)
            #expect(second.status == 5, "\(path): \(second.stderr)")
            #expect(second.stderr.contains("in use") && oneLine(second.stderr), "\(path): \(second.stderr)")
        }
        #expect(await first.signal(SIGTERM) == 0)

        // Another consumer group: refused with one line unless --adopt.
        let otherGroup = directory.appendingPathComponent("other-group.yml").path
        try (String(contentsOfFile: config, encoding: .utf8) + "\ngroup_id: crmsync-other\n").write(toFile: otherGroup, atomically: true, encoding: .utf8)
        let refused = try await crmsync(["run", "--brokers", broker.bootstrapServers, "--store", link, "--config", otherGroup, "--log-level", "error"])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("--adopt") && refused.stderr.contains("crmsync-other") && oneLine(refused.stderr), "\(refused.stderr)")
        _ = try await FailureSupport.produce([ProducerMessage(topic: "crm.events.v1", key: Array("003O1".utf8), value: Array(canonicalEvent(
            "crm-o1", source: "crm", system: "salesforce", type: "contact.upserted", at: "2026-11-01T10:00:00Z", externalID: "003O1",
            fields: #"{"email":"owner.test@initech-labs.com"}"#).utf8))], to: broker.bootstrapServers)
        let adopting = try ProcessorProcess(arguments: ["run", "--brokers", broker.bootstrapServers, "--store", store, "--config", otherGroup, "--adopt"],
                                            directory: repositoryRoot)
        #expect(await adopting.waitForLine(containing: "belongs to consumer group crmsync-other") != nil)
        #expect(await adopting.waitForLine(containing: "batch committed") != nil, "the adopted store processes events")
        #expect(await adopting.signal(SIGTERM) == 0)
        _ = await broker.stop()

        // Another cluster, same group: refused too.
        let otherBroker = try await DevBrokerProcess()
        let otherCluster = try await crmsync(["run", "--brokers", otherBroker.bootstrapServers, "--store", store, "--config", otherGroup, "--log-level", "error"])
        #expect(otherCluster.status == 2, "\(otherCluster.stderr)")
        #expect(otherCluster.stderr.contains("cluster") && oneLine(otherCluster.stderr), "\(otherCluster.stderr)")
        _ = await otherBroker.stop()

        // The demo refuses a store that holds data (it would publish its outbox into a throwaway broker).
        let demo = try await crmsync(["demo", "--store", store])
        #expect(demo.status == 2, "\(demo.stderr)")
        #expect(demo.stderr.contains("holds data") && oneLine(demo.stderr), "\(demo.stderr)")
    }
}
