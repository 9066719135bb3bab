import ConfigFiles
import CrmsyncConfig
import Foundation
import Testing

/// Loads a configuration from an in-memory file system.
private func load(
    file: String? = nil,
    text: String? = nil,
    environment: [String: String] = [:],
    flags: ConfigurationFlags = ConfigurationFlags()
) throws(ConfigError) -> CrmsyncConfiguration {
    var files: [String: String] = [:]
    if let file, let text { files[file] = text }
    return try ConfigurationLoader.load(
        flags: flags,
        environment: environment,
        fileExists: { files[$0] != nil },
        readFile: { path in
            guard let text = files[path] else { throw CocoaError(.fileNoSuchFile) }
            return text
        }
    )
}

private func configError(_ body: () throws(ConfigError) -> CrmsyncConfiguration) -> ConfigError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

@Suite("crmsync.yml, CRMSYNC_* and flags")
struct ConfigurationLoaderTests {
    @Test("defaults without any file")
    func defaults() throws {
        let configuration = try load()
        #expect(configuration.brokers == "localhost:9092")
        #expect(configuration.store == "./crmsync.sqlite")
        #expect(configuration.topic(.dlq) == "dlq.events.v1")
        #expect(configuration.kafkaProperties == ["bootstrap.servers": "localhost:9092"])
    }

    @Test("precedence: file < environment < flags")
    func precedence() throws {
        let yaml = """
        brokers: file-host:9092
        store: /var/lib/crmsync/file.sqlite
        kafka:
          client.id: crmsync-file
          security.protocol: plaintext
        topics:
          dlq: acme.dlq.v1
        """
        let fromFile = try load(file: "crmsync.yml", text: yaml)
        #expect(fromFile.brokers == "file-host:9092")
        #expect(fromFile.kafka == ["client.id": "crmsync-file", "security.protocol": "plaintext"])
        #expect(fromFile.topic(.dlq) == "acme.dlq.v1")
        #expect(fromFile.topic(.crm) == "crm.events.v1")

        let fromEnvironment = try load(file: "crmsync.yml", text: yaml, environment: ["CRMSYNC_BROKERS": "env-host:9093", "CRMSYNC_STORE": "/tmp/env.sqlite"])
        #expect(fromEnvironment.brokers == "env-host:9093")
        #expect(fromEnvironment.store == "/tmp/env.sqlite")

        let fromFlags = try load(file: "crmsync.yml", text: yaml, environment: ["CRMSYNC_BROKERS": "env-host:9093"],
                                 flags: ConfigurationFlags(brokers: "flag-a:1,flag-b:2", store: "flag.sqlite"))
        #expect(fromFlags.brokers == "flag-a:1,flag-b:2")
        #expect(fromFlags.store == "flag.sqlite")
    }

    @Test("CRMSYNC_CONFIG and --config pick the file; a named file that is missing is an error")
    func explicitFile() throws {
        let picked = try load(file: "/etc/crmsync/prod.yml", text: "group_id: prod-group", environment: ["CRMSYNC_CONFIG": "/etc/crmsync/prod.yml"])
        #expect(picked.groupID == "prod-group")
        let missing = configError { () throws(ConfigError) in try load(flags: ConfigurationFlags(configFile: "nope.yml")) }
        #expect(missing?.description == "--config: config file nope.yml does not exist")
    }

    @Test("an unknown key fails with one line naming file, line and key")
    func unknownKey() {
        let error = configError { () throws(ConfigError) in
            try load(file: "crmsync.yml", text: "brokers: a:1\nbrokerz: b:2\n")
        }
        #expect(error?.origin == "crmsync.yml")
        #expect(error?.line == 2)
        #expect(error?.key == "brokerz")
        #expect(error?.description.hasPrefix("crmsync.yml:2:10: brokerz: unknown key (expected one of:") == true)
        #expect(error?.description.contains("\n") == false)
    }

    @Test("librdkafka rejects unknown properties and bad values at load time, with their line")
    func kafkaPassthroughValidated() {
        let unknown = configError { () throws(ConfigError) in
            try load(file: "crmsync.yml", text: "kafka:\n  acks: all\n  no.such.property: 1\n")
        }
        #expect(unknown?.line == 3)
        #expect(unknown?.key == "kafka.no.such.property")
        #expect(unknown?.message.contains("No such configuration property") == true)

        let badValue = configError { () throws(ConfigError) in
            try load(file: "crmsync.yml", text: "kafka:\n  enable.idempotence: perhaps\n")
        }
        #expect(badValue?.key == "kafka.enable.idempotence")
        #expect(badValue?.message.contains("enable.idempotence") == true)
    }

    @Test("bad values name their key", arguments: [
        ("brokers: not-a-broker", "brokers", 1),
        ("log_level: loud", "log_level", 1),
        ("topics:\n  dlq: 'has space'", "topics.dlq", 2),
        ("topics:\n  crm: same.topic\n  map: same.topic", "topics", 2),
        ("normalize:\n  default_region: USA", "normalize.default_region", 2),
        ("normalize:\n  max_message_bytes: 12", "normalize.max_message_bytes", 2),
        ("retry:\n  backoff_base_ms: 0", "retry.backoff_base_ms", 2),
        ("retry:\n  backoff_base_ms: 500\n  backoff_cap_ms: 100", "retry.backoff_cap_ms", 3),
        ("retry:\n  backoff_jitter: none", "retry.backoff_jitter", 2),
        ("kafka:\n  bootstrap.servers: x:1", "kafka.bootstrap.servers", 2),
        ("store: ''", "store", 1),
        ("log_format: xml", "log_format", 1),
        ("http_addr: 9464", "http_addr", 1),
        ("http_addr: 'localhost:99999'", "http_addr", 1),
        ("shutdown_timeout: 0", "shutdown_timeout", 1),
        ("shutdown_timeout: 30s", "shutdown_timeout", 1),
        ("brokers: [a, b]", "brokers", 1),
        ("- just\n- a list", nil, 1),
        ("brokers: a:1\nbrokers: b:2", nil, nil),
        ("kafka: {acks: all", nil, nil),
    ] as [(String, String?, Int?)])
    func badValues(text: String, key: String?, line: Int?) {
        let error = configError { () throws(ConfigError) in try load(file: "crmsync.yml", text: text) }
        #expect(error != nil, "accepted: \(text)")
        #expect(error?.origin == "crmsync.yml")
        if let key { #expect(error?.key == key) }
        if let line { #expect(error?.line == line) }
        #expect(error?.description.contains("\n") == false)
    }

    @Test("operations keys: log_format, http_addr, shutdown_timeout (defaults text, none, 30 s)")
    func operationsSettings() throws {
        let defaults = try load()
        #expect(defaults.logFormat == .text && defaults.httpAddress == nil && defaults.shutdownTimeoutSeconds == 30)
        let custom = try load(file: "crmsync.yml", text: "log_format: JSON\nhttp_addr: ':9464'\nshutdown_timeout: 5\n")
        #expect(custom.logFormat == .json)
        #expect(custom.httpAddress == HTTPAddress(host: "0.0.0.0", port: 9464))
        #expect(custom.shutdownTimeoutSeconds == 5)
        #expect(HTTPAddress(parsing: "127.0.0.1:0") == HTTPAddress(host: "127.0.0.1", port: 0))
        #expect(HTTPAddress(parsing: "[::1]:9464") == HTTPAddress(host: "::1", port: 9464))
        #expect(HTTPAddress(parsing: "[::1]:9464")?.description == "[::1]:9464")
    }

    @Test("retry backoff is configurable; defaults 100 ms base, 30 s cap")
    func retrySettings() throws {
        #expect(try load().retry == CrmsyncConfiguration.RetrySettings())
        let custom = try load(file: "crmsync.yml", text: "retry:\n  backoff_base_ms: 250\n  backoff_cap_ms: 120000\n")
        #expect(custom.retry.baseMilliseconds == 250)
        #expect(custom.retry.capMilliseconds == 120_000)
    }

    @Test("bad brokers from the environment or flags name where they came from")
    func badBrokersOrigin() {
        let env = configError { () throws(ConfigError) in try load(environment: ["CRMSYNC_BROKERS": "host-without-port"]) }
        #expect(env?.origin == "CRMSYNC_BROKERS")
        let flag = configError { () throws(ConfigError) in try load(flags: ConfigurationFlags(brokers: "h:99999")) }
        #expect(flag?.origin == "--brokers")
    }
}
