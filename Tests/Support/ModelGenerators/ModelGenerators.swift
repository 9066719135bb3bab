import CRMModel
import Foundation
import SeededRandom

/// Generated model values for tests that compare encodings: strings with every kind of
/// character JSON escapes (controls, quotes, backslashes, slashes, U+007F, U+2028, non-BMP),
/// decimals of many scales, all field value cases. Deterministic for a seed.
public struct ModelGenerator {
    public var random: SplitMix64

    public init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    static let pieces: [String] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{8}", "\u{C}", "\u{0}", "\u{1F}", "\u{7F}",
        "é", "e\u{301}", "\u{2028}", "\u{2029}", "😀", "Ａ", "hash", "\":\"", "<script>", "_", "-", ".",
    ]

    public mutating func string(maxPieces: Int = 8) -> String {
        let count = Int.random(in: 0...maxPieces, using: &random)
        return (0..<count).map { _ in Self.pieces.randomElement(using: &random) ?? "" }.joined()
    }

    public mutating func key() -> String {
        Bool.random(using: &random) ? ["email", "first_name", "a10", "a9", "B", "_x", "é", "e\u{301}x"].randomElement(using: &random) ?? "k"
            : string(maxPieces: 3)
    }

    public mutating func decimal() -> Decimal {
        let texts = ["0", "-0", "1.50", "0.000001", "-12345678901234567890.123", "1e30", "1e-10", "42", "-7.25", "99999999.99"]
        if Bool.random(using: &random), let text = texts.randomElement(using: &random), let value = Decimal(string: text) { return value }
        return Decimal(Int64.random(in: -1_000_000...1_000_000, using: &random)) / Decimal(Int.random(in: 1...1000, using: &random))
    }

    public mutating func timestamp() -> Timestamp {
        Timestamp(epochMilliseconds: Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &random))
    }

    public mutating func source() -> Source {
        Source.allCases.randomElement(using: &random) ?? .crm
    }

    public mutating func consent() -> ConsentRecord {
        ConsentRecord(channel: string(maxPieces: 2), purpose: Bool.random(using: &random) ? string(maxPieces: 2) : nil,
                      granted: Bool.random(using: &random), at: timestamp(), source: source(), system: string(maxPieces: 2))
    }

    public mutating func value() -> FieldValue {
        switch Int.random(in: 0..<7, using: &random) {
        case 0: .string(string())
        case 1: .number(decimal())
        case 2: .bool(Bool.random(using: &random))
        case 3: .timestamp(timestamp())
        case 4: .set(of: (0..<Int.random(in: 0...3, using: &random)).map { _ in string(maxPieces: 3) })
        case 5: .consent((0..<Int.random(in: 0...2, using: &random)).map { _ in consent() })
        default: .null
        }
    }

    public mutating func fields() -> [String: FieldValue] {
        Dictionary((0..<Int.random(in: 0...8, using: &random)).map { _ in (key(), value()) }, uniquingKeysWith: { first, _ in first })
    }

    public mutating func provenance() -> Provenance {
        Provenance(source: source(), system: string(maxPieces: 2), eventID: string(maxPieces: 3), occurredAt: timestamp(), rule: string(maxPieces: 2))
    }

    public mutating func provenances() -> [String: Provenance] {
        Dictionary((0..<Int.random(in: 0...6, using: &random)).map { _ in (key(), provenance()) }, uniquingKeysWith: { first, _ in first })
    }

    public mutating func change() -> FieldChange {
        FieldChange(field: key(), before: Bool.random(using: &random) ? value() : nil, after: Bool.random(using: &random) ? value() : nil,
                    rule: string(maxPieces: 2))
    }

    public mutating func stringLists() -> [String: [String]] {
        Dictionary((0..<Int.random(in: 0...3, using: &random)).map { _ in (key(), (0..<Int.random(in: 0...3, using: &random)).map { _ in string(maxPieces: 3) }) },
                   uniquingKeysWith: { first, _ in first })
    }

    /// The reference: what `JSONEncoder` with the documents' settings writes.
    public static func reference(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
