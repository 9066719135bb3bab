import Foundation
import Logging

/// Log lines on standard error, as text or one JSON object per line, customer data masked
/// (``Redactor``) in the message and every metadata value. Keys the pipeline sets from its own
/// coordinates (topic, partition, offset, outbox row) are kept as they are; event ids too, except
/// for an email address in one.
public struct RedactingLogHandler: LogHandler {
    public enum Format: Sendable { case text, json }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: Format
    private let redactor = Redactor()
    private let write: @Sendable (String) -> Void

    /// Coordinates crmsync itself assigns: never customer data, so never masked.
    public static let coordinateKeys: Set<String> = ["topic", "partition", "offset", "event_id", "records", "outcomes", "batch",
                                                     "outbox_id", "output_topic", "ce_id", "system"]

    public init(label: String, level: Logger.Level, format: Format,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let fields = merged.mapValues { value in "\(value)" }.reduce(into: [String: String]()) { result, entry in
            result[entry.key] = entry.key == "event_id" ? redactor.redactIdentifier(entry.value)
                : Self.coordinateKeys.contains(entry.key) ? entry.value : redactor.redact(entry.value)
        }
        let message = redactor.redact("\(event.message)")
        write(render(level: event.level, message: message, fields: fields))
    }

    func render(level: Logger.Level, message: String, fields: [String: String]) -> String {
        let time = Self.timestamp()
        switch format {
        case .text:
            let meta = fields.keys.sorted().map { "\($0)=\(fields[$0] ?? "")" }.joined(separator: " ")
            return "\(time) \(level) \(label):\(meta.isEmpty ? "" : " " + meta) \(message)"
        case .json:
            var object: [String: String] = fields
            object["ts"] = time
            object["level"] = "\(level)"
            object["logger"] = label
            object["msg"] = message
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"msg":"unencodable log line"}"#
        }
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
