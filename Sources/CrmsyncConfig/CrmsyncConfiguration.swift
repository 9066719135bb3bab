import ConfigFiles
import Foundation
import Kafka

/// Logical topic roles (docs/contract.md#topics); each has a default name that config may override.
public enum TopicRole: String, Sendable, Hashable, CaseIterable, Codable {
    case crm, map, billing, product
    case golden, audit, review, dlq

    /// The default topic name.
    public var defaultName: String {
        switch self {
        case .crm: return "crm.events.v1"
        case .map: return "map.events.v1"
        case .billing: return "billing.events.v1"
        case .product: return "product.events.v1"
        case .golden: return "golden.records.v1"
        case .audit: return "audit.events.v1"
        case .review: return "review.requests.v1"
        case .dlq: return "dlq.events.v1"
        }
    }

    /// The four input topics.
    public static let sources: [TopicRole] = [.crm, .map, .billing, .product]
}

/// Everything crmsync reads from `crmsync.yml`, the `CRMSYNC_*` environment and flags.
///
/// Precedence, lowest to highest: built-in defaults, the config file, the environment,
/// command-line flags (docs/operations.md#precedence).
public struct CrmsyncConfiguration: Sendable, Hashable {
    /// `host:port,...` of the Kafka cluster.
    public var brokers: String = "localhost:9092"
    /// Path of the SQLite store.
    public var store: String = "./crmsync.sqlite"
    /// Consumer group of `crmsync run`.
    public var groupID: String = "crmsync"
    /// Extra librdkafka properties (`kafka:` section), passed through unchanged.
    public var kafka: [String: String] = [:]
    /// Topic name per role.
    public var topicNames: [TopicRole: String] = Dictionary(uniqueKeysWithValues: TopicRole.allCases.map { ($0, $0.defaultName) })
    /// Folder with the topic definitions (`topics/*.yml`).
    public var topicsDirectory: String = "topics"
    /// Per-field ownership policies.
    public var ownershipFile: String = "config/ownership.yml"
    /// Log level: trace, debug, info, notice, warning, error, critical.
    public var logLevel: String = "info"
    /// Normalize stage settings.
    public var normalize = NormalizeSettings()
    /// Backoff of transient-failure retries (docs/contract.md#transient-failures).
    public var retry = RetrySettings()
    /// Log line format: `text` (human) or `json` (one object per line).
    public var logFormat: LogFormat = .text
    /// Where `crmsync run` serves /metrics, /healthz and /readyz; nil: no HTTP server.
    public var httpAddress: HTTPAddress?
    /// How long a graceful shutdown (SIGTERM/SIGINT) may take before the process stops at once.
    public var shutdownTimeoutSeconds: Int = 30
    /// Where this configuration came from, for messages (`crmsync.yml`, `defaults`).
    public var origin: String = "defaults"

    public struct NormalizeSettings: Sendable, Hashable {
        /// ISO 3166 region for phone numbers written without a country code.
        public var defaultRegion: String = "US"
        /// Picklist and lifecycle-stage mapping tables.
        public var mappingsFile: String = "config/picklists.yml"
        /// Extra identifier values that must never serve as match keys.
        public var blockedIdentifiersFile: String = "config/blocked-identifiers.yml"
        /// Largest accepted message, in bytes; bigger ones are dead-lettered as `oversized`.
        public var maxMessageBytes: Int = 512 * 1024
        public init() {}
    }

    /// Exponential backoff with full jitter: retry n waits up to min(cap, base · 2ⁿ).
    public struct RetrySettings: Sendable, Hashable {
        public var baseMilliseconds: Int = 100
        public var capMilliseconds: Int = 30_000
        public init() {}
    }

    public init() {}

    /// The name of the topic playing `role`.
    public func topic(_ role: TopicRole) -> String {
        topicNames[role] ?? role.defaultName
    }

    /// librdkafka properties for any client: brokers plus the `kafka:` passthrough.
    public var kafkaProperties: [String: String] {
        kafka.merging(["bootstrap.servers": brokers]) { _, new in new }
    }

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public enum LogFormat: String, Sendable, Hashable, CaseIterable {
        case text, json
    }
}

/// A `HOST:PORT` to listen on (`:9464` listens on every interface; port 0 picks a free one).
public struct HTTPAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// nil unless `text` is `HOST:PORT` or `:PORT` with a port in 0...65535 (`[::1]:PORT` for IPv6).
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.contains(where: { $0.isWhitespace }) else { return nil }
        self.init(host: host.isEmpty ? "0.0.0.0" : host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Values given on the command line; `nil` means "not given".
public struct ConfigurationFlags: Sendable, Hashable {
    public var configFile: String?
    public var brokers: String?
    public var store: String?

    public init(configFile: String? = nil, brokers: String? = nil, store: String? = nil) {
        self.configFile = configFile
        self.brokers = brokers
        self.store = store
    }
}

/// Loads and validates the configuration; any problem is one ``ConfigError``.
public enum ConfigurationLoader {
    public static let defaultFile = "crmsync.yml"

    /// - Parameters:
    ///   - flags: `--config`, `--brokers`, `--store`.
    ///   - environment: usually `ProcessInfo.processInfo.environment`.
    ///   - currentDirectory: where a relative config path and the default `crmsync.yml` are looked up.
    public static func load(
        flags: ConfigurationFlags,
        environment: [String: String],
        fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) },
        readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws(ConfigError) -> CrmsyncConfiguration {
        var configuration = CrmsyncConfiguration()

        // 1. The file: --config, else CRMSYNC_CONFIG, else ./crmsync.yml when present.
        let explicitFile = flags.configFile ?? environment["CRMSYNC_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let file = explicitFile ?? (fileExists(defaultFile) ? defaultFile : nil)
        if let file {
            guard fileExists(file) else {
                let origin = flags.configFile != nil ? "--config" : "CRMSYNC_CONFIG"
                throw ConfigError(origin: origin, "config file \(file) does not exist")
            }
            let text: String
            do {
                text = try readFile(file)
            } catch {
                throw ConfigError(origin: file, "cannot read: \(error.localizedDescription)")
            }
            try apply(fileText: text, file: file, to: &configuration)
            configuration.origin = file
        }

        // 2. The environment.
        if let brokers = environment["CRMSYNC_BROKERS"], !brokers.isEmpty {
            configuration.brokers = try validatedBrokers(brokers, origin: "CRMSYNC_BROKERS")
        }
        if let store = environment["CRMSYNC_STORE"], !store.isEmpty {
            configuration.store = store
        }

        // 3. Flags.
        if let brokers = flags.brokers {
            configuration.brokers = try validatedBrokers(brokers, origin: "--brokers")
        }
        if let store = flags.store {
            guard !store.isEmpty else { throw ConfigError(origin: "--store", "must not be empty") }
            configuration.store = store
        }

        // librdkafka itself checks every property name and value now, not at first use.
        do {
            try KafkaConfiguration(configuration.kafkaProperties).validate()
        } catch {
            throw ConfigError(origin: configuration.origin, key: "kafka.\(error.property)", error.message)
        }
        return configuration
    }

    /// Applies a `crmsync.yml` document on top of `configuration`.
    public static func apply(fileText: String, file: String, to configuration: inout CrmsyncConfiguration) throws(ConfigError) {
        let root = try YAMLReader(text: fileText, file: file)
        let sections = try root.mapping(knownKeys: ["brokers", "store", "group_id", "kafka", "topics", "topics_dir", "ownership", "log_level", "normalize", "retry",
                                                         "log_format", "http_addr", "shutdown_timeout"])
        if let brokers = sections["brokers"] {
            let value = try brokers.nonEmptyString()
            guard let normalized = normalizedBrokers(value) else {
                throw brokers.error("expected host:port[,host:port...], found \"\(value)\"")
            }
            configuration.brokers = normalized
        }
        if let store = sections["store"] {
            configuration.store = try store.nonEmptyString()
        }
        if let group = sections["group_id"] {
            configuration.groupID = try group.nonEmptyString()
        }
        if let kafka = sections["kafka"] {
            for (key, value) in try kafka.entries() {
                guard key != "bootstrap.servers" else {
                    throw value.error("set brokers with the top-level `brokers:` key, CRMSYNC_BROKERS or --brokers")
                }
                let text = try value.string()
                // Check each property where it is written, so the error can name its line.
                do {
                    try KafkaConfiguration([key: text]).validate()
                } catch {
                    throw value.error(error.message)
                }
                configuration.kafka[key] = text
            }
        }
        if let topics = sections["topics"] {
            let names = try topics.mapping(knownKeys: TopicRole.allCases.map(\.rawValue))
            for role in TopicRole.allCases {
                guard let reader = names[role.rawValue] else { continue }
                let name = try reader.nonEmptyString()
                guard isValidTopicName(name) else {
                    throw reader.error("\"\(name)\" is not a valid Kafka topic name (letters, digits, '.', '_', '-'; at most 249)")
                }
                configuration.topicNames[role] = name
            }
            let distinct = Set(configuration.topicNames.values)
            guard distinct.count == TopicRole.allCases.count else {
                throw topics.error("two roles share one topic name; every role needs its own topic")
            }
        }
        if let ownership = sections["ownership"] {
            configuration.ownershipFile = try ownership.nonEmptyString()
        }
        if let directory = sections["topics_dir"] {
            configuration.topicsDirectory = try directory.nonEmptyString()
        }
        if let level = sections["log_level"] {
            let value = try level.nonEmptyString().lowercased()
            guard CrmsyncConfiguration.logLevels.contains(value) else {
                throw level.error("unknown log level \"\(value)\" (expected one of: \(CrmsyncConfiguration.logLevels.joined(separator: ", ")))")
            }
            configuration.logLevel = value
        }
        if let format = sections["log_format"] {
            let value = try format.nonEmptyString().lowercased()
            guard let parsed = CrmsyncConfiguration.LogFormat(rawValue: value) else {
                throw format.error("unknown log format \"\(value)\" (expected text or json)")
            }
            configuration.logFormat = parsed
        }
        if let address = sections["http_addr"] {
            let value = try address.nonEmptyString()
            guard let parsed = HTTPAddress(parsing: value) else {
                throw address.error("expected HOST:PORT (e.g. 127.0.0.1:9464 or :9464), found \"\(value)\"")
            }
            configuration.httpAddress = parsed
        }
        if let timeout = sections["shutdown_timeout"] {
            configuration.shutdownTimeoutSeconds = try timeout.int(in: 1...3_600)
        }
        if let retry = sections["retry"] {
            let keys = try retry.mapping(knownKeys: ["backoff_base_ms", "backoff_cap_ms"])
            if let base = keys["backoff_base_ms"] {
                configuration.retry.baseMilliseconds = try base.int(in: 1...60_000)
            }
            if let cap = keys["backoff_cap_ms"] {
                configuration.retry.capMilliseconds = try cap.int(in: 1...3_600_000)
            }
            guard configuration.retry.capMilliseconds >= configuration.retry.baseMilliseconds else {
                throw (keys["backoff_cap_ms"] ?? retry).error(
                    "backoff_cap_ms (\(configuration.retry.capMilliseconds)) must not be below backoff_base_ms (\(configuration.retry.baseMilliseconds))")
            }
        }
        if let normalize = sections["normalize"] {
            let keys = try normalize.mapping(knownKeys: ["default_region", "mappings", "blocked_identifiers", "max_message_bytes"])
            if let region = keys["default_region"] {
                let value = try region.nonEmptyString().uppercased()
                guard value.count == 2, value.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                    throw region.error("expected an ISO 3166 alpha-2 region such as US or GB, found \"\(value)\"")
                }
                configuration.normalize.defaultRegion = value
            }
            if let mappings = keys["mappings"] {
                configuration.normalize.mappingsFile = try mappings.nonEmptyString()
            }
            if let blocked = keys["blocked_identifiers"] {
                configuration.normalize.blockedIdentifiersFile = try blocked.nonEmptyString()
            }
            if let size = keys["max_message_bytes"] {
                configuration.normalize.maxMessageBytes = try size.int(in: 1_024...16 * 1024 * 1024)
            }
        }
    }

    static func validatedBrokers(_ value: String, origin: String) throws(ConfigError) -> String {
        guard let normalized = normalizedBrokers(value) else {
            throw ConfigError(origin: origin, "expected host:port[,host:port...], found \"\(value)\"")
        }
        return normalized
    }

    /// `host:port` entries, comma-separated; an optional `PLAINTEXT://`-style scheme is kept.
    static func normalizedBrokers(_ value: String) -> String? {
        let entries = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !entries.isEmpty else { return nil }
        for entry in entries {
            let hostPort = entry.range(of: "://").map { String(entry[$0.upperBound...]) } ?? entry
            guard let colon = hostPort.lastIndex(of: ":") else { return nil }
            let host = hostPort[..<colon]
            guard !host.isEmpty, let port = Int(hostPort[hostPort.index(after: colon)...]), (1...65_535).contains(port) else {
                return nil
            }
        }
        return entries.joined(separator: ",")
    }

    /// Kafka's rule for topic names.
    public static func isValidTopicName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 249, name != ".", name != ".." else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))) || scalar == "." || scalar == "_" || scalar == "-"
        }
    }
}
