/// A configuration problem, reported as one line that says what is wrong and where:
/// `crmsync.yml:4:3: kafka.acks: Invalid value "most" for configuration property "acks"`.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file (or `environment`, `--brokers`, ...) the bad setting came from.
    public var origin: String
    /// 1-based line and column, when the setting came from a file.
    public var line: Int?
    public var column: Int?
    /// Dotted key path, e.g. `kafka.acks` or `topics.dlq`.
    public var key: String?
    public var message: String

    public init(origin: String, line: Int? = nil, column: Int? = nil, key: String? = nil, _ message: String) {
        self.origin = origin
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    public var description: String {
        var location = origin
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        if let key { return "\(location): \(key): \(message)" }
        return "\(location): \(message)"
    }
}
