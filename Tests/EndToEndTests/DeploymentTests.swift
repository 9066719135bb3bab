import Foundation
import Testing
import Yams

/// docker-compose.yml cannot run here (no Docker engine), so its consistency is checked by
/// parsing it: services, images, listeners, ports, dependencies and the commands it runs.
@Suite("docker-compose.yml and Dockerfile")
struct DeploymentTests {
    let compose: [String: Any]
    let services: [String: [String: Any]]

    init() throws {
        let text = try String(contentsOfFile: "\(repositoryRoot)/docker-compose.yml", encoding: .utf8)
        compose = try #require(try Yams.load(yaml: text) as? [String: Any])
        services = try #require(compose["services"] as? [String: [String: Any]])
    }

    private func environment(_ service: String) -> [String: String] {
        let raw = services[service]?["environment"] as? [String: Any] ?? [:]
        return raw.mapValues { "\($0)" }
    }

    /// `NAME://host:port,...` → [NAME: "host:port"].
    private func listeners(_ value: String?) -> [String: String] {
        var result: [String: String] = [:]
        for entry in (value ?? "").split(separator: ",") {
            let parts = entry.components(separatedBy: "://")
            if parts.count == 2 { result[parts[0]] = parts[1] }
        }
        return result
    }

    @Test("the services exist: Kafka, a one-shot topics job, crmsync, Prometheus, Grafana")
    func servicesExist() {
        #expect(Set(services.keys) == ["kafka", "topics", "crmsync", "prometheus", "grafana"])
    }

    @Test("Prometheus scrapes crmsync's --http-addr port and loads the alert rules; images are pinned")
    func monitoring() throws {
        for name in ["kafka", "prometheus", "grafana"] {
            let image = try #require(services[name]?["image"] as? String)
            let tag = try #require(image.split(separator: ":").last.map(String.init), "\(name) image has a tag")
            #expect(image.contains(":") && tag != "latest" && tag.contains("."), "\(name) image is version-pinned: \(image)")
        }
        let command = try #require(services["crmsync"]?["command"] as? [String])
        let address = try #require(command.firstIndex(of: "--http-addr").map { command[$0 + 1] })
        let port = try #require(address.split(separator: ":").last.map(String.init))

        let prometheusText = try String(contentsOfFile: "\(repositoryRoot)/ops/prometheus/prometheus.yml", encoding: .utf8)
        let prometheus = try #require(try Yams.load(yaml: prometheusText) as? [String: Any])
        let jobs = try #require(prometheus["scrape_configs"] as? [[String: Any]])
        let targets = jobs.flatMap { ($0["static_configs"] as? [[String: Any]] ?? []).flatMap { $0["targets"] as? [String] ?? [] } }
        #expect(targets.contains("crmsync:\(port)"), "Prometheus scrapes the crmsync service on its --http-addr port: \(targets)")
        #expect(jobs.contains { $0["job_name"] as? String == "crmsync" }, "the alert rules select job=\"crmsync\"")

        // Every file the stack mounts exists, and the rule file Prometheus loads is mounted.
        var mounted: [String: String] = [:]
        for name in ["prometheus", "grafana"] {
            for volume in services[name]?["volumes"] as? [String] ?? [] where volume.hasPrefix("./") {
                let parts = volume.split(separator: ":").map(String.init)
                #expect(FileManager.default.fileExists(atPath: "\(repositoryRoot)/\(parts[0])"), "\(parts[0]) exists")
                mounted[parts[1]] = parts[0]
            }
        }
        let ruleFiles = prometheus["rule_files"] as? [String] ?? []
        #expect(!ruleFiles.isEmpty)
        for rule in ruleFiles {
            #expect(mounted["/etc/prometheus/\(rule)"] == "./ops/prometheus/\(rule)", "rule file \(rule) is mounted next to prometheus.yml")
        }
    }

    @Test("the alert rules and the dashboard use only metrics crmsync exports, and every alert has a runbook")
    func metricNamesAgree() throws {
        let alerts = try String(contentsOfFile: "\(repositoryRoot)/ops/prometheus/alerts.yml", encoding: .utf8)
        let dashboard = try String(contentsOfFile: "\(repositoryRoot)/ops/grafana/crmsync.json", encoding: .utf8)
        #expect(try JSONSerialization.jsonObject(with: Data(dashboard.utf8)) is [String: Any])
        var exported = ""
        for file in ["PipelineMetrics.swift", "ScrapeGauges.swift"] {
            exported += try String(contentsOfFile: "\(repositoryRoot)/Sources/Operations/\(file)", encoding: .utf8)
        }
        let pattern = try NSRegularExpression(pattern: #"crmsync_[a-z_]+"#)
        for (name, text) in [("alerts.yml", alerts), ("crmsync.json", dashboard)] {
            let used = Set(pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { Range($0.range, in: text).map { String(text[$0]) } })
            #expect(!used.isEmpty)
            for metric in used {
                // Histograms export _bucket/_sum/_count series of their base name.
                let base = metric.replacingOccurrences(of: #"_(bucket|sum|count)$"#, with: "", options: .regularExpression)
                #expect(exported.contains("\"\(base)\""), "\(name) uses \(metric), which crmsync does not export")
            }
        }
        let rules = try #require(try Yams.load(yaml: alerts) as? [String: Any])
        let groups = try #require(rules["groups"] as? [[String: Any]])
        for rule in groups.flatMap({ $0["rules"] as? [[String: Any]] ?? [] }) {
            let name = try #require(rule["alert"] as? String)
            let runbook = (rule["annotations"] as? [String: String])?["runbook_url"]
            #expect(runbook == "docs/operations.md#\(name.lowercased())", "\(name) links its runbook section")
        }
    }

    @Test("Kafka is the official apache/kafka image in KRaft mode with consistent listeners")
    func kafkaKRaft() throws {
        let kafka = try #require(services["kafka"])
        #expect((kafka["image"] as? String)?.hasPrefix("apache/kafka:") == true)
        let env = environment("kafka")
        #expect(env["KAFKA_PROCESS_ROLES"].map { Set($0.split(separator: ",").map(String.init)) } == ["broker", "controller"])
        #expect(env["KAFKA_ZOOKEEPER_CONNECT"] == nil, "KRaft: no ZooKeeper")

        let bound = listeners(env["KAFKA_LISTENERS"])
        let advertised = listeners(env["KAFKA_ADVERTISED_LISTENERS"])
        let protocols = Dictionary(uniqueKeysWithValues: (env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] ?? "").split(separator: ",").compactMap { pair -> (String, String)? in
            let parts = pair.split(separator: ":")
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        })
        for name in bound.keys { #expect(protocols[name] != nil, "listener \(name) needs a security protocol") }
        for (name, address) in advertised {
            #expect(bound[name] != nil, "advertised listener \(name) must be bound")
            #expect(address.split(separator: ":").last == bound[name]?.split(separator: ":").last, "\(name) advertises the port it binds")
        }
        let controllerName = try #require(env["KAFKA_CONTROLLER_LISTENER_NAMES"])
        let controllerPort = try #require(bound[controllerName]?.split(separator: ":").last)
        #expect(env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "\(env["KAFKA_NODE_ID"] ?? "?")@kafka:\(controllerPort)")
        #expect(advertised[controllerName] == nil, "the controller listener is not advertised to clients")
        #expect(env["KAFKA_INTER_BROKER_LISTENER_NAME"].map { advertised[$0] != nil } == true)

        // Host clients: the published port is the one the host listener advertises on localhost.
        let ports = (kafka["ports"] as? [Any])?.map { "\($0)" } ?? []
        let hostListener = try #require(advertised.first { $0.value.hasPrefix("localhost:") })
        let hostPort = try #require(hostListener.value.split(separator: ":").last)
        #expect(ports.contains("\(hostPort):\(bound[hostListener.key]?.split(separator: ":").last ?? "?")"))
        // A single node cannot hold replicated internal topics.
        #expect(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1")
        #expect(kafka["healthcheck"] != nil, "the topics job waits for a healthy broker")
    }

    @Test("crmsync services reach Kafka on the in-network listener and start in order")
    func crmsyncServices() throws {
        let advertised = listeners(environment("kafka")["KAFKA_ADVERTISED_LISTENERS"])
        let inNetwork = try #require(advertised.first { $0.value.hasPrefix("kafka:") }?.value)
        for name in ["topics", "crmsync"] {
            let service = try #require(services[name])
            #expect(environment(name)["CRMSYNC_BROKERS"] == inNetwork, "\(name) uses the in-network listener")
            #expect(service["build"] as? String == ".", "\(name) runs the image built from the Dockerfile")
            #expect(service["image"] as? String == services["topics"]?["image"] as? String)
        }
        let topicsDepends = services["topics"]?["depends_on"] as? [String: [String: String]]
        #expect(topicsDepends?["kafka"]?["condition"] == "service_healthy")
        let crmsyncDepends = services["crmsync"]?["depends_on"] as? [String: [String: String]]
        #expect(crmsyncDepends?["topics"]?["condition"] == "service_completed_successfully")
        #expect(environment("crmsync")["CRMSYNC_STORE"]?.hasPrefix("/var/lib/crmsync/") == true)
        let volumes = services["crmsync"]?["volumes"] as? [String] ?? []
        #expect(volumes.contains { $0.hasSuffix(":/var/lib/crmsync") }, "the store survives container restarts")
    }

    @Test("every command the compose file runs is one the binary accepts", arguments: ["topics", "crmsync"])
    func commandsExist(service: String) async throws {
        let command = try #require(services[service]?["command"] as? [String])
        // Ask the real binary: `crmsync <command...> --help` parses the same words.
        let result = try await crmsync(command + ["--help"])
        #expect(result.status == 0, "`crmsync \(command.joined(separator: " "))` is not a valid command: \(result.stderr)")
        // An unknown subcommand also answers --help (with the top-level usage): require its own.
        let subcommands = command.prefix { !$0.hasPrefix("-") }
        #expect(result.stdout.contains("USAGE: crmsync \(subcommands.joined(separator: " "))"), "\(result.stdout.prefix(300))")
        if service == "topics" { #expect(command.prefix(2) == ["topics", "apply"]) }
    }

    @Test("the Dockerfile builds the release binary with librdkafka and ships topics/ and config/")
    func dockerfile() throws {
        let text = try String(contentsOfFile: "\(repositoryRoot)/Dockerfile", encoding: .utf8)
        #expect(text.contains("librdkafka-dev"), "build stage has the headers")
        #expect(text.contains("librdkafka1"), "runtime stage has the library")
        #expect(text.contains("swift build -c release --product crmsync"))
        #expect(text.contains("COPY topics ./topics"))
        #expect(text.contains("ENTRYPOINT [\"crmsync\"]"))
        for line in text.split(separator: "\n") where line.hasPrefix("COPY ") && !line.contains("--from") {
            let source = line.split(separator: " ")[1]
            #expect(FileManager.default.fileExists(atPath: "\(repositoryRoot)/\(source)"), "COPY source \(source) exists")
        }
    }
}
