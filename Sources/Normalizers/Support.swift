import CRMModel

/// Small text helpers shared by the normalizers.
enum Text {
    /// Whitespace for our purposes: Unicode White_Space (spaces, tabs, newlines, NBSP, the
    /// U+2000 family), plus the zero-width characters that pasted CRM data is full of.
    static func isSpaceLike(_ character: Character) -> Bool {
        if character.isWhitespace { return true }
        return character.unicodeScalars.allSatisfy { invisible.contains($0.value) }
    }

    /// Zero-width space, word joiner, BOM: invisible, never meaningful in identifiers or names.
    private static let invisible: Set<UInt32> = [0x200B, 0x2060, 0xFEFF]

    /// The ASCII bytes that are Unicode White_Space (tab, LF, VT, FF, CR, space): for an ASCII
    /// character, the same answer as ``isSpaceLike(_:)``.
    @inline(__always)
    static func isASCIISpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    /// Trims and collapses every run of space-like characters to one ASCII space.
    static func collapseWhitespace(_ raw: String) -> String {
        collapseASCIIWhitespace(raw) ?? collapseWhitespaceByCharacter(raw)
    }

    /// ``collapseWhitespace(_:)`` of an all-ASCII string, byte by byte (no grapheme breaking or
    /// Unicode property lookups: every ASCII byte but CR LF is a character of its own, and CR LF
    /// is space either way); `raw` itself when already collapsed. nil for any non-ASCII byte.
    static func collapseASCIIWhitespace(_ raw: String) -> String? {
        var isCollapsed = true
        var afterSpace = true  // a leading space is not collapsed
        for byte in raw.utf8 {
            guard byte < 0x80 else { return nil }
            if isASCIISpace(byte) {
                if afterSpace || byte != 0x20 { isCollapsed = false }
                afterSpace = true
            } else {
                afterSpace = false
            }
        }
        if isCollapsed && !afterSpace { return raw }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.utf8.count)
        var pendingSpace = false
        for byte in raw.utf8 {
            if isASCIISpace(byte) {
                pendingSpace = !bytes.isEmpty
            } else {
                if pendingSpace { bytes.append(0x20) }
                pendingSpace = false
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// ``collapseWhitespace(_:)`` for any string, character by character.
    static func collapseWhitespaceByCharacter(_ raw: String) -> String {
        var result = ""
        result.reserveCapacity(raw.utf8.count)
        var pendingSpace = false
        for character in raw {
            if isSpaceLike(character) {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.append(" ") }
                pendingSpace = false
                result.append(character)
            }
        }
        return result
    }

    /// Trims space-like characters at both ends only.
    static func trim(_ raw: String) -> String {
        // Nothing to trim when both ends are ASCII and not space: no grapheme cluster that ends
        // in such a byte (or starts with one) begins with a space-like character.
        if let first = raw.utf8.first, let last = raw.utf8.last, first < 0x80, last < 0x80,
           !isASCIISpace(first), !isASCIISpace(last) {
            return raw
        }
        return trimByCharacter(raw)
    }

    /// ``trim(_:)`` character by character.
    static func trimByCharacter(_ raw: String) -> String {
        guard let first = raw.firstIndex(where: { !isSpaceLike($0) }),
              let last = raw.lastIndex(where: { !isSpaceLike($0) })
        else { return "" }
        return String(raw[first...last])
    }

    /// Whether every scalar is below U+0300 (ASCII, Latin-1, Latin Extended-A/B, IPA): such a
    /// string is already in NFC (none of those scalars decomposes, combines or has a combining
    /// class), so composing it would give back the same bytes.
    static func isTriviallyNFC(_ text: String) -> Bool {
        for byte in text.utf8 where byte >= 0x80 {
            // UTF-8 lead bytes 0xC2...0xCB encode U+0080...U+02FF; continuation bytes are 0x80...0xBF.
            if byte >= 0xCC { return false }
        }
        return true
    }

    /// A short, safe rendering of a user value for error messages: quoted, control characters
    /// escaped, cut at 64 characters so a huge field never floods a DLQ header.
    static func quote(_ value: String) -> String {
        var out = ""
        var count = 0
        for scalar in value.unicodeScalars {
            if count == 64 { out += "…"; break }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else if scalar == "\"" || scalar == "\\" {
                out += "\\" + String(scalar)
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return "\"" + out + "\""
    }
}

extension EventError {
    /// An `.invalidValue` failure of the normalize stage.
    static func invalid(_ field: String, _ message: String) -> EventError {
        EventError(.invalidValue, stage: .normalize, field: field, message)
    }
}
