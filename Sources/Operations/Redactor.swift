import Foundation

/// Masks customer data in text bound for logs: email addresses, phone numbers, values of
/// personal fields in JSON fragments, and quoted input values (messages quote what a sender sent).
/// Pure and deterministic; the masks say what was there, never a part of it.
public struct Redactor: Sendable {
    public init() {}

    // Built once: NSRegularExpression is immutable and thread-safe after creation.
    private static let email = Self.regex(#"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+"#)
    /// `+` and digits, or 7+ digits with separators, or a bare run of 10–15 digits; never the
    /// digits of an `@offset`, a `[partition]`, or part of a longer token.
    private static let phone = Self.regex(#"(?<![\w@\[.\-])(\+\d[\d ().\-]{5,}\d|\(?\d{2,4}\)?[ .\-]\d{2,4}[ .\-]\d{3,5}|\d{10,15})(?![\w\]])"#)
    private static let personalField = Self.regex(
        #"("(?:first_?name|last_?name|full_?name|name|firstName|lastName|FirstName|LastName|Name|email|Email|phone|Phone|MobilePhone|mobile_phone|title|address|street|userId|anonymousId)"\s*:\s*)"(?:[^"\\]|\\.)*""#)
    /// Quoted strings, matched left to right so that each match is a whole string token.
    private static let quoted = Self.regex(#""(?:[^"\\]|\\.)*""#)

    /// `text` with every match masked.
    public func redact(_ text: String) -> String {
        guard !text.isEmpty else { return text }
        var result = text
        result = Self.replace(Self.personalField, in: result, with: "$1\"[redacted]\"")
        result = Self.replace(Self.email, in: result, with: "[email]")
        result = Self.maskQuotedValues(result)
        result = Self.replace(Self.phone, in: result, with: "[phone]")
        return result
    }

    /// An identifier a sender chose (an event id): kept as it is (ids are often long digit runs
    /// that look like phone numbers), except that an email address in it is masked.
    public func redactIdentifier(_ text: String) -> String {
        Self.replace(Self.email, in: text, with: "[email]")
    }

    /// Every non-empty quoted string that is not a JSON key (a key is followed by a colon).
    private static func maskQuotedValues(_ text: String) -> String {
        var result = ""
        var last = text.startIndex
        for match in quoted.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let range = Range(match.range, in: text) else { continue }
            let isKey = text[range.upperBound...].first { !$0.isWhitespace } == ":"
            result += text[last..<range.lowerBound]
            result += isKey || text.distance(from: range.lowerBound, to: range.upperBound) <= 2 || text[range] == "\"[redacted]\""
                ? String(text[range]) : "\"[redacted]\""
            last = range.upperBound
        }
        result += text[last...]
        return result
    }

    private static func replace(_ regex: NSRegularExpression, in text: String, with template: String) -> String {
        regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
    }

    private static func regex(_ pattern: String) -> NSRegularExpression {
        // The patterns are constants checked by the tests; a typo is a programming error.
        try! NSRegularExpression(pattern: pattern)
    }
}
