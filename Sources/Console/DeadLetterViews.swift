import CRMModel
import DeadLetters
import Foundation
import Kafka

/// Reads dead letters off the DLQ topic for the console (what `crmsync dlq list|show` read).
/// The store counts letters by class but keeps no bytes once published, so the letters
/// themselves come from Kafka; `crmsync run` wires a reader over its brokers.
public protocol DeadLetterBrowser: Sendable {
    /// The newest letters of `errorClass` (`nil`: every class), newest first, `page` counting
    /// from 0; `scanned` says how many letters were read to find them.
    func letters(errorClass: String?, page: Int, pageSize: Int) async throws -> DeadLetterPage
    /// The letter at `position` with the DLQ record's headers; nil when the DLQ no longer has it.
    func letter(at position: LetterPosition) async throws -> (entry: DeadLetterEntry, headers: [KafkaHeader])?
}

/// One page of letters of one class.
public struct DeadLetterPage: Sendable {
    public var entries: [DeadLetterEntry]
    public var hasMore: Bool
    /// A list reads at most this many of the newest letters per partition.
    public static let scanLimit: Int64 = 20_000

    /// Letters read from the DLQ to build the page (the newest ``scanLimit`` per partition).
    public var scanned: Int
    /// Whether older letters exist beyond what was read.
    public var truncated: Bool

    public init(entries: [DeadLetterEntry], hasMore: Bool, scanned: Int, truncated: Bool) {
        self.entries = entries
        self.hasMore = hasMore
        self.scanned = scanned
        self.truncated = truncated
    }
}

/// The dead-letter pages' contexts.
enum DeadLetterViews {
    /// Bytes as text: valid UTF-8 as is (the template escapes it), anything else as
    /// `base64:…`, like `crmsync dlq show`.
    static func printable(_ bytes: [UInt8]?) -> String {
        guard let bytes else { return "(null)" }
        if let text = String(validating: bytes, as: UTF8.self),
           !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r" }) {
            return text
        }
        return "base64:" + Data(bytes).base64EncodedString()
    }

    static func row(_ entry: DeadLetterEntry, now: Timestamp) -> [String: Any] {
        let letter = entry.letter
        return ["position": entry.position.description, "link": "/console/dead-letters/\(entry.position.partition)/\(entry.position.offset)",
                "errorClass": letter.error.errorClass.rawValue, "stage": letter.error.stage.rawValue, "message": letter.error.message,
                "original": "\(letter.originalTopic)[\(letter.originalPartition)]@\(letter.originalOffset)",
                "source": entry.source ?? "–", "failedAt": letter.failedAt.rfc3339, "age": Formatting.age(of: letter.failedAt, now: now),
                "replays": letter.replayCount]
    }

    static func detail(_ entry: DeadLetterEntry, headers: [KafkaHeader], dlqTopic: String) -> [String: Any] {
        let letter = entry.letter
        var context: [String: Any] = [
            "position": entry.position.description, "dlqTopic": dlqTopic,
            "errorClass": letter.error.errorClass.rawValue, "stage": letter.error.stage.rawValue, "message": letter.error.message,
            "field": letter.error.fieldPath ?? "–",
            "original": "\(letter.originalTopic)[\(letter.originalPartition)]@\(letter.originalOffset)",
            "source": entry.source ?? "–",
            "published": letter.originalTimestampMilliseconds.map { Timestamp(epochMilliseconds: $0).rfc3339 } ?? "–",
            "failedAt": letter.failedAt.rfc3339, "replays": letter.replayCount,
            "key": letter.key.map { printable($0) } ?? "(null)",
            "headers": headers.map { ["name": $0.name, "value": printable($0.value)] },
            "valueBytes": letter.value?.count ?? 0,
            "value": printable(letter.value),
            "classLink": "/console/dead-letters?class=\(Self.query(letter.error.errorClass.rawValue))",
        ]
        context["hasHeaders"] = !headers.isEmpty
        return context
    }

    /// A query-string value (class names are `snake_case`, but nothing is assumed).
    static func query(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
